"""Frame sources for the live tab: cameras, video files and still-image filmstrips.

Qt-free on purpose: the live worker owns one source at a time and calls it from
its own thread. Every source yields RGB uint8 frames of shape (h, w, 3).
"""

from __future__ import annotations

import glob
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import cv2
import numpy as np

from attricam.engine.image_io import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, load_image
from attricam.engine.sources import VideoLoadError, VideoReader, iter_media

__all__ = [
    "CAMERA_RESOLUTIONS",
    "CameraSource",
    "FrameSource",
    "ImageSequenceSource",
    "SourceError",
    "SourceKind",
    "SourceSpec",
    "VideoFileSource",
    "classify_paths",
    "is_video_path",
    "open_source",
    "probe_cameras",
    "wait_interruptibly",
]

_MAX_SKIP = 15
"""At most this many late video frames are skipped per read (keeps a stalled machine from seeking forever)."""

CAMERA_RESOLUTIONS: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720), (1920, 1080), (320, 240))


class SourceError(RuntimeError):
    """A source cannot be opened or read; the message is shown to the user as is."""


class SourceKind(StrEnum):
    """What a source is; the value is its name in a saved source (:meth:`SourceSpec.to_text`)."""

    CAMERA = "camera"
    VIDEO = "video"
    IMAGES = "images"
    """A filmstrip: still images, and videos that play on Space."""


@dataclass(frozen=True)
class SourceSpec:
    """What to open. Serialisable to QSettings as text."""

    kind: SourceKind
    paths: tuple[str, ...] = ()
    camera: int = 0
    resolution: tuple[int, int] = (640, 480)
    start: int = 0
    """Filmstrips: the item shown first (coming back from a video played out of the strip)."""

    @property
    def label(self) -> str:
        if self.kind == SourceKind.CAMERA:
            return f"Camera {self.camera} ({self.resolution[0]}x{self.resolution[1]})"
        if self.kind == SourceKind.VIDEO:
            return Path(self.paths[0]).name
        if len(self.paths) == 1:
            return Path(self.paths[0]).name
        videos = sum(is_video_path(p) for p in self.paths)
        images = f"{len(self.paths) - videos} images"
        return images + (f" + {videos} video{'s' if videos > 1 else ''}" if videos else "")

    def to_text(self) -> str:
        if self.kind == SourceKind.CAMERA:
            return f"{self.kind}:{self.camera}:{self.resolution[0]}x{self.resolution[1]}"
        return f"{self.kind}:" + os.pathsep.join(self.paths)

    @classmethod
    def from_text(cls, text: str) -> SourceSpec | None:
        kind, _, rest = (text or "").partition(":")
        try:
            if kind == SourceKind.CAMERA:
                index, _, res = rest.partition(":")
                w, _, h = res.partition("x")
                return cls(SourceKind.CAMERA, camera=int(index), resolution=(int(w or 640), int(h or 480)))
            if kind in (SourceKind.VIDEO, SourceKind.IMAGES) and rest:
                return cls(SourceKind(kind), paths=tuple(rest.split(os.pathsep)))
        except ValueError:
            return None
        return None

    def exists(self) -> bool:
        return self.kind == SourceKind.CAMERA or all(Path(p).is_file() for p in self.paths)


def is_video_path(path: str) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def classify_paths(paths: list[str]) -> SourceSpec | None:
    """Dropped or chosen files and folders -> a source, or None when nothing in them is usable.

    Folders are expanded recursively like ``attricam analyze`` (:func:`attricam.engine.sources.iter_media`: sorted,
    hidden files skipped). One video alone plays; anything more (images, several videos, a folder of both) is a
    filmstrip in which a video shows its first frame and plays on Space (the same files ``analyze`` reads).
    """
    named = [Path(p) for p in paths]
    files = [str(p) for p in iter_media([p for p in named if p.exists()]) if p.is_file()]
    media = [p for p in files if Path(p).suffix.lower() in IMAGE_EXTENSIONS or is_video_path(p)]
    if len(media) == 1 and is_video_path(media[0]):
        return SourceSpec(SourceKind.VIDEO, paths=(media[0],))
    if media:
        return SourceSpec(SourceKind.IMAGES, paths=tuple(media))
    if files:  # unknown extension named explicitly: let the image loader name the problem
        return SourceSpec(SourceKind.IMAGES, paths=tuple(files))
    return None


def probe_cameras(max_index: int = 4) -> list[int]:
    """Indices of cameras that open, probing cv2.VideoCapture 0..max_index-1.

    On Linux only /dev/video* nodes that exist are probed, so a machine without
    a camera answers at once instead of waiting on timeouts.
    """
    indices: Sequence[int] = range(max_index)
    if sys.platform.startswith("linux"):
        nodes = {int(p[len("/dev/video") :]) for p in glob.glob("/dev/video*") if p[len("/dev/video") :].isdigit()}
        indices = [i for i in indices if i in nodes]
    found = []
    for index in indices:
        capture = cv2.VideoCapture(index)
        try:
            if capture.isOpened() and capture.read()[0]:
                found.append(index)
        finally:
            capture.release()
    return found


class FrameSource:
    """Base class. ``read`` returns the next RGB frame or ``None`` at the end / on loss."""

    live: bool = False
    """Frames arrive in real time and carry tracking (camera, video)."""
    still: bool = False
    """Each frame is an independent photo; processed once, stepped by the user."""
    frame_interval: float = 0.0
    """Seconds between frames for paced playback; 0 = as fast as possible."""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec

    def read(self) -> np.ndarray | None:
        raise NotImplementedError

    def seconds_until_due(self) -> float:
        """How long to wait before the next frame is due (paced playback); <= 0 means read now."""
        return 0.0

    def restart_clock(self) -> None:
        """Forget the playback clock (after a pause), so playback does not race to catch up."""

    def close(self) -> None:
        pass

    @property
    def position(self) -> str:
        return ""


