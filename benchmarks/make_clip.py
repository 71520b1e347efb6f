"""Compose a webcam-like demo clip from real CelebA faces, for benchmarks and video tests.

A webcam cannot run in CI, and no video may be committed, so clips are made
on demand: one or two aligned CelebA faces, upscaled ~1.6x (about 285 x 350
px, a face at arm's length from a webcam), on a neutral gradient background,
drifting slowly (pan plus slight zoom) so the tracker and the O-Net
refinement have real motion to follow. The edges of each face tile are
feathered so no hard rectangle competes with the face for the detector.

Usage::

    .venv/bin/python benchmarks/make_clip.py --out out/demo.mp4 --faces 2 --frames 300

Write clips under a git-ignored folder (``out/``); never commit them.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO_ROOT))

from attricam.engine.atomic import atomic_path  # noqa: E402 - needs the repo on sys.path
from attricam.engine.image_io import load_image  # noqa: E402
from attricam.training.config import DATA_ROOT_HELP, default_data_root  # noqa: E402

__all__ = ["DEFAULT_FACES", "default_celeba_root", "make_demo_clip"]

DEFAULT_FACES: tuple[str, ...] = ("000001.jpg", "000004.jpg")
"""Frontal train images without privacy bars or background faces (000002 has a blurred one behind her)."""
_FOURCC = {".mp4": "mp4v", ".avi": "MJPG"}
_FACE_SCALE = 1.6
_TWO_FACE_SCALE = 1.45  # two 258 px wide tiles fit a 640 px frame with room to pan
_FEATHER_PX = 14


def default_celeba_root() -> Path:
    """:func:`attricam.training.config.default_data_root`, where the tests look too."""
    return default_data_root()


def _background(width: int, height: int) -> np.ndarray:
    """A neutral grey vertical gradient with a faint warm-to-cool horizontal tint: (h, w, 3) float32."""
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :, None]
    base = 150.0 - 60.0 * ys  # lighter at the top, like a lit room
    tint = np.array([6.0, 0.0, -6.0], np.float32) * xs
    return np.clip(base + tint, 0, 255).astype(np.float32) * np.ones((1, 1, 3), np.float32)


def _feather_mask(height: int, width: int) -> np.ndarray:
    """(h, w, 1) float32 alpha: 1 inside, ramping to 0 over the last ``_FEATHER_PX`` pixels of each edge."""
    ramp_y = np.minimum(np.arange(height), np.arange(height)[::-1]) / _FEATHER_PX
    ramp_x = np.minimum(np.arange(width), np.arange(width)[::-1]) / _FEATHER_PX
    return np.clip(np.minimum(ramp_y[:, None], ramp_x[None, :]), 0.0, 1.0).astype(np.float32)[..., None]


def _paste(canvas: np.ndarray, face: np.ndarray, centre: tuple[float, float], scale: float) -> None:
    """Blend ``face`` (RGB uint8), resized by ``scale``, centred at ``centre`` onto ``canvas`` (in place)."""
    tile = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    alpha = _feather_mask(*tile.shape[:2])
    h, w = tile.shape[:2]
    x0, y0 = round(centre[0] - w / 2), round(centre[1] - h / 2)
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x0 + w, canvas.shape[1]), min(y0 + h, canvas.shape[0])
    if cx1 <= cx0 or cy1 <= cy0:
        return
    tile = tile[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    alpha = alpha[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    region = canvas[cy0:cy1, cx0:cx1]
    region[:] = region * (1.0 - alpha) + tile * alpha


def _compose(faces: list[np.ndarray], size: tuple[int, int], phase: float, background: np.ndarray) -> np.ndarray:
    """One RGB frame at ``phase`` (radians): faces evenly spaced, panning and zooming gently."""
    width, height = size
    canvas = background.copy()
    zoom = 1.0 + 0.06 * math.sin(phase)
    pan_x = 0.04 * width * math.sin(phase)
    pan_y = 0.02 * height * math.sin(2.0 * phase)
    slots = (0.5,) if len(faces) == 1 else (0.26, 0.74)  # two faces sit side by side, never overlapping
    scale = _FACE_SCALE if len(faces) == 1 else _TWO_FACE_SCALE
    for face, slot in zip(faces, slots):
        centre = (width / 2 + (slot - 0.5) * width * zoom + pan_x, height / 2 + pan_y)
        _paste(canvas, face, centre, scale * zoom)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def make_demo_clip(
    out_path: str | Path,
    celeba_root: str | Path | None = None,
    frames: int = 300,
    size: tuple[int, int] = (640, 480),
    faces: int = 1,
    fps: float = 30.0,
    names: tuple[str, ...] = DEFAULT_FACES,
) -> Path:
    """Write the clip to ``out_path`` (``.mp4``: mp4v, ``.avi``: MJPG) atomically and return the path.

    The clip is read back with ``cv2.VideoCapture`` before it replaces
    ``out_path``; a codec this OpenCV build cannot round-trip raises
    ``RuntimeError`` instead of leaving an unreadable file. ``names``: the CelebA images to use (the first
    ``faces`` of them).
    """
    out_path = Path(out_path)
    if out_path.suffix.lower() not in _FOURCC:
        raise ValueError(f"{out_path}: choose a .mp4 (mp4v) or .avi (MJPG) clip")
    if faces not in (1, 2):
        raise ValueError(f"faces must be 1 or 2, got {faces}")
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    root = Path(celeba_root) if celeba_root else default_celeba_root()
    portraits = [load_image(root / "img_align_celeba" / name) for name in names[:faces]]
    background = _background(*size)
    with atomic_path(out_path) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*_FOURCC[out_path.suffix.lower()]), fps, size)
        if not writer.isOpened():
            raise RuntimeError(f"{out_path}: OpenCV cannot write {_FOURCC[out_path.suffix.lower()]} video here")
        try:
            for t in range(frames):
                frame = _compose(portraits, size, 2.0 * math.pi * t / max(frames, 1), background)
                writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        finally:
            writer.release()
        _verify(tmp, frames, size, out_path)
    return out_path


def _verify(path: Path, frames: int, size: tuple[int, int], name: Path) -> None:
    """Read the clip back: every frame decodes at the right size."""
    capture = cv2.VideoCapture(str(path))
    try:
        decoded = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if (frame.shape[1], frame.shape[0]) != size:
                raise RuntimeError(f"{name}: frame {decoded} reads back as {frame.shape[1]}x{frame.shape[0]}")
            decoded += 1
    finally:
        capture.release()
    if decoded != frames:
        raise RuntimeError(f"{name}: wrote {frames} frames but {decoded} read back")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "out" / "demo_clip.mp4", help=".mp4 or .avi")
    parser.add_argument("--celeba", type=Path, default=None, help=f"CelebA root (default: {DATA_ROOT_HELP})")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--faces", type=int, choices=(1, 2), default=1)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), metavar=("W", "H"))
    args = parser.parse_args(argv)
    path = make_demo_clip(args.out, args.celeba, args.frames, tuple(args.size), args.faces, args.fps)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
