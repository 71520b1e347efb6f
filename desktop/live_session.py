"""What the live tab is showing, without a widget: the source, the packet on screen, the selected face,
pause, and whether the attention grid wants tiles.

:class:`~attricam.desktop.live_tab.LiveTab` owns one and forwards user actions to the worker only as this model
allows them (stepping pauses a video first; a camera cannot step back; a still image cannot pause), so the
rules are testable without a window or a worker thread.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from .live_worker import LivePacket
from .sources import SourceKind, SourceSpec, is_video_path

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
        self.awaiting = 0
        """Id of the last frame-changing request sent to the worker (open, step, seek, model)."""
        self.done = 0
        """Id of the last request the worker finished (or whose frame is on screen)."""
        self.waiting_for = ""
        """What the request in flight analyses ("bald_guys.jpg", "frame 12"), for the busy sign."""
        self.snapshot_pending = False
        """S was pressed while a frame was being analysed: export that frame once it is on screen."""
        self.return_to: SourceSpec | None = None
        """The filmstrip (started at its video item) the video on screen was played from."""

    # ------------------------------------------------------------------ source
    def source_opened(self, spec: SourceSpec) -> None:
        self.spec, self.unreadable, self.paused, self.ended = spec, "", False, False
        self.packet = None  # the previous source's frame describes nothing of this one

    def source_closed(self) -> None:
        self.spec, self.packet = None, None

    @property
    def pausable(self) -> bool:
        """Cameras and videos play; still images and filmstrips do not."""
        return self.spec is not None and self.spec.kind in (SourceKind.CAMERA, SourceKind.VIDEO)

    @property
    def seekable(self) -> bool:
        return self.spec is not None and self.spec.kind == SourceKind.VIDEO

    def step_plan(self, delta: int) -> StepPlan:
        """Filmstrip: previous/next image. Video: pause, then one frame forward or back. Camera: forward only."""
        if self.spec is None or delta == 0:
            return StepPlan(False, False)
        if self.spec.kind == SourceKind.IMAGES:
            return StepPlan(False, True)
        if delta < 0 and self.spec.kind != SourceKind.VIDEO:
            return StepPlan(False, False)
        return StepPlan(not self.paused, True)

    # ------------------------------------------------------------------ requests in flight
    @property
    def busy(self) -> bool:
        """A frame-changing request is still being analysed: the frame on screen is not the one asked for."""
        return self.awaiting > self.done

    def requested(self, request: int, what: str) -> None:
        self.awaiting, self.waiting_for = max(self.awaiting, request), what

    def finished(self, request: int) -> None:
        self.done = max(self.done, request)

    def step_target(self, delta: int) -> str:
        """What a step of ``delta`` will show: the file's name in a filmstrip, the frame number in a video."""
        packet, spec = self.packet, self.spec
        if packet is not None and packet.filmstrip is not None and spec is not None:
            index = min(max(packet.filmstrip[0] + delta, 0), len(spec.paths) - 1)
            return Path(spec.paths[index]).name
        if packet is not None and packet.video_frame is not None:
            return f"frame {max(packet.video_frame[0] + delta, 1)}"
        return "the next frame"

    def strip_video(self) -> SourceSpec | None:
        """The filmstrip on screen, started at its current item, when that item is a video (else None)."""
        packet, spec = self.packet, self.spec
        if spec is None or spec.kind != SourceKind.IMAGES or packet is None or packet.filmstrip is None:
            return None
        index = packet.filmstrip[0]
        return dataclasses.replace(spec, start=index) if is_video_path(spec.paths[index]) else None

    # ------------------------------------------------------------------ frames
    def show(self, packet: LivePacket) -> bool:
        """Take ``packet`` as the one on screen; True when the selected face changed, so the worker needs new
        render options: the selected person got a new id (tracks restarted on a step back or a model swap), or
        left the frame (the first face is chosen)."""
        self.packet = packet
        self.finished(packet.request)  # the frame asked for is on screen, whether or not its signal came first
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
