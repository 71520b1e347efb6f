"""Where frames come from in batch mode: files and folders expanded to media, videos read frame by frame.

Folder expansion is recursive (symbolically linked subfolders included, each real
folder once), sorted and by extension (so a run over the same
folder always yields rows in the same order), and skips hidden files: macOS
``._IMG_0001.jpg`` resource forks and half-written ``.name.tmp.jpg`` files
carry image suffixes but are not images. A path named explicitly is always
yielded, whatever its suffix or even when it does not exist, so the caller
reports it by name instead of it silently vanishing. Broken symbolic links
(dangling or looping) inside a folder are yielded too when their name looks
like media, so the reader names them instead of them being skipped silently.

Video decoding runs with the native output silenced: FFmpeg (or OpenCV's relay
of its log) writes lines such as ``[mjpeg @ 0x...] overread 8`` straight to file
descriptors 2 or 1, below Python,
and those would break the CLI's one-line-per-problem output. What matters is
reported instead: :class:`VideoFrames` counts the frames read against the
frames the container declares, so a truncated file says it ended early.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # read by OpenCV's FFmpeg backend when it first starts

import cv2
import numpy as np

from .image_io import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, MediaLoadError, display_name, not_a_file_reason

log = logging.getLogger(__name__)

__all__ = [
    "MAX_VIDEO_PIXELS",
    "VideoFrames",
    "VideoLoadError",
    "VideoReader",
    "is_video",
    "iter_media",
    "iter_video_frames",
    "video_fps",
]


class VideoLoadError(MediaLoadError):
    """A video could not be opened or yielded no frame; the message is ``"<path>: <reason>"``."""


def is_video(path: str | Path) -> bool:
    """True for a video suffix (see :data:`attricam.engine.image_io.VIDEO_EXTENSIONS`); everything else is read as an image."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def iter_media(
    paths: Iterable[str | Path],
    *,
    exclude: Iterable[str | Path] = (),
    on_error: Callable[[Path, OSError], None] | None = None,
) -> Iterator[Path]:
    """Files named in ``paths`` as given, folders expanded recursively to their images and videos.

    Each file is yielded once, in argument order and sorted within a folder.
    Anything under a folder in ``exclude`` is skipped during expansion (the
    CLI excludes its own ``--annotate`` output so a rerun does not analyse it).
    Subfolders that are symbolic links are followed (each real folder is walked
    once, so a link cycle ends); a folder that cannot be listed is passed to
    ``on_error`` (default: a logged warning) instead of vanishing without a word.
    """
    wanted = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
    excluded = [Path(p).resolve() for p in exclude]
    report = on_error or _warn_unreadable
    seen: set[Path] = set()
    for given in paths:
        given = Path(given)
        if _is_dir(given):
            candidates = sorted(_walk_media(given, wanted, excluded, report))
        else:
            candidates = [given]
        for candidate in candidates:
            key = _identity(candidate)
            if key not in seen:
                seen.add(key)
                yield candidate


def _is_dir(path: Path) -> bool:
    """``path.is_dir()`` that answers False instead of raising (a path inside an unreadable folder)."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _warn_unreadable(folder: Path, error: OSError) -> None:
    log.warning(
        "%s: cannot read this folder (%s); its files are skipped", display_name(folder), error.strerror or error
    )


def _walk_media(
    root: Path, suffixes: frozenset[str], excluded: list[Path], report: Callable[[Path, OSError], None]
) -> Iterator[Path]:
    walked: set[tuple[int, int]] = set()

    def unreadable(error: OSError) -> None:
        report(Path(error.filename) if error.filename else root, error)

    for folder, dirs, files in os.walk(root, onerror=unreadable, followlinks=True):
        try:
            st = os.stat(folder)
        except OSError:
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in walked:  # a link back to a folder already walked: a cycle, or a second way in
            dirs[:] = []
            continue
        walked.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = Path(folder) / name
            if _is_media_file(path, suffixes, excluded, root=root):
                yield path


def _identity(path: Path) -> Path:
    """The resolved path, for de-duplication; a symlink loop has none, so it stands for itself."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError("Symlink loop from ...")
        return path.absolute()


def _is_media_file(path: Path, suffixes: frozenset[str], excluded: list[Path], *, root: Path) -> bool:
    if path.suffix.lower() not in suffixes:
        return False
    try:
        if not path.is_file() and not (path.is_symlink() and not path.exists()):  # a broken link is kept: named later
            return False
    except OSError:  # listed but not searchable: kept, so the reader names it with the reason
        pass
    if any(part.startswith(".") for part in path.relative_to(root).parts):
        return False
    resolved = _identity(path)
    return not any(resolved.is_relative_to(folder) for folder in excluded)


@contextlib.contextmanager
def native_output_silenced() -> Iterator[None]:
    """Point file descriptors 1 and 2 at /dev/null for a native call (FFmpeg logs there, bypassing Python)."""
    saved: list[tuple[int, int]] = []
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            for fd in (1, 2):
                saved.append((fd, os.dup(fd)))
                os.dup2(null, fd)
        finally:
            os.close(null)
    except (OSError, ValueError):  # no usable descriptors (a GUI without console): nothing to silence
        pass
    try:
        yield
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)


