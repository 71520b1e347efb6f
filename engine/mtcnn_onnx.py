"""MTCNN on onnxruntime with the cascade in numpy: face detection without importing torch.

Why: importing torch (a CUDA build here) costs ~680 MB of RSS and about a second
at launch, while MTCNN's three nets are tiny. When onnxruntime serves the
attribute model too, nothing on the live path needs torch. The nets are
exported once from facenet-pytorch's shipped weights (the only step that
imports torch; ``python -m attricam.engine.mtcnn_onnx`` at install, or lazily on first
use) into a cache folder; nothing is downloaded.

:class:`OnnxMTCNN` mirrors :class:`attricam.engine.mtcnn.MTCNNCascade` op for op in
float32 numpy (area resampling as separable window means, the same proposal,
NMS, regression and squaring steps), so its boxes, scores and landmarks agree
with the torch cascade to float rounding (tests/test_mtcnn_onnx.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import warnings
from pathlib import Path

import numpy as np

from .assets import mtcnn_weights_dir

__all__ = ["OnnxMTCNN", "cache_dir", "ensure_exported", "export_nets", "nms", "nms_min", "pyramid_scales"]

_NETS = ("pnet", "rnet", "onet")
_NORM_SHIFT = np.float32(127.5)
_NORM_SCALE = np.float32(0.0078125)


def cache_dir() -> Path:
    """``$ATTRICAM_CACHE/mtcnn-onnx-<weights hash>`` (default ``~/.cache/attricam``): new weights, new folder."""
    root = Path(os.environ.get("ATTRICAM_CACHE") or Path.home() / ".cache" / "attricam")
    digest = hashlib.sha256()
    for name in _NETS:
        digest.update((mtcnn_weights_dir() / f"{name}.pt").read_bytes())
    return root / f"mtcnn-onnx-{digest.hexdigest()[:12]}"


def export_nets(out_dir: Path) -> list[Path]:
    """Export P-, R- and O-Net to ``out_dir/{pnet,rnet,onet}.onnx`` (imports torch; atomic per file)."""
    import torch

    from .atomic import atomic_path
    from .mtcnn import ONet, PNet, RNet, _load

    out_dir.mkdir(parents=True, exist_ok=True)
    specs = {
        "pnet": (PNet, (1, 3, 60, 80), ["regression", "probs"], {0: "batch", 2: "height", 3: "width"}),
        "rnet": (RNet, (2, 3, 24, 24), ["regression", "probs"], {0: "batch"}),
        "onet": (ONet, (2, 3, 48, 48), ["regression", "landmarks", "probs"], {0: "batch"}),
    }
    paths = []
    for name, (cls, shape, outputs, axes) in specs.items():
        net = _load(cls(), name)
        path = out_dir / f"{name}.onnx"
        with (
            atomic_path(path) as tmp,
            contextlib.redirect_stdout(io.StringIO()),
            torch.no_grad(),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice: it handles these nets fine
            torch.onnx.export(
                net, (torch.zeros(shape),), str(tmp), input_names=["images"], output_names=outputs,
                dynamic_axes={"images": axes, **{o: {0: "batch"} for o in outputs}}, opset_version=17, dynamo=False,
            )  # fmt: skip
        paths.append(path)
    return paths


def ensure_exported() -> Path:
    """The cache folder holding the three ONNX nets, exporting them first when missing."""
    folder = cache_dir()
    if not all((folder / f"{name}.onnx").is_file() for name in _NETS):
        export_nets(folder)
    return folder


def _area_axis(x: np.ndarray, size_out: int, axis: int) -> np.ndarray:
    """Means over windows [floor(i*n/out), ceil((i+1)*n/out)) along ``axis``, as adaptive average pooling does.

    Window sums come from a float64 running sum, so the cost is linear in the input whatever the scale.
    """
    size_in = x.shape[axis]
    i = np.arange(size_out)
    start = (i * size_in) // size_out
    end = -((-(i + 1) * size_in) // size_out)
    shape = list(x.shape)
    shape[axis] = 1
    running = np.concatenate([np.zeros(shape), np.cumsum(x, axis=axis, dtype=np.float64)], axis=axis)
    sums = np.take(running, end, axis=axis) - np.take(running, start, axis=axis)
    counts = (end - start).reshape([-1 if k == axis else 1 for k in range(x.ndim)])
    return np.asarray(sums / counts, np.float32)


def _area_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """(3, h, w) float32 -> (3, height, width): torch's ``interpolate(mode='area')``, one axis at a time."""
    return _area_axis(_area_axis(image, height, axis=1), width, axis=2)


