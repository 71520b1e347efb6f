"""A pretrained face network's 128-D descriptor: knowledge from ~3 M faces the attribute model never saw.

The attribute model learns from the ~14,600 labelled CelebA faces of this workplace, and its ranking is
limited by them (``docs/model-limits.md``). dlib's face-recognition ResNet (Davis King; trained on about
3 million faces of ~7,500 identities; released into the public domain) describes a face's *shape* — nose,
lips, brows, age, build — in 128 numbers that transfer to attributes the small model ranks poorly
(:mod:`attricam.engine.second_opinion` turns them into logits).

It is an optional dependency (``pip install 'attricam[descriptor]'``: ``dlib-bin`` and
``face-recognition-models``, which ships the weights, so nothing is downloaded). Only the 5-point landmark
model and the recognition network of that package are used; its 68-point model (iBUG 300-W, non-commercial)
is never loaded. Without them :func:`load_face_descriptor` returns None with the reason, and callers fall
back to the attribute model alone.

The chip is dlib's own (``get_face_chip``, 150 px, padding 0.25) placed by its 5-point predictor inside the
MTCNN box, so training (:mod:`attricam.training.descriptors`) and inference describe faces identically. The
network itself runs in onnxruntime (:mod:`attricam.engine.face_network_onnx`: the same weights, the same
descriptor to 1e-6, ~4 ms per face on one core instead of dlib-bin's ~80 ms without BLAS); dlib's own network
is the fallback when the conversion fails. Live video still computes descriptors in a separate process
(:mod:`attricam.engine.descriptor_worker`) so the frame path never waits for one.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .face_models import LANDMARKS_FILE, NETWORK_FILE, models_dir, network_file

__all__ = [
    "DESCRIPTOR_NAME",
    "DESCRIPTOR_SIZE",
    "DESCRIPTOR_SIZES",
    "FaceDescriptor",
    "descriptor_unavailable_reason",
    "load_face_descriptor",
    "network_file",
]

log = logging.getLogger(__name__)

DESCRIPTOR_SIZES = {"dlib-resnet-v1": 128, "dlib-resnet-v1-grid": 1024}
"""What a probe can read, by name (network, chip geometry and layer): dlib's 128-D identity descriptor, or its
last block's 2 x 2 x 256 map, which keeps expression, hair and position (linear probes: val mean AUC 0.846
against 0.907). A bundle's second opinion names the one its probes were fitted on."""
_OUTPUT_OF = {"dlib-resnet-v1": "descriptors", "dlib-resnet-v1-grid": "grid"}
DESCRIPTOR_NAME = "dlib-resnet-v1"
"""The default for new fits and descriptor tables."""
DESCRIPTOR_SIZE = DESCRIPTOR_SIZES[DESCRIPTOR_NAME]
CHIP_SIZE = 150
CHIP_PADDING = 0.25


def descriptor_unavailable_reason() -> str | None:
    """None when the descriptor can run here, else one line saying what is missing and how to add it."""
    if importlib.util.find_spec("dlib") is None:
        return "dlib is not installed (pip install dlib-bin face-recognition-models)"
    if models_dir() is None:
        return "face-recognition-models is not installed (pip install face-recognition-models)"
    return None


@dataclass
class FaceDescriptor:
    """dlib's 5-point predictor and chip, then the ResNet: RGB image + face boxes -> (n, 128) float32 descriptors.

    ``network`` maps a (n, 150, 150, 3) uint8 stack of chips to (n, 128) descriptors: the onnxruntime graph, or
    :func:`dlib_network` around dlib's own when the conversion is not possible."""

    landmarks_model: Any
    network: Callable[[np.ndarray], np.ndarray]
    name: str = DESCRIPTOR_NAME
    """Which of :data:`DESCRIPTOR_SIZES` ``network`` computes."""

    def chip(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The 150 x 150 RGB chip of the face in ``box`` (x1, y1, x2, y2, frame pixels)."""
        import dlib

        image = np.ascontiguousarray(image, np.uint8)
        x1, y1, x2, y2 = (round(float(v)) for v in box)
        shape = self.landmarks_model(image, dlib.rectangle(x1, y1, max(x2, x1 + 1), max(y2, y1 + 1)))
        return np.asarray(dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING), np.uint8)

    def describe_chips(self, chips: list[np.ndarray]) -> np.ndarray:
        size = DESCRIPTOR_SIZES[self.name]
        if not chips:
            return np.zeros((0, size), np.float32)
        return np.asarray(self.network(np.stack(chips)), np.float32).reshape(len(chips), size)

    def describe(self, image: np.ndarray, boxes: np.ndarray | list[np.ndarray]) -> np.ndarray:
        """(n, d) float32, one row per box (d: :data:`DESCRIPTOR_SIZES` of ``name``)."""
        return self.describe_chips([self.chip(image, box) for box in boxes])


def dlib_network(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """dlib's own network, one call per chip: its batch call is no faster on a CPU and would hold the GIL for a
    whole group photo (one chip holds it ~80 ms)."""
    import dlib

    network = dlib.face_recognition_model_v1(str(path))

    def describe(chips: np.ndarray) -> np.ndarray:
        vectors = [np.asarray(network.compute_face_descriptor(np.ascontiguousarray(c))) for c in chips]
        return np.asarray(vectors, np.float32).reshape(len(chips), DESCRIPTOR_SIZE)

    return describe


def _network(path: Path, name: str) -> Callable[[np.ndarray], np.ndarray] | None:
    from .face_network_onnx import OnnxFaceNetwork

    try:
        return OnnxFaceNetwork(path, _OUTPUT_OF[name])
    except (ValueError, OSError, ImportError, RuntimeError) as error:  # an unknown .dat layout, an unwritable cache
        if name != "dlib-resnet-v1":
            log.warning("face network: onnxruntime conversion failed (%s); %s is not available", error, name)
            return None
        log.warning("face network: onnxruntime conversion failed (%s); using dlib's network (~80 ms per face)", error)
        return dlib_network(path)


_loaded: dict[str, FaceDescriptor | None] = {}


def load_face_descriptor(name: str = DESCRIPTOR_NAME) -> FaceDescriptor | None:
    """The network computing ``name`` (loaded once per process, ~0.3 s; the first use on a machine converts the
    network to ONNX, ~1 s), or None when its optional packages are missing or it cannot run here."""
    if name not in DESCRIPTOR_SIZES:
        raise ValueError(f"unknown face descriptor {name!r}: expected one of {', '.join(DESCRIPTOR_SIZES)}")
    if name in _loaded:
        return _loaded[name]
    if descriptor_unavailable_reason() is not None:
        return None
    import dlib

    folder = models_dir()
    assert folder is not None
    network = _network(folder / NETWORK_FILE, name)
    landmarks = dlib.shape_predictor(str(folder / LANDMARKS_FILE))
    _loaded[name] = None if network is None else FaceDescriptor(landmarks, network, name)
    return _loaded[name]