MAX_VIDEO_PIXELS = 40_000_000
"""Largest video frame (width x height): 8K UHD (33 MP) and a margin. Decoding one frame costs about
10 bytes a pixel (FFmpeg's YUV, OpenCV's BGR, our RGB), so a 16,000² MJPG (3 MB on disk) would take
2.6 GB per frame; a video cannot be decoded at a reduced size, so larger frames are refused."""


def _too_large(path: Path, width: int, height: int) -> str:
    return (
        f"{display_name(path)}: {width}x{height} frames are {width * height / 1e6:.0f} megapixels, "
        f"more than the {MAX_VIDEO_PIXELS / 1e6:.0f} megapixel limit for video"
    )


class VideoReader:
    """One open video file: the only place AttriCam drives ``cv2.VideoCapture`` for a file.

    Batch analysis (:class:`VideoFrames`), the benchmark and the desktop's video source all read through
    it, so every caller gets the same RGB frames and the same errors. Raises :class:`VideoLoadError`
    naming the file when it cannot be opened. ``quiet`` silences FFmpeg's native output around each call
    (:func:`native_output_silenced`); that redirects descriptors 1 and 2 for the whole process, so a
    multi-threaded caller (the GUI) passes ``quiet=False`` rather than lose other threads' output.
    """

    def __init__(self, path: str | Path, *, quiet: bool = True) -> None:
        self.path = Path(path)
        self._quiet = quiet
        if reason := not_a_file_reason(self.path):  # a FIFO or mode-000 file would read as a bad codec
            raise VideoLoadError(
                f"{display_name(self.path)}: {reason}{', not a video' if reason == 'is a directory' else ''}"
            )
        with self._silenced():
            self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            self._capture.release()
            raise VideoLoadError(
                f"{display_name(self.path)}: cannot open video (unsupported codec/container, truncated or not a video)"
            )
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.0 < fps < 1000.0 else 0.0
        """Frames per second the container declares; 0.0 when it does not say (some AVI/MJPG files)."""
        self.frame_count = max(0, int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        """Frame count in the container's header; 0 when it does not say."""
        width, height = (
            int(self._capture.get(prop) or 0) for prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT)
        )
        if width * height > MAX_VIDEO_PIXELS:  # known from the header, before a frame is decoded
            self._capture.release()
            raise VideoLoadError(_too_large(self.path, width, height))

    def read(self) -> np.ndarray | None:
        """The next frame, (H, W, 3) uint8 RGB, or None at the end of the file."""
        with self._silenced():
            ok, bgr = self._capture.read()
        if not ok or bgr is None:
            return None
        if bgr.shape[0] * bgr.shape[1] > MAX_VIDEO_PIXELS:  # the header understated it: refuse before converting
            raise VideoLoadError(_too_large(self.path, bgr.shape[1], bgr.shape[0]))
        return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def grab(self) -> bool:
        """Decode the next frame without converting it (a skipped frame); False at the end of the file."""
        with self._silenced():
            return bool(self._capture.grab())

    def seek(self, index: int) -> None:
        """Make frame ``index`` (0-based) the next one :meth:`read` returns."""
        with self._silenced():
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)

    def close(self) -> None:
        self._capture.release()

    def _silenced(self) -> contextlib.AbstractContextManager[None]:
        return native_output_silenced() if self._quiet else contextlib.nullcontext()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def video_fps(path: str | Path, default: float = 30.0) -> float:
    """Frames per second from the container, or ``default`` when it does not say (some AVI/MJPG files)."""
    try:
        with VideoReader(path) as reader:
            return reader.fps or default
    except VideoLoadError:
        return default


class VideoFrames:
    """``(frame_index, rgb)`` for every ``every``-th frame; after the loop, how many frames the file gave.

    ``frame_index`` counts decoded frames from 0 in the file, so it stays the
    true index when frames are skipped; ``rgb`` is (H, W, 3) uint8. Iterating
    raises :class:`VideoLoadError` naming the file when it cannot be opened or
    holds no decodable frame.
    """

    def __init__(self, path: str | Path, every: int = 1) -> None:
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.path = Path(path)
        self.every = every
        self.frames_read = 0
        """Frames decoded (analysed or skipped by ``every``) before the file ended."""
        self.frames_declared = 0
        """Frame count in the container's header; 0 when it does not say."""

    @property
    def ended_early(self) -> bool:
        """True when the file stopped before the frame count its header declares (truncated or corrupt)."""
        return 0 < self.frames_read < self.frames_declared

    def shortfall_message(self) -> str:
        return (
            f"{display_name(self.path)}: file ended early: {self.frames_read} of {self.frames_declared} "
            "frames read (truncated or corrupt); rows cover the frames read"
        )

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        with VideoReader(self.path) as reader:
            self.frames_declared = reader.frame_count
            index = 0
            while True:
                if index % self.every == 0:
                    rgb = reader.read()
                    if rgb is None:
                        break
                    self.frames_read = index + 1
                    yield index, rgb
                else:
                    if not reader.grab():  # decode only: skipped frames need no colour conversion
                        break
                    self.frames_read = index + 1
                index += 1
            if index == 0:
                raise VideoLoadError(f"{display_name(self.path)}: no frame could be decoded")


def iter_video_frames(path: str | Path, every: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """:class:`VideoFrames` as a plain iterator, for callers that do not need the counts."""
    return iter(VideoFrames(path, every))
