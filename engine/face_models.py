"""Where the pretrained face network's files are: the ``face-recognition-models`` package's ``models`` folder.

One place for both readers: :mod:`attricam.engine.face_descriptor` (landmarks, chip, descriptor) and
:mod:`attricam.engine.face_network_onnx` (the network's conversion at install). The package is found without
importing it, since its ``__init__`` needs ``pkg_resources``, which modern setuptools no longer ships.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["LANDMARKS_FILE", "NETWORK_FILE", "models_dir", "network_file"]

LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
"""dlib's 5-point landmark model (the package's 68-point one, trained on non-commercial data, is never used)."""
NETWORK_FILE = "dlib_face_recognition_resnet_model_v1.dat"


def models_dir() -> Path | None:
    """The folder holding both files, or None when face-recognition-models is not installed."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if (folder / LANDMARKS_FILE).is_file() and (folder / NETWORK_FILE).is_file() else None


def network_file() -> Path | None:
    """The recognition network's ``.dat`` file, or None when face-recognition-models is not installed."""
    folder = models_dir()
    return None if folder is None else folder / NETWORK_FILE