def _normalize(image: np.ndarray) -> np.ndarray:
    return (image - _NORM_SHIFT) * _NORM_SCALE


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy IoU NMS as torchvision's CPU kernel does it; kept indices, best first. ``attricam.engine.mtcnn.nms`` wraps it."""
    if len(boxes) == 0:
        return np.empty((0,), np.int64)
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    suppressed = np.zeros(len(order), bool)
    keep = []
    for position, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[position + 1 :]
        w = np.maximum(np.float32(0), np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(np.float32(0), np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        overlap = inter / (areas[i] + areas[rest] - inter)
        suppressed[rest[overlap.astype(np.float64) > threshold]] = True
    return np.asarray(keep, np.int64)


def nms_min(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """facenet-pytorch's ``nms_numpy(..., 'Min')``: overlap over the smaller area, pixel-inclusive (+1).

    boxes (n, 4), scores (n,) float32. Returns kept indices (k,), best score first.
    """
    if boxes.size == 0:
        return np.empty((0,), dtype=np.int64)
    x1, y1, x2, y2 = (boxes[:, j].copy() for j in range(4))
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores)  # ascending; the best is last
    keep = []
    while order.size > 0:
        i = order[-1]
        keep.append(i)
        rest = order[:-1]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        overlap = w * h / np.minimum(area[i], area[rest])
        order = rest[overlap <= threshold]
    return np.asarray(keep, dtype=np.int64)


def pyramid_scales(h: int, w: int, min_face_size: float, factor: float) -> list[float]:
    """Image pyramid: the smallest face maps to P-Net's 12 px, then shrink by ``factor`` down to 12 px."""
    m = 12.0 / min_face_size
    min_side = min(h, w) * m
    scales, scale = [], m
    while min_side >= 12:
        scales.append(scale)
        scale *= factor
        min_side *= factor
    return scales


def _proposals(reg: np.ndarray, probs: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """P-Net maps reg (4, h', w'), probs (h', w') -> candidates (n, 9): box, score, 4 offsets."""
    mask = probs >= threshold
    rows, cols = np.nonzero(mask)
    xy = np.stack([cols, rows], axis=1).astype(np.float32)  # (n, 2)
    q1 = np.floor((2 * xy + 1) / np.float32(scale))
    q2 = np.floor((2 * xy + 12) / np.float32(scale))
    return np.concatenate([q1, q2, probs[mask][:, None], reg[:, mask].T], axis=1).astype(np.float32)


def _bbreg(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    boxes = boxes.copy()
    boxes[:, :4] = np.stack([boxes[:, 0] + reg[:, 0] * w, boxes[:, 1] + reg[:, 1] * h,
                             boxes[:, 2] + reg[:, 2] * w, boxes[:, 3] + reg[:, 3] * h], axis=1)  # fmt: skip
    return boxes


def _rerec(boxes: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    h = boxes[:, 3] - boxes[:, 1]
    w = boxes[:, 2] - boxes[:, 0]
    side = np.maximum(w, h)
    boxes[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    boxes[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    boxes[:, 2:4] = boxes[:, :2] + side[:, None]
    return boxes


def _crops(image: np.ndarray, boxes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Crops of boxes from image (3, h, w) -> (m, 3, size, size) normalized, and which boxes (m,); 1-based clipping."""
    h, w = image.shape[1:3]
    corners = np.trunc(boxes[:, :4]).astype(np.int64)
    x, y = np.maximum(corners[:, 0], 1), np.maximum(corners[:, 1], 1)
    ex, ey = np.minimum(corners[:, 2], w), np.minimum(corners[:, 3], h)
    valid = np.flatnonzero((ey > y - 1) & (ex > x - 1))
    patches = [_area_resize(image[:, y[k] - 1 : ey[k], x[k] - 1 : ex[k]], size, size) for k in valid]
    if not patches:
        return np.zeros((0, 3, size, size), np.float32), valid
    return _normalize(np.stack(patches)), valid


class OnnxMTCNN:
    """The three-stage MTCNN on onnxruntime; same interface and output as ``MTCNNCascade``."""

    def __init__(
        self,
        min_face_size: int = 20,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
        factor: float = 0.709,
        folder: Path | None = None,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort

        self.min_face_size = min_face_size
        self.thresholds = tuple(thresholds)
        self.factor = factor
        folder = folder or ensure_exported()
        options = ort.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = threads or 1  # tiny nets: one thread each beats thread-pool overhead
        self._sessions = {
            name: ort.InferenceSession(str(folder / f"{name}.onnx"), options, providers=["CPUExecutionProvider"])
            for name in _NETS
        }

    def _run(self, name: str, images: np.ndarray) -> list[np.ndarray]:
        outputs: list[np.ndarray] = self._sessions[name].run(None, {"images": np.ascontiguousarray(images, np.float32)})
        return outputs

    def run_onet(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n, 3, 48, 48) normalized -> regression (n, 4), landmarks (n, 10), probs (n, 2)."""
        reg, points, probs = self._run("onet", patches)
        return reg, points, probs

    def _cascade(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (h, w, 3) -> boxes (n, 5), landmarks (n, 5, 2), as ``MTCNNCascade._cascade``."""
        t = self.thresholds
        image = np.ascontiguousarray(rgb.transpose(2, 0, 1), np.float32)  # (3, h, w)
        h, w = image.shape[1:3]
        empty = (np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32))

        per_scale = []
        for scale in pyramid_scales(h, w, self.min_face_size, self.factor):
            scaled = _normalize(_area_resize(image, int(h * scale + 1), int(w * scale + 1)))
            reg, probs = self._run("pnet", scaled[None])
            found = _proposals(reg[0], probs[0, 1], scale, t[0])
            per_scale.append(found[nms(found[:, :4], found[:, 4], 0.5)])
        if not per_scale:
            return empty
        boxes = np.concatenate(per_scale)
        boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
        if len(boxes) == 0:
            return empty
        w_reg = boxes[:, 2] - boxes[:, 0]
        h_reg = boxes[:, 3] - boxes[:, 1]
        refined = np.stack([boxes[:, 0] + boxes[:, 5] * w_reg, boxes[:, 1] + boxes[:, 6] * h_reg,
                            boxes[:, 2] + boxes[:, 7] * w_reg, boxes[:, 3] + boxes[:, 8] * h_reg, boxes[:, 4]], axis=1)  # fmt: skip
        boxes = _rerec(refined)

        data, valid = _crops(image, boxes, 24)
        if len(valid) == 0:
            return empty
        boxes = boxes[valid]
        reg, probs = self._run("rnet", data)
        score = probs[:, 1]
        passed = score > t[1]
        boxes = np.concatenate([boxes[passed, :4], score[passed, None]], axis=1)
        reg = reg[passed]
        pick = nms(boxes[:, :4], boxes[:, 4], 0.7)
        boxes = _rerec(_bbreg(boxes[pick], reg[pick]))
        if len(boxes) == 0:
            return empty

        data, valid = _crops(image, boxes, 48)
        if len(valid) == 0:
            return empty
        boxes = boxes[valid]
        reg, points, probs = self.run_onet(data)
        score = probs[:, 1]
        passed = score > t[2]
        points = points[passed]  # (n, 10)
        boxes = np.concatenate([boxes[passed, :4], score[passed, None]], axis=1)
        reg = reg[passed]
        w_i = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
        h_i = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
        points_x = w_i * points[:, :5] + boxes[:, 0:1] - 1
        points_y = h_i * points[:, 5:] + boxes[:, 1:2] - 1
        points = np.stack([points_x, points_y], axis=2).astype(np.float32)  # (n, 5, 2)
        boxes = _bbreg(boxes, reg)
        pick = nms_min(boxes[:, :4], boxes[:, 4], 0.7)
        return boxes[pick], points[pick]

    def detect(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | tuple[None, None, None]:
        """RGB uint8 (h, w, 3) -> boxes (n, 4), probs (n,), landmarks (n, 5, 2), float32, largest first."""
        boxes, points = self._cascade(rgb)
        if len(boxes) == 0:
            return None, None, None
        order = np.argsort((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))[::-1]
        boxes, points = boxes[order].astype(np.float32), points[order]
        return np.ascontiguousarray(boxes[:, :4]), np.ascontiguousarray(boxes[:, 4]), np.ascontiguousarray(points)


if __name__ == "__main__":
    print(ensure_exported())
