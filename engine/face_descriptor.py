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
MTCNN box, so training (:mod:`attricam.training.descriptors`) and inference describe faces identically.
dlib holds the GIL while it computes (~80 ms per face on one core), so live video runs it in a separate
process (:mod:`attricam.engine.descriptor_worker`).
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DESCRIPTOR_NAME",
    "DESCRIPTOR_SIZE",
    "FaceDescriptor",
    "descriptor_unavailable_reason",
    "load_face_descriptor",
]

log = logging.getLogger(__name__)

DESCRIPTOR_NAME = "dlib-resnet-v1"
"""Names the network and chip geometry; a bundle's second opinion is only fused with descriptors of this name."""
DESCRIPTOR_SIZE = 128
CHIP_SIZE = 150
CHIP_PADDING = 0.25
_LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
_NETWORK_FILE = "dlib_face_recognition_resnet_model_v1.dat"


def _models_dir() -> Path | None:
    """face-recognition-models' folder, found without importing it (its import needs pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if (folder / _LANDMARKS_FILE).is_file() and (folder / _NETWORK_FILE).is_file() else None


def descriptor_unavailable_reason() -> str | None:
    """None when the descriptor can run here, else one line saying what is missing and how to add it."""
    if importlib.util.find_spec("dlib") is None:
        return "dlib is not installed (pip install dlib-bin face-recognition-models)"
    if _models_dir() is None:
        return "face-recognition-models is not installed (pip install face-recognition-models)"
    return None


@dataclass
class FaceDescriptor:
    """dlib's 5-point predictor, chip and ResNet: RGB image + face boxes -> (n, 128) float32 descriptors."""

    landmarks_model: Any
    network: Any

    def chip(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The 150 x 150 RGB chip of the face in ``box`` (x1, y1, x2, y2, frame pixels)."""
        import dlib

        image = np.ascontiguousarray(image, np.uint8)
        x1, y1, x2, y2 = (round(float(v)) for v in box)
        shape = self.landmarks_model(image, dlib.rectangle(x1, y1, max(x2, x1 + 1), max(y2, y1 + 1)))
        return np.asarray(dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING), np.uint8)

    def describe_chips(self, chips: list[np.ndarray]) -> np.ndarray:
        """One call per chip, not dlib's batch call: a batch is no faster on a CPU and would hold the GIL for
        the whole group photo, freezing a GUI thread for seconds; one chip holds it ~80 ms."""
        vectors = [np.asarray(self.network.compute_face_descriptor(np.ascontiguousarray(c))) for c in chips]
        return np.asarray(vectors, np.float32).reshape(len(chips), DESCRIPTOR_SIZE)

    def describe(self, image: np.ndarray, boxes: np.ndarray | list[np.ndarray]) -> np.ndarray:
        """(n, 128) float32, one row per box."""
        return self.describe_chips([self.chip(image, box) for box in boxes])


_loaded: FaceDescriptor | None = None


def load_face_descriptor() -> FaceDescriptor | None:
    """The descriptor network (loaded once per process, ~0.3 s), or None when its optional packages are missing."""
    global _loaded
    if _loaded is not None:
        return _loaded
    reason = descriptor_unavailable_reason()
    if reason is not None:
        return None
    import dlib

    folder = _models_dir()
    assert folder is not None
    _loaded = FaceDescriptor(
        dlib.shape_predictor(str(folder / _LANDMARKS_FILE)), dlib.face_recognition_model_v1(str(folder / _NETWORK_FILE))
    )
    return _loaded
