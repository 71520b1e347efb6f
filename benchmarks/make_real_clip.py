"""Compose a real-looking 640x360 clip: real photos and CelebA faces, camera motion, hard scene cuts.

The synthetic CelebA clip (``make_clip.py``) has one steady scene, so the full
MTCNN cascade always finds the same faces and no track ever meets another
person. Edited real footage is different: every cut brings new people (1–4
here, from 60 to 300 px), the camera pans and zooms, and a cut may put a new
face exactly where the old one was. This clip has all of that, built at run
time from ``../shared/real-photos`` and ``../shared/celeba`` (neither may be
committed, nor may the clip).

Scenes (30 fps, about 20 s): each is a slowly panning / zooming crop of one
source picture, joined by hard cuts. Two of them are the "identity swap": two
different CelebA people on the same backdrop, at the same place and size, so
a tracker matching boxes by IoU alone would hand the first person's id (and
smoothed bars) to the second.

    .venv/bin/python benchmarks/make_real_clip.py --out out/real_clip.avi
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from attricam.engine.atomic import atomic_path  # noqa: E402
from attricam.engine.image_io import load_image  # noqa: E402
from attricam.training.config import DATA_ROOT_HELP  # noqa: E402
from benchmarks.make_clip import _FOURCC, _background, _paste, _verify, default_celeba_root  # noqa: E402

__all__ = ["Scene", "CLIP_SIZE", "default_photos_root", "default_scenes", "make_real_clip", "scene_starts"]

CLIP_SIZE = (640, 360)
SWAP_FACES = ("000001.jpg", "000004.jpg")
"""The identity-swap pair: a woman and a man, both frontal, no privacy bars."""
GROUP_FACES = ("000002.jpg", "000005.jpg", "000007.jpg", "000008.jpg")


def default_photos_root() -> Path:
    return REPO_ROOT.parent / "shared" / "real-photos"


@dataclass(frozen=True)
class Scene:
    """One shot: a crop window moving from ``start`` to ``end`` over ``frames`` frames.

    A window is (centre x, centre y, width) as fractions of the source picture; its height follows
    from the clip's 16:9 aspect. ``source`` is a real-photo file name, or ``celeba:A,B,...`` for
    CelebA faces composed side by side on a neutral backdrop.
    """

    source: str
    start: tuple[float, float, float]
    end: tuple[float, float, float]
    frames: int


def default_scenes() -> tuple[Scene, ...]:
    """About 20 s: 1-4 faces per shot, 0 in one, and the identity swap in the middle."""
    swap_a, swap_b = (f"celeba:{name}" for name in SWAP_FACES)
    return (
        Scene("Tom_Cruise_avp_2014_4.jpg", (0.5, 0.5, 2.0), (0.5, 0.52, 1.7), 60),  # portrait video: pillarboxed
        Scene("2008_002506.jpg", (0.5, 0.42, 0.95), (0.53, 0.4, 0.8), 60),
        Scene(swap_a, (0.5, 0.5, 1.0), (0.5, 0.5, 0.94), 50),
        Scene(swap_b, (0.5, 0.5, 0.94), (0.5, 0.5, 0.9), 50),
        Scene("2009_004587.jpg", (0.5, 0.4, 1.6), (0.52, 0.4, 1.45), 55),
        Scene("bald_guys.jpg", (0.4, 0.56, 0.42), (0.44, 0.57, 0.38), 60),
        Scene("dogs.jpg", (0.5, 0.5, 1.0), (0.5, 0.5, 0.8), 30),
        Scene("celeba:" + ",".join(GROUP_FACES), (0.5, 0.5, 1.0), (0.5, 0.5, 0.9), 60),
        Scene("2008_001009.jpg", (0.5, 0.38, 1.35), (0.5, 0.38, 1.25), 50),
        Scene("2008_001322.jpg", (0.48, 0.55, 0.9), (0.55, 0.56, 0.8), 55),
        Scene("Tom_Cruise_avp_2014_4.jpg", (0.5, 0.52, 1.7), (0.5, 0.5, 2.0), 45),
    )


def scene_starts(scenes: tuple[Scene, ...] | None = None) -> list[int]:
    """Index of each scene's first frame (the frames right after a cut, plus frame 0)."""
    starts, total = [], 0
    for scene in scenes or default_scenes():
        starts.append(total)
        total += scene.frames
    return starts


