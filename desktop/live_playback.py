"""The live view's open source and how it plays: paused by the user, held for a job, looping, at its end.

:class:`Playback` lives on the live worker's thread. It opens and closes the
:class:`~attricam.desktop.sources.FrameSource`, reads the next frame when it is due and says why there is
none (:class:`NotDue`, :class:`CameraLost`, :class:`AtEnd`), so the worker decides with one ``match``
what to do next. It knows nothing of the analysis or the view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .sources import (
    CameraSource,
    FrameSource,
    ImageSequenceSource,
    SourceError,
    SourceSpec,
    VideoFileSource,
    open_source,
    wait_interruptibly,
)

__all__ = ["AtEnd", "CameraLost", "FramePlace", "NotDue", "Playback"]

_RECONNECT_INTERVAL_S = 1.0


@dataclass(frozen=True)
class FramePlace:
    """The place in the source of a frame, taken when it was read: its packets say so even after the source
    moved on (a filmstrip's step onto a broken file leaves the previous picture on screen, with its own place)."""

    position: str  # "frame 12 / 300" or "2 / 5  img.jpg"
    source_label: str
    filmstrip: tuple[int, int] | None  # (index, count) for still images
    video_frame: tuple[int, int] | None  # (1-based frame number, frame count; 0 = unknown) for video files
    source_path: str  # the image or video file, resolved; "" for a camera


@dataclass(frozen=True)
class NotDue:
    """A paced source's next frame is ``wait_s`` seconds away."""

    wait_s: float


@dataclass(frozen=True)
class CameraLost:
    """The camera gave no frame: it is to be opened again (:meth:`Playback.reconnect`)."""

    camera: CameraSource


@dataclass(frozen=True)
class AtEnd:
    """A video file without loop gave its last frame; playback is paused there. ``first``: it just got there."""

    first: bool


NextFrame = np.ndarray | NotDue | CameraLost | AtEnd | None
"""What :meth:`Playback.next_frame` gives: an (h, w, 3) uint8 RGB frame, why there is none, or None (no source)."""


class Playback:
    def __init__(self, *, realtime: bool = True) -> None:
        self._realtime = realtime  # paced at the file's frame rate; False: as fast as frames are analysed
        self.source: FrameSource | None = None
        self.paused = False
        self.held = False  # see LiveWorker.set_held
        self.loop = True
        self.ended = False

    @property
    def playing(self) -> bool:
        """A camera or video file that is neither paused by the user nor held for a job."""
        return self.source is not None and self.source.live and not self.paused and not self.held

    @property
    def still(self) -> bool:
        return self.source is not None and self.source.still

    def open(self, spec: SourceSpec) -> np.ndarray | None:
        """Play ``spec`` instead of the open source; returns a still source's first picture (None for video).

        Raises :class:`SourceError`, :class:`MediaLoadError` or :class:`OSError`, the open source kept then.
        """
        source = open_source(spec, realtime=self._realtime)
        first = source.read() if source.still else None
        self.close()
        self.source = source
        if isinstance(source, VideoFileSource):
            source.loop = self.loop
        self.ended = False
        return first

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if self.source is not None:
            self.source.restart_clock()

    def set_held(self, held: bool) -> bool:
        """Hold or release; True when that changed anything."""
        if held == self.held:
            return False
        self.held = held
        if self.source is not None:
            self.source.restart_clock()  # a video goes on at its own pace, not catching up on the hold
        return True

    def set_loop(self, loop: bool) -> None:
        self.loop = loop
        if isinstance(self.source, VideoFileSource):
            self.source.loop = loop

    def seek(self, frame: int) -> bool:
        """Video files: frame ``frame`` (0-based) is read next; False for other sources."""
        if not isinstance(self.source, VideoFileSource):
            return False
        self.source.seek(frame)
        self.ended = False
        return True

    def next_frame(self, *, force: bool = False) -> NextFrame:
        """The next frame of a camera or video file once it is due (``force``: now, a video's next frame unpaced)."""
        source = self.source
        if source is None:
            return None
        wait = 0.0 if force else source.seconds_until_due()
        if wait > 0:
            return NotDue(wait)
        frame = source.read(paced=False) if force and isinstance(source, VideoFileSource) else source.read()
        if frame is not None:
            return frame
        if isinstance(source, CameraSource):
            return CameraLost(source)
        first = not self.ended
        self.paused, self.ended = True, True
        return AtEnd(first)

    def reconnect(
        self,
        camera: CameraSource,
        on_attempt: Callable[[int], None],
        *,
        stopped: Callable[[], bool],
        interrupted: Callable[[], bool],
    ) -> bool:
        """Open ``camera`` again once a second, calling ``on_attempt(n)`` before the n-th try; True once it opened,
        False when ``stopped`` or ``interrupted`` (a command waits: it runs first) before that."""
        attempt = 0
        while not stopped() and self.source is camera:
            attempt += 1
            on_attempt(attempt)
            if wait_interruptibly(_RECONNECT_INTERVAL_S, interrupted):
                return False
            try:
                camera.open()
            except SourceError:
                continue
            return True
        return False

    def place(self) -> FramePlace:
        """Where in the source the frame just read is."""
        source = self.source
        return FramePlace(
            position=source.position if source is not None else "",
            source_label=source.spec.label if source is not None else "",
            filmstrip=(source.index, len(source)) if isinstance(source, ImageSequenceSource) else None,
            video_frame=(source.frame_number, source.frame_count) if isinstance(source, VideoFileSource) else None,
            source_path=_current_path(source),
        )


def _current_path(source: FrameSource | None) -> str:
    if isinstance(source, ImageSequenceSource):
        return str(Path(source.current_path).resolve())
    if isinstance(source, VideoFileSource):
        return str(Path(source.spec.paths[0]).resolve())
    return ""
