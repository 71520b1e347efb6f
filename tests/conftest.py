"""Shared fixtures: where CelebA lives, a few real faces, a small random bundle."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from attricam.training.celeba import IMAGE_DIR
from attricam.training.config import DATA_ROOT_HELP, default_data_root

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent
_NO_DATA = f"no CelebA root found: looked in {DATA_ROOT_HELP}"


def find_celeba_root() -> Path | None:
    root = default_data_root()
    return root if (root / IMAGE_DIR).is_dir() else None


@pytest.fixture(scope="session")
def celeba_root() -> Path:
    root = find_celeba_root()
    if root is None:
        pytest.skip(_NO_DATA)
    return root


@pytest.fixture(scope="session")
def celeba_face_paths(celeba_root: Path) -> list[Path]:
    """Eight real train images without privacy bars (clean faces the detector must find)."""
    names = [
        "000001.jpg",
        "000002.jpg",
        "000003.jpg",
        "000004.jpg",
        "000005.jpg",
        "000006.jpg",
        "000007.jpg",
        "000008.jpg",
    ]
    paths = [celeba_root / "img_align_celeba" / n for n in names]
    present = [p for p in paths if p.is_file()]
    if len(present) < 4:
        pytest.skip(f"{celeba_root}: fewer than 4 of the expected CelebA images are present")
    return present


@pytest.fixture(scope="session")
def celeba_faces(celeba_face_paths: list[Path]) -> list[np.ndarray]:
    from attricam.engine.image_io import load_image

    return [load_image(p) for p in celeba_face_paths]


@pytest.fixture(scope="session")
def random_bundle_path(tmp_path_factory) -> Path:
    """A small untrained bundle saved with its ONNX twin (shared by tests; never modified)."""
    from attricam.engine.bundle import random_bundle
    from attricam.engine.onnx_export import export_onnx

    path = tmp_path_factory.mktemp("bundle") / "random.pt"
    bundle = random_bundle(seed=0)
    bundle.save(path)
    export_onnx(bundle, path.with_suffix(".onnx"))
    return path


def paste_face(
    face: np.ndarray, size: tuple[int, int] = (640, 480), at: tuple[int, int] = (200, 80), scale: float = 1.6
):
    """A 640x480 frame with ``face`` pasted (scaled) on a grey background: a webcam-like frame."""
    import cv2

    width, height = size
    frame = np.full((height, width, 3), 110, np.uint8)
    big = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    x, y = at
    h = min(big.shape[0], height - y)
    w = min(big.shape[1], width - x)
    frame[y : y + h, x : x + w] = big[:h, :w]
    return frame
