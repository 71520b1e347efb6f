"""Where frames come from in batch mode: files and folders expanded to media, videos read frame by frame.

Folder expansion is recursive, sorted and by extension (so a run over the same
folder always yields rows in the same order), and skips hidden files: macOS
``._IMG_0001.jpg`` resource forks and half-written ``.name.tmp.jpg`` files
carry image suffixes but are not images. A path named explicitly is always
yielded, whatever its suffix or even when it does not exist, so the caller
reports it by name instead of it silently vanishing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from .image_io import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, MediaLoadError

__all__ = ["VideoLoadError", "is_video", "iter_media", "iter_video_frames", "video_fps"]


class VideoLoadError(MediaLoadError):
    """A video could not be opened or yielded no frame; the message is ``"<path>: <reason>"``."""


def is_video(path: str | Path) -> bool:
    """True for a video suffix (see :data:`engine.image_io.VIDEO_EXTENSIONS`); everything else is read as an image."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def iter_media(paths: Iterable[str | Path], *, exclude: Iterable[str | Path] = ()) -> Iterator[Path]:
    """Files named in ``paths`` as given, folders expanded recursively to their images and videos.

    Each file is yielded once, in argument order and sorted within a folder.
    Anything under a folder in ``exclude`` is skipped during expansion (the
    CLI excludes its own ``--annotate`` output so a rerun does not analyse it).
    """
    wanted = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
    excluded = [Path(p).resolve() for p in exclude]
    seen: set[Path] = set()
    for given in paths:
        given = Path(given)
        if given.is_dir():
            candidates = sorted(p for p in given.rglob("*") if _is_media_file(p, wanted, excluded, root=given))
        else:
            candidates = [given]
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                yield candidate


def _is_media_file(path: Path, suffixes: frozenset[str], excluded: list[Path], *, root: Path) -> bool:
    if path.suffix.lower() not in suffixes or not path.is_file():
        return False
    if any(part.startswith(".") for part in path.relative_to(root).parts):
        return False
    resolved = path.resolve()
    return not any(resolved.is_relative_to(folder) for folder in excluded)


def video_fps(path: str | Path, default: float = 30.0) -> float:
    """Frames per second from the container, or ``default`` when it does not say (some AVI/MJPG files)."""
    capture = cv2.VideoCapture(str(path))
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS)) if capture.isOpened() else 0.0
    finally:
        capture.release()
    return fps if 0.0 < fps < 1000.0 else default


def iter_video_frames(path: str | Path, every: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, rgb)`` for every ``every``-th frame; ``rgb`` is (H, W, 3) uint8.

    ``frame_index`` counts decoded frames from 0 in the file, so it stays the
    true index when frames are skipped. Raises :class:`VideoLoadError` naming
    the file when it cannot be opened or holds no decodable frame.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    path = Path(path)
    if not path.is_file():
        reason = "is a directory, not a video" if path.is_dir() else "file not found"
        raise VideoLoadError(f"{path}: {reason}")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise VideoLoadError(f"{path}: cannot open video (unsupported codec/container or not a video)")
        index = 0
        while True:
            if index % every == 0:
                ok, bgr = capture.read()
                if not ok or bgr is None:
                    break
                yield index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            elif not capture.grab():  # decode only: skipped frames need no colour conversion
                break
            index += 1
        if index == 0:
            raise VideoLoadError(f"{path}: no frame could be decoded")
    finally:
        capture.release()
