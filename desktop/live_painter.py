"""Draws an analysed frame (:class:`~attricam.desktop.live_protocol.LivePacket`) into the live tab's widgets.

The picture and its HUD change with every frame shown; the face list, attribute panels and toolbar position at
10 Hz (their bars are EMA-smoothed and unreadable at video rate, and the GUI thread stays light), except on a
still, a paused video or the last frame before a pause, which they describe at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from attricam.engine.bundle import ModelBundle

from .live_hud import ShownRate, hud_lines
from .live_protocol import LivePacket
from .live_session import LiveSession
from .live_side_panel import LiveSidePanel
from .live_views import LiveViews
from .live_worker import LiveWorker
from .model_files import bundle_label
from .source_bar import SourceBar
from .video_view import fit_size

__all__ = ["LivePainter"]

_PANEL_INTERVAL_S = 0.1


class LivePainter:
    """The live tab's drawing: reads the session (selected face, pause, end) and writes widgets only."""

    def __init__(
        self,
        session: LiveSession,
        worker: LiveWorker,
        views: LiveViews,
        side: LiveSidePanel,
        source_bar: SourceBar,
        model: Callable[[], ModelBundle | None],
    ) -> None:
        self._session, self._worker, self._model = session, worker, model
        self._views, self._side, self._source_bar = views, side, source_bar
        self._shown_rate = ShownRate()
        self._shown_fps = 0.0
        self._panels_shown = 0.0
        self.frames_shown = 0
        self.panel_serial = 0
        """Serial of the packet the toolbar, face list and attribute panel describe (the HUD's is on screen)."""
        self.hud_sent: tuple[int, int, int, int] | None = None
        """The HUD's rectangle in device pixels as last sent to the worker (its bars keep off it)."""

    def show_frame(self, packet: LivePacket) -> None:
        """A new packet, already the session's: the picture, HUD and position now, the panels when due."""
        now = time.perf_counter()
        self._shown_fps = self._shown_rate.tick(now)
        self.show_hud(packet)
        if self._session.explorer_shown:
            self._show_explorer(packet)
        video = self._views.video
        display = packet.display
        if display is not None and (display.width(), display.height()) != fit_size(
            (packet.annotated.shape[1], packet.annotated.shape[0]), video.device_size()
        ):
            display = None  # made for another widget size (a resize in flight): let the view scale this one
        video.set_frame(packet.annotated, packet.result, display, (packet.frame.shape[1], packet.frame.shape[0]))
        self._show_position(packet)  # with every frame, like the HUD: both name the frame on screen
        if now - self._panels_shown >= _PANEL_INTERVAL_S or packet.filmstrip is not None or self._session.paused:
            self.show_panels(packet)
        self.frames_shown += 1

    def catch_up(self) -> None:
        """No new packet: the panels catch up with the last frame before a pause or the end, when due."""
        current = self._session.packet
        if (
            current is not None
            and current.serial != self.panel_serial
            and time.perf_counter() - self._panels_shown >= _PANEL_INTERVAL_S
        ):
            self.show_panels(current)

    def show_hud(self, packet: LivePacket) -> None:
        session, video, bundle = self._session, self._views.video, self._model()
        model = bundle_label(bundle) if bundle is not None and bundle.name == packet.result.model_name else None
        video.set_hud(
            hud_lines(packet, paused=session.paused, shown_fps=self._shown_fps, model_label=model, ended=session.ended)
        )
        rect, ratio = video.hud_rect(), video.devicePixelRatioF()
        hud = (
            int(rect.x() * ratio),
            int(rect.y() * ratio),
            int(rect.width() * ratio) + 1,
            int(rect.height() * ratio) + 1,
        )
        if hud != self.hud_sent:  # the bars on the video keep off the HUD; sent when it changes size
            self.hud_sent = hud
            self._worker.set_hud_rect(hud)

    def show_panels(self, packet: LivePacket) -> None:
        """Toolbar position, seek bar, face list and attribute panel, all from ``packet``."""
        self._panels_shown = time.perf_counter()
        self.panel_serial = packet.serial
        self.show_face(packet)
        self._side.face_list.set_faces(packet.result, self._session.selected_face)
        self._show_position(packet)

    def show_face(self, packet: LivePacket) -> None:
        """The selected face's attributes (and both models' answers while comparing)."""
        selected, side = self._session.selected_face, self._side
        face = packet.result.face(selected) if selected is not None else None
        side.attributes.set_face(face, len(packet.result.faces))
        if side.comparison.comparing:
            side.comparison.show_comparison(packet.comparison, packet.compare_tiles, selected, packet.options.attribute)

    def _show_position(self, packet: LivePacket) -> None:
        bar = self._source_bar
        bar.set_position(packet.position + ("   · ended" if self._session.ended else ""))
        if packet.filmstrip is not None:
            bar.set_play_item(self._session.strip_video() is not None)
        if packet.video_frame is not None:
            bar.set_video_position(*packet.video_frame)

    def _show_explorer(self, packet: LivePacket) -> None:
        face = packet.result.face(packet.tiles_face) if packet.tiles_face is not None else None
        o = packet.options
        layer = "last layer" if o.layer == -1 else f"layer {o.layer + 1}"
        head = "mean of heads" if o.head is None else f"head {o.head + 1}"
        caption = f"Face #{face.face_id} · {layer} · {head} · click a map to overlay it" if face is not None else ""
        self._views.explorer.show_face(face, packet.tiles, caption)