class CameraSource(FrameSource):
    live = True

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        self._capture: cv2.VideoCapture | None = None
        self.open()

    def open(self) -> None:
        self.close()
        capture = cv2.VideoCapture(self.spec.camera)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"Camera {self.spec.camera} cannot be opened")
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.spec.resolution[0])
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.spec.resolution[1])
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # latest frame wins, also inside the driver
        self._capture = capture

    def read(self) -> np.ndarray | None:
        if self._capture is None:
            return None
        ok, frame = self._capture.read()
        if not ok or frame is None:
            return None
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class VideoFileSource(FrameSource):
    live = True

    def __init__(self, spec: SourceSpec, *, loop: bool = True, realtime: bool = True) -> None:
        super().__init__(spec)
        path = spec.paths[0]
        if not Path(path).is_file():
            raise SourceError(f"{path}: video file not found")
        try:
            self._video = VideoReader(path, quiet=False)  # fd juggling would swallow other threads' output
        except VideoLoadError:
            raise SourceError(f"{path}: not a readable video") from None
        if self._video.read() is None:
            self._video.close()
            raise SourceError(f"{path}: not a readable video")
        self._video.seek(0)
        fps = self._video.fps
        self.frame_interval = 1.0 / fps if realtime and 1.0 <= fps <= 240.0 else 0.0
        self.frame_count = self._video.frame_count
        self._loop = loop
        self._index = 0
        self._clock: float | None = None  # perf_counter time of frame 0 on the playback clock

    def seconds_until_due(self) -> float:
        if not self.frame_interval or self._clock is None:
            return 0.0
        return self._clock + self._index * self.frame_interval - time.perf_counter()

    def restart_clock(self) -> None:
        self._clock = None

    @property
    def loop(self) -> bool:
        """Start again at frame 0 after the last frame (else ``read`` returns None there)."""
        return self._loop

    @loop.setter
    def loop(self, value: bool) -> None:
        self._loop = bool(value)

    @property
    def frame_number(self) -> int:
        """1-based number of the frame last read (0 before the first): what the position label shows."""
        return self._index

    def seek(self, index: int) -> None:
        """Make frame ``index`` (0-based, clamped to the clip) the next one ``read`` returns."""
        last = self.frame_count - 1 if self.frame_count else max(index, 0)
        index = int(min(max(index, 0), last))
        self._video.seek(index)
        self._index = index
        self._clock = None

    def read(self, *, paced: bool = True) -> np.ndarray | None:
        """The frame due now: when analysis is slower than the clip, late frames are skipped (latest frame wins).

        ``paced=False`` returns exactly the next frame and restarts the clock: a single step while paused must
        move one frame, not catch up with the time spent paused.
        """
        if paced and self.frame_interval and self._clock is not None:
            due = int((time.perf_counter() - self._clock) / self.frame_interval)
            for _ in range(min(due - self._index, _MAX_SKIP)):
                if not self._video.grab():
                    break
                self._index += 1
        elif not paced:
            self._clock = None
        frame = self._video.read()
        if frame is None and self._loop:
            self._video.seek(0)
            self._index = 0
            self._clock = None
            frame = self._video.read()
        if frame is None:
            return None
        self._index += 1
        if paced and self.frame_interval and self._clock is None:
            self._clock = time.perf_counter() - (self._index - 1) * self.frame_interval
        return frame

    @property
    def position(self) -> str:
        return f"frame {self._index}" + (f" / {self.frame_count}" if self.frame_count else "")

    def close(self) -> None:
        self._video.close()


class ImageSequenceSource(FrameSource):
    """A filmstrip of still images, stepped with :meth:`step`; ``read`` loads the current one."""

    still = True

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        if not spec.paths:
            raise SourceError("no images given")
        self.index = min(max(spec.start, 0), len(spec.paths) - 1)

    def __len__(self) -> int:
        return len(self.spec.paths)

    @property
    def current_path(self) -> str:
        return self.spec.paths[self.index]

    def step(self, delta: int) -> bool:
        new = min(max(self.index + delta, 0), len(self) - 1)
        changed = new != self.index
        self.index = new
        return changed

    @property
    def current_is_video(self) -> bool:
        return is_video_path(self.current_path)

    def read(self) -> np.ndarray:
        """The current image, or a video's first frame. Raises :class:`MediaLoadError` (message names the file)."""
        if not self.current_is_video:
            return load_image(self.current_path)
        with VideoReader(self.current_path, quiet=False) as video:
            frame = video.read()
        if frame is None:
            raise VideoLoadError(f"{Path(self.current_path).name}: no frame could be read (not a video?)")
        return frame

    @property
    def position(self) -> str:
        video = "   video: Space plays it" if self.current_is_video else ""
        return f"{self.index + 1} / {len(self)}  {Path(self.current_path).name}{video}"


def open_source(spec: SourceSpec, *, realtime: bool = True) -> FrameSource:
    match spec.kind:
        case SourceKind.CAMERA:
            return CameraSource(spec)
        case SourceKind.VIDEO:
            return VideoFileSource(spec, realtime=realtime)
        case SourceKind.IMAGES:
            return ImageSequenceSource(spec)
    raise SourceError(f"unknown source kind {spec.kind!r}; valid: {', '.join(SourceKind)}")


def wait_interruptibly(seconds: float, should_stop: Callable[[], bool]) -> bool:
    """Sleep up to ``seconds`` in small steps; True when ``should_stop()`` became true."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if should_stop():
            return True
        time.sleep(min(0.05, max(0.0, end - time.monotonic())))
    return should_stop()
