"""dlib's face-recognition ResNet read from its own ``.dat`` file and run in onnxruntime.

Why: dlib-bin is built without BLAS, so its network costs ~85 ms per face on one core and holds the GIL
throughout; the same ~0.2 GMAC network in onnxruntime takes a few milliseconds and releases the GIL. The
weights stay the ones ``face-recognition-models`` installs (public domain): this module parses dlib's
serialisation (no dlib needed), folds each affine layer into its convolution, and writes an ONNX graph to a
cache folder once (``python -m attricam.engine.face_network_onnx`` at install, or lazily on first use, in
about a second). Nothing is downloaded.

The network (dlib's ``dnn_face_recognition_ex.cpp``), 150 x 150 RGB chip in, 128-D descriptor out::

    (chip - mean_rgb) / 256
    con 7x7/2 32, affine, relu, max_pool 3x3/2                     # 150 -> 72 -> 35
    3 x res 32 | res_down 64, 3 x res 64 | res_down 128, 2 x res 128
    | res_down 256, 2 x res 256 | res_down 256                      # 35 -> 17 -> 8 -> 4 -> 2
    mean over space, fc_no_bias 256 -> 128

Besides the 128-D descriptor (trained to tell identities apart, so it discards much of what is not identity),
the graph also gives the last block's 2 x 2 x 256 map flattened (``grid``, 1,024 numbers): on CelebA val a
linear probe reads the attributes from it at mean AUC 0.907 against 0.846 from the descriptor
(``experiments/face_network_layers.py``), because it keeps expression, hair and where on the face things are.

A residual block is ``relu(x + affine(con(relu(affine(con(x))))))`` with 3 x 3 convolutions; a ``res_down``
block strides its first convolution by 2 without padding and adds ``avg_pool 2x2/2`` of its input. dlib adds
tensors of different shapes over the larger shape with zeros outside the smaller one (``tt::add``): the
shortcut of the first block of a level has fewer channels, and on odd sizes the pooled shortcut is one pixel
larger than the strided branch. The graph pads explicitly to reproduce that, so descriptors agree with
``dlib.face_recognition_model_v1`` to float rounding (tests/test_face_network_onnx.py).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CHIP_SIZE",
    "OUTPUTS",
    "DlibResNet",
    "OnnxFaceNetwork",
    "build_graph",
    "cache_path",
    "ensure_exported",
    "read_dlib_resnet",
]

CHIP_SIZE = 150
OUTPUTS = ("descriptors", "grid")
"""The graph's outputs: dlib's 128-D descriptor, and the last block's map (256 x 2 x 2, channel-major)."""
_GRAPH_VERSION = 2
"""Part of the cache file's name: a new graph layout is converted again instead of read from an old file."""
_LAYER_NAME = re.compile(
    rb"\x01([\x03-\x15])(con_4|affine_|relu_|add_prev_|avg_pool_2|max_pool_2|fc_2|input_rgb_image_sized)"
)


@dataclass(frozen=True)
class Conv:
    """A convolution with its following affine layer folded in: weight (out, in, kh, kw), bias (out,)."""

    weight: np.ndarray
    bias: np.ndarray
    stride: int
    padding: int


@dataclass(frozen=True)
class ResidualBlock:
    first: Conv
    second: Conv
    downsample: bool
    """True for a ``res_down`` block: the shortcut is ``avg_pool 2x2/2`` of the input."""


@dataclass(frozen=True)
class DlibResNet:
    """The network's weights, in forward order."""

    mean_rgb: np.ndarray
    """(3,) float32, subtracted from the 0-255 chip before dividing by 256."""
    stem: Conv
    blocks: tuple[ResidualBlock, ...]
    projection: np.ndarray
    """(256, 128) float32: descriptor = mean-pooled features @ projection."""


class _Reader:
    """dlib's ``serialize``: integers as a control byte (low nibble: byte count, bit 7: sign) and little-endian
    bytes; floats as an integer mantissa and exponent; tensors (version 2) as four integer dimensions and raw
    little-endian float32."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

    def integer(self) -> int:
        control = self.data[self.pos]
        size = control & 0x0F
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def real(self) -> float:
        mantissa = self.integer()
        return float(mantissa * 2.0 ** self.integer())

    def string(self) -> str:
        size = self.integer()
        text = self.data[self.pos : self.pos + size].decode("ascii")
        self.pos += size
        return text

    def tensor(self) -> np.ndarray:
        version = self.integer()
        if version != 2:
            raise ValueError(f"dlib tensor version {version} at byte {self.pos} (expected 2)")
        shape = [self.integer() for _ in range(4)]
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, "<f4", count, self.pos).astype(np.float32)
        self.pos += 4 * count
        return values.reshape(shape)


def _layers(data: bytes) -> list[tuple[str, _Reader]]:
    """Every named layer in file order (input to output), each with a reader placed after its name. Tags, skips
    and the network's own wrappers carry no name and no weights."""
    found = []
    for match in _LAYER_NAME.finditer(data):
        if match.group(1)[0] == len(match.group(2)):
            found.append((match.group(2).decode(), _Reader(data, match.end())))
    return found