def _celeba_backdrop(names: list[str], celeba_root: Path) -> np.ndarray:
    """CelebA faces (218 x 178 each) on the neutral gradient: up to three in a row, four as a 2 x 2 grid."""
    width, height = 960, 540  # 1.5x the clip, so the moving crop is always a downscale
    canvas = _background(width, height)
    columns = 2 if len(names) == 4 else len(names)
    rows = math.ceil(len(names) / columns)
    scale = min(2.2, 0.9 * width / (178 * columns), 0.95 * height / (218 * rows))
    for i, name in enumerate(names):
        face = load_image(celeba_root / "img_align_celeba" / name)
        row, column = divmod(i, columns)
        centre = (width * (column + 0.5) / columns, height * (row + 0.5) / rows)
        _paste(canvas, face, centre, scale)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def _source_image(scene: Scene, photos_root: Path, celeba_root: Path) -> np.ndarray:
    if scene.source.startswith("celeba:"):
        return _celeba_backdrop(scene.source.split(":", 1)[1].split(","), celeba_root)
    return load_image(photos_root / scene.source)


def _crop(image: np.ndarray, window: tuple[float, float, float], size: tuple[int, int]) -> np.ndarray:
    """The 16:9 window (fractions of the picture) resampled to ``size``; outside the picture is black."""
    h, w = image.shape[:2]
    cx, cy, fw = window
    crop_w = fw * w
    scale = size[0] / crop_w
    x0 = cx * w - crop_w / 2
    y0 = cy * h - size[1] / scale / 2
    matrix = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], np.float32)
    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def _prescaled(image: np.ndarray, scene: Scene, size: tuple[int, int]) -> np.ndarray:
    """Downscale big photos once so each frame's crop is close to 1:1 (warpAffine does not average)."""
    narrowest = min(scene.start[2], scene.end[2]) * image.shape[1]
    factor = size[0] / narrowest
    if factor >= 0.9:
        return image
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def _ease(t: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * t)


def render_scenes(scenes, photos_root: Path, celeba_root: Path, size: tuple[int, int] = CLIP_SIZE):
    """Yield RGB uint8 frames (h, w, 3) of every scene in turn."""
    for scene in scenes:
        image = _prescaled(_source_image(scene, photos_root, celeba_root), scene, size)
        for t in range(scene.frames):
            a = _ease(t / max(scene.frames - 1, 1))
            window = tuple(s + (e - s) * a for s, e in zip(scene.start, scene.end))
            yield _crop(image, window, size)


def make_real_clip(
    out_path: str | Path,
    photos_root: str | Path | None = None,
    celeba_root: str | Path | None = None,
    scenes: tuple[Scene, ...] | None = None,
    fps: float = 30.0,
) -> Path:
    """Write the clip (``.avi``: MJPG, ``.mp4``: mp4v) atomically, check it reads back, and return its path."""
    out_path = Path(out_path)
    if out_path.suffix.lower() not in _FOURCC:
        raise ValueError(f"{out_path}: choose a .mp4 (mp4v) or .avi (MJPG) clip")
    scenes = scenes or default_scenes()
    photos = Path(photos_root) if photos_root else default_photos_root()
    celeba = Path(celeba_root) if celeba_root else default_celeba_root()
    frames = 0
    with atomic_path(out_path) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*_FOURCC[out_path.suffix.lower()]), fps, CLIP_SIZE)
        if not writer.isOpened():
            raise RuntimeError(f"{out_path}: OpenCV cannot write this video format here")
        try:
            for frame in render_scenes(scenes, photos, celeba):
                writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                frames += 1
        finally:
            writer.release()
        _verify(tmp, frames, CLIP_SIZE, out_path)
    return out_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "out" / "real_clip.avi", help=".avi or .mp4")
    parser.add_argument("--photos", type=Path, default=None, help="default ../shared/real-photos")
    parser.add_argument("--celeba", type=Path, default=None, help=f"default {DATA_ROOT_HELP}")
    args = parser.parse_args(argv)
    print(make_real_clip(args.out, args.photos, args.celeba))
    return 0


if __name__ == "__main__":
    sys.exit(main())
