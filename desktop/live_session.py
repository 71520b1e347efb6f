"""What the live tab is showing, without a widget: the source, the packet on screen, the selected face,
pause, and whether the attention grid wants tiles.

:class:`~attricam.desktop.live_tab.LiveTab` owns one and forwards user actions to the worker only as this model
allows them (stepping pauses a video first; a camera cannot step back; a still image cannot pause), so the
rules are testable without a window or a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from .live_worker import LivePacket
from .sources import SourceSpec

__all__ = ["LiveSession", "StepPlan"]


@dataclass(frozen=True)
class StepPlan:
    """What a step request turns into: pause first (a playing video), then send the step (or nothing)."""

    pause_first: bool
    send: bool


class LiveSession:
    def __init__(self) -> None:
        self.spec: SourceSpec | None = None
        self.packet: LivePacket | None = None
        self.selected_face: int | None = None
        self.paused = False
        self.explorer_shown = False
        self.unreadable = ""
        """Why the last source could not be opened while nothing is on screen ("" when all is well)."""
        self.ended = False
        """A video file that does not loop stopped at its last frame; resuming starts it again."""

    # ------------------------------------------------------------------ source
    def source_opened(self, spec: SourceSpec) -> None:
        self.spec, self.unreadable, self.paused, self.ended = spec, "", False, False
        self.packet = None  # the previous source's frame describes nothing of this one

    def source_closed(self) -> None:
        self.spec, self.packet = None, None

    @property
    def pausable(self) -> bool:
        """Cameras and videos play; still images and filmstrips do not."""
        return self.spec is not None and self.spec.kind in ("camera", "video")

    @property
    def seekable(self) -> bool:
        return self.spec is not None and self.spec.kind == "video"

    def step_plan(self, delta: int) -> StepPlan:
        """Filmstrip: previous/next image. Video: pause, then one frame forward or back. Camera: forward only."""
        if self.spec is None or delta == 0:
            return StepPlan(False, False)
        if self.spec.kind == "images":
            return StepPlan(False, True)
        if delta < 0 and self.spec.kind != "video":
            return StepPlan(False, False)
        return StepPlan(not self.paused, True)

    # ------------------------------------------------------------------ frames
    def show(self, packet: LivePacket) -> bool:
        """Take ``packet`` as the one on screen; True when the selected face changed, so the worker needs new
        render options: the selected person got a new id (tracks restarted on a step back or a model swap), or
        left the frame (the first face is chosen)."""
        self.packet = packet
        ids = [f.face_id for f in packet.result.faces]
        moved = packet.selection_moved
        if moved is not None and moved[0] == self.selected_face and moved[1] in ids:
            self.selected_face = moved[1]
            return True
        if self.selected_face not in ids and ids:
            self.selected_face = ids[0]
            return True
        return False

    def select_face(self, face_id: int) -> None:
        self.selected_face = face_id

    def next_face(self) -> int | None:
        """The face after the selected one in the frame on screen (wrapping), or None without faces."""
        ids = [f.face_id for f in self.packet.result.faces] if self.packet is not None else []
        if not ids:
            return None
        current = ids.index(self.selected_face) if self.selected_face in ids else -1
        return ids[(current + 1) % len(ids)]
