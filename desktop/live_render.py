"""An analysed frame drawn for the live view, off the GUI thread, and wrapped as the packet the GUI shows.

:class:`LiveRenderer` lives on the live worker's thread. It draws the overlays at the view's size
(:func:`~attricam.desktop.screen_render.render_for_view`, keeping the bars off the HUD), scales the picture
into the QImage layout the window paints with a plain copy, makes the attention tiles the explorer shows,
and stamps each :class:`~attricam.desktop.live_protocol.LivePacket` with a serial and its latency. The
GUI thread only sets the view's size (:meth:`set_view`) and blits.
"""

from __future__ import annotations

import dataclasses
import time

import cv2
import numpy as np
from PySide6.QtGui import QImage

from attricam.engine.comparison import ModelComparison
from attricam.engine.panel_layout import PanelMemory
from attricam.engine.render import RenderOptions

from .attention_tiles import attention_tiles
from .live_analysis import Analysed
from .live_comparison import LiveComparison
from .live_protocol import LivePacket
from .screen_render import render_for_view
from .video_view import fit_size

__all__ = ["LiveRenderer", "display_image"]


class LiveRenderer:
    def __init__(self) -> None:
        self.view_size: tuple[int, int] | None = None  # the video widget in device pixels; None: not known yet
        self.view_ratio = 1.0  # the view's device pixels per logical pixel (1.5 at a 150 % display scale)
        self.hud_rect: tuple[int, int, int, int] | None = None  # where the view paints its HUD (device pixels)
        self.want_tiles = False  # the attention explorer is shown: make the grid face's 40 tiles
        self._panels = PanelMemory()  # panels follow their faces from one video frame to the next
        self._panels_view: tuple[int, int] | None = None  # the view size the panel memory's offsets are for
        self._serial = 0
        self._timed: Analysed | None = None  # the analysis whose latency ``_latency_ms`` is
        self._latency_ms = 0.0

    def set_view(self, width: int, height: int, ratio: float = 1.0) -> None:
        """Called from the GUI thread when the view is resized or moves to a screen of another scale."""
        self.view_ratio = float(ratio)
        self.view_size = (int(width), int(height))

    def forget_panels(self) -> None:
        """New faces ahead (another source, a seek, a still): bar panels are laid out afresh."""
        self._panels.forget()

    def packet(
        self,
        analysed: Analysed,
        options: RenderOptions,
        *,
        fps: float,
        comparison: ModelComparison | None,
        moved: tuple[int, int] | None,
        request: int,
        ended: bool,
    ) -> LivePacket:
        """``analysed`` drawn with ``options`` at the view's size; the other fields pass to the packet as they are."""
        frame, result, place = analysed.frame, analysed.result, analysed.place
        options = dataclasses.replace(options, fps=fps or None)
        view = self.view_size
        if view != self._panels_view:  # panels remembered at another zoom would land in the wrong place
            self._panels.forget()
            self._panels_view = view
        annotated, _ = render_for_view(frame, result, options, self._panels, view, self.hud_rect, self.view_ratio)
        tiles, tiles_face = None, None
        if self.want_tiles and result.faces:
            face = result.face(options.selected_face) if options.selected_face is not None else None
            face = face or result.faces[0]
            tiles = attention_tiles(face, options)
            tiles_face = face.face_id
        self._serial += 1
        if analysed is not self._timed:  # first publication of this analysis: capture -> rendered
            self._timed = analysed
            self._latency_ms = (time.perf_counter() - analysed.captured) * 1000.0
        return LivePacket(
            serial=self._serial,
            frame=frame,
            annotated=annotated,
            result=result,
            options=options,
            tiles=tiles,
            tiles_face=tiles_face,
            fps=fps,
            latency_ms=self._latency_ms,
            position=place.position,
            source_label=place.source_label,
            filmstrip=place.filmstrip,
            display=display_image(annotated, view),
            video_frame=place.video_frame,
            source_path=place.source_path,
            request=request,
            selection_moved=moved,
            ended=ended,
            comparison=comparison,
            compare_tiles=LiveComparison.tiles(comparison, options),
        )


def display_image(rgb: np.ndarray, view: tuple[int, int] | None) -> QImage | None:
    """``rgb`` resized to fit ``view`` as a QImage that owns its pixels; None when the view size is unknown.

    Made as 32-bit RGB (bytes B, G, R, 0xff), the layout of the window's backing store, so the GUI thread's
    paint is a plain copy with no per-pixel format conversion (that conversion happens here, off the GUI thread).
    """
    if view is None or view[0] < 2 or view[1] < 2:
        return None
    h, w = rgb.shape[:2]
    tw, th = fit_size((w, h), view)
    scaled = (
        rgb
        if (tw, th) == (w, h)
        else cv2.resize(rgb, (tw, th), interpolation=cv2.INTER_AREA if tw < w else cv2.INTER_LINEAR)
    )
    bgra = np.ascontiguousarray(cv2.cvtColor(scaled, cv2.COLOR_RGB2BGRA))
    return QImage(bgra.data, tw, th, 4 * tw, QImage.Format.Format_RGB32).copy()
