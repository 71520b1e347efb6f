"""The live picture: the engine-rendered frame, scaled to fit, with a HUD painted on top.

Boxes, ids, landmarks and heatmaps come baked into the frame by the engine
renderer (the same one the CLI and the export use). The widget only adds what
belongs to the screen, not to the picture: FPS/latency, the model warning and
transient status messages. Clicking a face emits its id.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QMouseEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from attricam.engine.results import FrameResult

from .qt_image import rgb_to_qimage

__all__ = ["VideoView", "fit_size"]


def fit_size(frame: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """Largest (w, h) with the frame's aspect ratio inside ``box``, in whole pixels."""
    scale = min(box[0] / max(frame[0], 1), box[1] / max(frame[1], 1))
    return max(1, int(frame[0] * scale)), max(1, int(frame[1] * scale))


_HUD_BG = QColor(0, 0, 0, 160)
_WARN_BG = QColor(180, 40, 30, 220)


class VideoView(QWidget):
    faceClicked = Signal(int)
    resized = Signal(int, int, float)  # device pixels, and device pixels per logical one: frames are scaled to it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("VideoView")
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # keeps the Live tab's keys (Space, S, arrows) here
        self._image: QImage | None = None
        self._frame_size = (1, 1)
        self._result: FrameResult | None = None
        self._hud_lines: list[str] = []
        self._warning = ""
        self._message = ""
        self._message_level = "info"
        self._busy = ""
        self.paint_count = 0

    # ------------------------------------------------------------------ state
    def set_frame(
        self,
        annotated_rgb: np.ndarray,
        result: FrameResult,
        display: QImage | None = None,
        frame_size: tuple[int, int] | None = None,
    ) -> None:
        """Show a frame. ``display``, when given, is the same picture already scaled to fit this widget
        (made off the GUI thread), so painting is a plain blit. ``frame_size`` (w, h): the analysed frame's
        size, in which ``result``'s boxes are, when the picture was drawn at another size."""
        if display is not None:
            display.setDevicePixelRatio(self.devicePixelRatioF())
        self._image = display if display is not None else rgb_to_qimage(annotated_rgb)
        self._frame_size = frame_size or (annotated_rgb.shape[1], annotated_rgb.shape[0])
        self._result = result
        self.update()

    def clear(self) -> None:
        self._image, self._result = None, None
        self.update()

    def has_frame(self) -> bool:
        return self._image is not None

    def set_hud(self, lines: list[str]) -> None:
        self._hud_lines = lines

    def hud_rect(self) -> QRectF:
        """Where the HUD box is painted (widget pixels); empty without HUD lines."""
        if not self._hud_lines:
            return QRectF()
        metrics = QFontMetrics(self._hud_font())
        width = max(metrics.horizontalAdvance(line) for line in self._hud_lines) + 16
        return QRectF(8, 8, width, metrics.height() * len(self._hud_lines) + 10)

    def warning_rect(self) -> QRectF:
        """Where the model warning's banner is painted (widget pixels): top right, or under the HUD when the view
        is too narrow for both side by side (1280x720 at 150 %); never wider than the view."""
        if not self._warning:
            return QRectF()
        font = self._hud_font()
        font.setBold(True)
        metrics = QFontMetrics(font)
        width = min(metrics.horizontalAdvance(self._warning) + 20, max(self.width() - 16, 0))
        rect = QRectF(self.width() - width - 8, 8, width, metrics.height() + 8)
        hud = self.hud_rect()
        if not hud.isEmpty() and rect.intersects(hud):
            rect.moveTop(hud.bottom() + 4)
        return rect

    def _hud_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(9.0, font.pointSizeF()))
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setFamily("DejaVu Sans Mono")
        return font

    @property
    def hud(self) -> list[str]:
        """The HUD lines painted over the picture."""
        return list(self._hud_lines)

    def set_model_warning(self, text: str) -> None:
        """A permanent red banner, e.g. 'UNTRAINED MODEL'; empty hides it."""
        self._warning = text
        self.update()

    @property
    def message(self) -> tuple[str, str]:
        """The transient status line as (text, level)."""
        return self._message, self._message_level

    @property
    def model_warning(self) -> str:
        return self._warning

    def set_message(self, text: str, level: str = "info") -> None:
        self._message, self._message_level = text, level
        self.update()

    def set_busy(self, text: str) -> None:
        """A busy sign in the middle of the picture ("Analysing bald_guys.jpg…  1.2 s") and a busy cursor over
        it; empty hides both."""
        if text and not self._busy:
            self.setCursor(Qt.CursorShape.BusyCursor)
        elif self._busy and not text:
            self.unsetCursor()
        self._busy = text
        self.update()

    @property
    def busy(self) -> str:
        return self._busy

    # ------------------------------------------------------------------ geometry
    def picture_rect(self) -> QRectF:
        """Where the frame is drawn in the widget (letterboxed); empty before the first frame."""
        if self._image is None:
            return QRectF()
        w, h = fit_size(self._frame_size, (self.width(), self.height()))
        return QRectF((self.width() - w) // 2, (self.height() - h) // 2, w, h)

    def widget_to_frame(self, point: QPointF) -> QPointF | None:
        rect = self.picture_rect()
        if rect.isEmpty() or not rect.contains(point):
            return None
        scale = rect.width() / self._frame_size[0]
        return QPointF((point.x() - rect.x()) / scale, (point.y() - rect.y()) / scale)

    def frame_to_widget(self, x: float, y: float) -> QPointF | None:
        """Widget point of frame pixel (``x``, ``y``); None before the first frame."""
        rect = self.picture_rect()
        if rect.isEmpty():
            return None
        scale = rect.width() / self._frame_size[0]
        return QPointF(rect.x() + x * scale, rect.y() + y * scale)

    def face_at(self, point: QPointF) -> int | None:
        """Id of the smallest face box under a widget point (nested boxes pick the inner one)."""
        frame_point = self.widget_to_frame(point)
        if frame_point is None or self._result is None:
            return None
        hits = [
            ((f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), f.face_id)
            for f in self._result.faces
            if f.box[0] <= frame_point.x() <= f.box[2] and f.box[1] <= frame_point.y() <= f.box[3]
        ]
        return min(hits)[1] if hits else None

    def device_size(self) -> tuple[int, int]:
        ratio = self.devicePixelRatioF()
        return int(self.width() * ratio), int(self.height() * ratio)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit(*self.device_size(), self.devicePixelRatioF())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            face_id = self.face_at(event.position())
            if face_id is not None:
                self.faceClicked.emit(face_id)
        super().mousePressEvent(event)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(18, 18, 20))
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(self.picture_rect(), self._image)
        font = self._hud_font()
        painter.setFont(font)
        metrics = painter.fontMetrics()
        if self._hud_lines:
            painter.fillRect(self.hud_rect(), _HUD_BG)
            painter.setPen(QColor(235, 235, 235))
            for i, line in enumerate(self._hud_lines):
                painter.drawText(QPointF(16, 8 + 5 + metrics.ascent() + i * metrics.height()), line)
        if self._warning:
            bold = QFont(font)
            bold.setBold(True)
            painter.setFont(bold)
            rect = self.warning_rect()
            painter.fillRect(rect, _WARN_BG)
            painter.setPen(QColor("white"))
            text = painter.fontMetrics().elidedText(self._warning, Qt.TextElideMode.ElideRight, int(rect.width()) - 20)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            painter.setFont(font)
        if self._busy:
            w = min(self.width() - 16, metrics.horizontalAdvance(self._busy) + 40)
            h = metrics.height() * 2 + 16
            rect = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
            painter.fillRect(rect, QColor(20, 60, 120, 230))
            painter.setPen(QColor("white"))
            painter.drawText(
                rect,
                Qt.AlignmentFlag.AlignCenter,
                metrics.elidedText(self._busy, Qt.TextElideMode.ElideMiddle, int(w) - 16),
            )
        if self._message:
            colour = {"error": QColor(200, 50, 40, 230), "warning": QColor(200, 130, 20, 230)}.get(
                self._message_level, QColor(40, 40, 40, 220)
            )
            w = min(self.width() - 16, metrics.horizontalAdvance(self._message) + 24)
            rect = QRectF((self.width() - w) / 2, self.height() - metrics.height() - 24, w, metrics.height() + 12)
            painter.fillRect(rect, colour)
            painter.setPen(QColor("white"))
            painter.drawText(
                rect,
                Qt.AlignmentFlag.AlignCenter,
                metrics.elidedText(self._message, Qt.TextElideMode.ElideMiddle, int(w) - 12),
            )
        painter.end()
        self.paint_count += 1