def _conv(reader: _Reader) -> tuple[np.ndarray, np.ndarray, int, int]:
    params = reader.tensor().ravel()
    filters, kh, kw, stride_y, stride_x, pad_y, pad_x = (reader.integer() for _ in range(7))
    if stride_y != stride_x or pad_y != pad_x:
        raise ValueError("anisotropic convolution: not dlib's face-recognition ResNet")
    inputs = (params.size - filters) // (filters * kh * kw)
    weight = params[: filters * inputs * kh * kw].reshape(filters, inputs, kh, kw)
    return weight, params[filters * inputs * kh * kw :], stride_y, pad_y


def _fold(conv: tuple[np.ndarray, np.ndarray, int, int], affine: np.ndarray) -> Conv:
    weight, bias, stride, padding = conv
    gamma, beta = np.split(affine.ravel(), 2)
    return Conv(weight * gamma[:, None, None, None], bias * gamma + beta, stride, padding)


def read_dlib_resnet(path: Path) -> DlibResNet:
    """Parse ``dlib_face_recognition_resnet_model_v1.dat``; raises ValueError on any other layout."""
    layers = _layers(Path(path).read_bytes())
    names = [name for name, _ in layers]
    expected_head = ["input_rgb_image_sized", "con_4", "affine_", "relu_", "max_pool_2"]
    if names[:5] != expected_head or names[-2:] != ["avg_pool_2", "fc_2"]:
        raise ValueError(f"{path}: not dlib's face-recognition ResNet (layers {names[:5]} ... {names[-2:]})")
    reader = layers[0][1]
    mean_rgb = np.array([reader.real() for _ in range(3)], np.float32)
    stem = _fold(_conv(layers[1][1]), layers[2][1].tensor())
    blocks = []
    i = 5
    while names[i] == "con_4":
        body = names[i : i + 8]
        downsample = body == ["con_4", "affine_", "relu_", "con_4", "affine_", "avg_pool_2", "add_prev_", "relu_"]
        if not downsample and body[:7] != ["con_4", "affine_", "relu_", "con_4", "affine_", "add_prev_", "relu_"]:
            raise ValueError(f"{path}: unexpected residual block {body}")
        first = _fold(_conv(layers[i][1]), layers[i + 1][1].tensor())
        second = _fold(_conv(layers[i + 3][1]), layers[i + 4][1].tensor())
        blocks.append(ResidualBlock(first, second, downsample))
        i += 8 if downsample else 7
    fc = layers[-1][1]
    outputs, inputs = fc.integer(), fc.integer()
    projection = fc.tensor().reshape(inputs, outputs)
    return DlibResNet(mean_rgb, stem, tuple(blocks), projection)


class _GraphBuilder:
    """The nodes and initializers of a graph being written, in order; each helper returns its output's name."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.weights: list[Any] = []

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def conv(self, x: str, c: Conv, name: str) -> str:
        w, b = self.const(f"{name}.w", c.weight), self.const(f"{name}.b", c.bias)
        k = c.weight.shape[-1]
        return self.node("Conv", [x, w, b], name, kernel_shape=[k, k], strides=[c.stride] * 2, pads=[c.padding] * 4)

    def pad(self, x: str, channels: int, rows: int, name: str) -> str:
        """Zeros after the last channel and below / right of the last row / column (NCHW)."""
        pads = self.const(f"{name}.pads", np.array([0, 0, 0, 0, 0, channels, rows, rows], np.int64))
        return self.node("Pad", [x, pads], name)


def _out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _stem(g: _GraphBuilder, net: DlibResNet) -> tuple[str, int, int]:
    """uint8 NHWC chips -> the stem's pooled map: (its name, side, channels)."""
    from onnx import TensorProto

    x = g.node("Cast", ["chips"], "as_float", to=TensorProto.FLOAT)
    x = g.node("Sub", [x, g.const("mean_rgb", net.mean_rgb)], "centred")
    x = g.node("Div", [x, g.const("scale", np.array(256.0, np.float32))], "scaled")
    x = g.node("Transpose", [x], "nchw", perm=[0, 3, 1, 2])
    x = g.node("Relu", [g.conv(x, net.stem, "stem")], "stem.relu")
    x = g.node("MaxPool", [x], "stem.pool", kernel_shape=[3, 3], strides=[2, 2])
    size = _out_size(_out_size(CHIP_SIZE, net.stem.weight.shape[-1], net.stem.stride, net.stem.padding), 3, 2, 0)
    return x, size, net.stem.weight.shape[0]


