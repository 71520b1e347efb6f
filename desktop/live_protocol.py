"""What crosses between the Live tab and its worker thread: commands in, packets and status out.

Commands are small frozen dataclasses (one per thing the GUI can ask), queued by
:class:`~attricam.desktop.live_worker.LiveWorker`'s methods and applied between frames with
``match``; the worker answers with a :class:`LivePacket` per analysed frame and a
:class:`LiveStatus` per message, whose :class:`StatusKind` says what it is about, so the tab
never reads a message's words to decide how to show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

import numpy as np
from PySide6.QtGui import QImage

from attricam.engine.bundle import ModelBundle
from attricam.engine.comparison import ModelComparison
from attricam.engine.render import RenderOptions
from attricam.engine.results import FrameResult

from .sources import SourceSpec

__all__ = [
    "CloseSource",
    "Command",
    "LivePacket",
    "LiveStatus",
    "OpenSource",
    "ScanCameras",
    "Seek",
    "SetBundle",
    "SetCompareBundle",
    "SetHeld",
    "SetHudRect",
    "SetLoop",
    "SetOptions",
    "SetPaused",
    "Snapshot",
    "StatusKind",
    "StatusLevel",
    "Step",
]


@dataclass(frozen=True)
class LivePacket:
    """One analysed frame, ready to show. Arrays are never mutated after publishing."""

    serial: int
    frame: np.ndarray  # (h, w, 3) uint8 RGB, as captured
    annotated: np.ndarray  # (h, w, 3) uint8 RGB, engine renderer output drawn at the view's size (screen pixels)
    result: FrameResult
    options: RenderOptions
    tiles: tuple[np.ndarray, ...] | None  # 40 attention tiles of the grid face, or None when the grid is hidden
    tiles_face: int | None
    fps: float  # analysed frames per second (smoothed)
    latency_ms: float  # capture -> rendered
    position: str  # "frame 12 / 300" or "2 / 5  img.jpg"
    source_label: str
    filmstrip: tuple[int, int] | None = None  # (index, count) for still images
    display: QImage | None = None  # ``annotated`` scaled to the view size (made here, off the GUI thread)
    video_frame: tuple[int, int] | None = None  # (1-based frame number the HUD shows, frame count; 0 = unknown)
    source_path: str = ""  # the image or video file this frame came from; "" for a camera
    request: int = 0  # id of the last frame-changing request (open, step, seek, model) applied before this frame
    selection_moved: tuple[int, int] | None = None  # (old id, new id): the selected person got a new track id
    ended: bool = False  # a video file that does not loop reached its last frame
    comparison: ModelComparison | None = None  # a second model's answer for the same faces (Model > Compare with…)
    compare_tiles: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None  # (face id, (A, B)) attention crops


# ----------------------------------------------------------------------------------------------- commands
@dataclass(frozen=True)
class OpenSource:
    spec: SourceSpec


@dataclass(frozen=True)
class CloseSource:
    pass


@dataclass(frozen=True)
class SetPaused:
    paused: bool


@dataclass(frozen=True)
class SetHeld:
    """Live analysis held while a job needs the cores (see :meth:`LiveWorker.set_held`)."""

    held: bool


@dataclass(frozen=True)
class Step:
    delta: int


@dataclass(frozen=True)
class Seek:
    frame: int
    """0-based frame of a video file."""


@dataclass(frozen=True)
class SetLoop:
    loop: bool


@dataclass(frozen=True)
class SetOptions:
    options: RenderOptions
    tiles: bool
    """Make the attention tiles of the grid face too."""


@dataclass(frozen=True)
class SetHudRect:
    rect: tuple[int, int, int, int] | None
    """Where the view paints its HUD (x, y, w, h in device pixels of the view); None: no HUD."""


@dataclass(frozen=True)
class SetBundle:
    bundle: ModelBundle | None
    """None: the default bundle."""


@dataclass(frozen=True)
class SetCompareBundle:
    bundle: ModelBundle | None
    """None: stop comparing."""


@dataclass(frozen=True)
class Snapshot:
    packet: LivePacket
    folder: str


@dataclass(frozen=True)
class ScanCameras:
    pass


Command = (
    OpenSource
    | CloseSource
    | SetPaused
    | SetHeld
    | Step
    | Seek
    | SetLoop
    | SetOptions
    | SetHudRect
    | SetBundle
    | SetCompareBundle
    | Snapshot
    | ScanCameras
)
"""Everything the GUI can ask of the worker."""


# ----------------------------------------------------------------------------------------------- status
StatusLevel = Literal["info", "warning", "error"]
"""How loud a message is: how the video view colours it and how long it stays."""


class StatusKind(Enum):
    """What a status message is about; the Live tab picks colour, duration and the empty page's headline by it."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    """A file that cannot be read, an analysis that failed, anything not a camera or a model."""
    CAMERA_ERROR = "camera error"
    MODEL_ERROR = "model error"

    @property
    def level(self) -> StatusLevel:
        match self:
            case StatusKind.INFO:
                return "info"
            case StatusKind.WARNING:
                return "warning"
            case _:
                return "error"


@dataclass(frozen=True)
class LiveStatus:
    """One message for the user; empty ``text`` clears the one shown."""

    kind: StatusKind
    text: str = ""

    @property
    def level(self) -> StatusLevel:
        return self.kind.level