def _residual_block(
    g: _GraphBuilder, x: str, block: ResidualBlock, name: str, size: int, channels: int
) -> tuple[str, int, int]:
    """One block on ``x`` (side ``size``, ``channels`` deep), adding as dlib's ``tt::add`` does: zeros outside the
    smaller of branch and shortcut. Returns (output name, side, channels)."""
    y = g.node("Relu", [g.conv(x, block.first, f"{name}.conv1")], f"{name}.relu1")
    y = g.conv(y, block.second, f"{name}.conv2")
    branch_size = _out_size(_out_size(size, 3, block.first.stride, block.first.padding), 3, 1, block.second.padding)
    shortcut, shortcut_size = x, size
    if block.downsample:
        shortcut = g.node("AveragePool", [x], f"{name}.pool", kernel_shape=[2, 2], strides=[2, 2])
        shortcut_size = _out_size(size, 2, 2, 0)
    out_channels = block.second.weight.shape[0]
    if out_channels > channels:
        shortcut = g.pad(shortcut, out_channels - channels, 0, f"{name}.pad_channels")
    if shortcut_size > branch_size:
        y = g.pad(y, 0, shortcut_size - branch_size, f"{name}.pad_rows")
    elif branch_size > shortcut_size:
        shortcut = g.pad(shortcut, 0, branch_size - shortcut_size, f"{name}.pad_shortcut")
    x = g.node("Relu", [g.node("Add", [y, shortcut], f"{name}.add")], f"{name}.relu2")
    return x, max(branch_size, shortcut_size), out_channels


def _model(g: _GraphBuilder, net: DlibResNet, grid_width: int) -> Any:
    """The checked ONNX model of ``g``'s nodes, with its inputs and outputs declared (batch dimension free)."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet_v1",
        [helper.make_tensor_value_info("chips", TensorProto.UINT8, ["batch", CHIP_SIZE, CHIP_SIZE, 3])],
        [
            helper.make_tensor_value_info("descriptors", TensorProto.FLOAT, ["batch", net.projection.shape[1]]),
            helper.make_tensor_value_info("grid", TensorProto.FLOAT, ["batch", grid_width]),
        ],
        initializer=g.weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="attricam")
    model.ir_version = 8  # readable by every onnxruntime from 1.14 on
    onnx.checker.check_model(model)
    return model


def build_graph(net: DlibResNet) -> Any:
    """The ONNX model: ``chips`` (batch, 150, 150, 3) uint8 RGB -> ``descriptors`` (batch, 128) and ``grid``
    (batch, 1024) float32."""
    g = _GraphBuilder()
    x, size, channels = _stem(g, net)
    for i, block in enumerate(net.blocks):
        x, size, channels = _residual_block(g, x, block, f"block{i}", size, channels)
    g.node("Flatten", [x], "grid", axis=1)
    x = g.node("ReduceMean", [x, g.const("spatial_axes", np.array([2, 3], np.int64))], "pooled", keepdims=0)
    g.node("MatMul", [x, g.const("projection", net.projection)], "descriptors")
    return _model(g, net, channels * size * size)


def cache_path(dat_file: Path) -> Path:
    """``$ATTRICAM_CACHE/dlib-resnet-<weights hash>.onnx`` (default ``~/.cache/attricam``): new weights, new file."""
    root = Path(os.environ.get("ATTRICAM_CACHE") or Path.home() / ".cache" / "attricam")
    digest = hashlib.sha256(Path(dat_file).read_bytes()).hexdigest()[:12]
    return root / f"dlib-resnet-{digest}-g{_GRAPH_VERSION}.onnx"


def ensure_exported(dat_file: Path) -> Path:
    """The cached ONNX graph of ``dat_file``, converted first when missing (~1 s, atomic)."""
    path = cache_path(dat_file)
    if not path.is_file():
        from .atomic import atomic_path

        path.parent.mkdir(parents=True, exist_ok=True)
        model = build_graph(read_dlib_resnet(dat_file))
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(model.SerializeToString())
    return path


class OnnxFaceNetwork:
    """Chips (n, 150, 150, 3) uint8 RGB -> (n, d) float32 features of one of :data:`OUTPUTS`, one onnxruntime
    call per batch.

    ``threads`` is onnxruntime's intra-op pool: 1 for a helper process beside the live path, more for ``analyze``
    and training-time extraction."""

    def __init__(self, dat_file: Path, output: str = "descriptors", threads: int = 1) -> None:
        if output not in OUTPUTS:
            raise ValueError(f"face network output {output!r}: expected one of {', '.join(OUTPUTS)}")
        self.output = output
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(ensure_exported(dat_file)), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, chips: np.ndarray) -> np.ndarray:
        chips = np.ascontiguousarray(chips, np.uint8).reshape(-1, CHIP_SIZE, CHIP_SIZE, 3)
        if len(chips) == 0:
            width = self._session.get_outputs()[OUTPUTS.index(self.output)].shape[1]
            return np.zeros((0, width), np.float32)
        return np.asarray(self._session.run([self.output], {"chips": chips})[0], np.float32)


def main() -> None:
    """Convert the installed network once (called by ``make install``)."""
    from .face_models import network_file

    dat_file = network_file()
    if dat_file is None:
        print("face-recognition-models is not installed: nothing to convert")
        return
    print(ensure_exported(dat_file))


if __name__ == "__main__":
    main()
