"""Attention flow: each attribute query's mean attention over evaluated faces, rare attributes beside common ones."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from attricam.engine.attributes import ATTRIBUTES, frequency_band_label
from attricam.engine.model_config import IMAGE_HEIGHT, IMAGE_WIDTH
from attricam.engine.render import blend_heatmap

from .attribute_bars import tier_color
from .qt_image import rgb_to_qimage
from .tile_grid import fit_tiles

__all__ = ["AttentionFlowView"]

_LABEL_H = 28


class AttentionFlowView(QWidget):
    """Two panels: rare attributes (left) and common ones (right; cut-offs in :mod:`attricam.engine.attributes`),
    rarest first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AttentionFlowView")
        self.setMinimumSize(480, 320)
        self._tiles: dict[int, QImage] = {}
        self.rare = [a.index for a in sorted(ATTRIBUTES, key=lambda a: a.frequency) if a.is_rare]
        self.common = [a.index for a in sorted(ATTRIBUTES, key=lambda a: a.frequency) if a.is_common]
        self.caption = "Evaluate the model on a CelebA root to see where each attribute query looks on average."

    def set_attention(self, attention: np.ndarray | None, mean_face: np.ndarray | None, layer: int = -1) -> None:
        """attention (layers, 40, gh, gw); mean_face (H, W, 3) uint8 backdrop or None (grey)."""
        self._tiles = {}
        if attention is None:
            self.update()
            return
        maps = attention[layer]
        face = mean_face if mean_face is not None else np.full((IMAGE_HEIGHT, IMAGE_WIDTH, 3), 128, np.uint8)
        h, w = face.shape[:2]
        for index in range(maps.shape[0]):
            heat = cv2.resize(maps[index].astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
            heat -= heat.min()
            heat /= max(float(heat.max()), 1e-8)
            self._tiles[index] = rgb_to_qimage(blend_heatmap(face, heat, "jet", 0.75))
        self.caption = ""
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(255, 255, 255))
        if not self._tiles:
            painter.setPen(QColor(90, 90, 90))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.caption)
            painter.end()
            return
        half = self.width() / 2
        title_font = QFont(self.font())
        title_font.setBold(True)
        for panel, (title, indices) in enumerate(
            (
                (f"{frequency_band_label('rare', parenthesised=True)[:-1]} of training faces)", self.rare),
                (f"{frequency_band_label('common', parenthesised=True)[:-1]} of training faces)", self.common),
            )
        ):
            x0 = panel * half
            painter.setFont(title_font)
            painter.setPen(QColor(30, 30, 30))
            painter.drawText(QRectF(x0, 2, half, 22), Qt.AlignmentFlag.AlignCenter, title)
            self._paint_panel(painter, QRectF(x0 + 4, 26, half - 8, self.height() - 30), indices)
        painter.setPen(QColor(200, 200, 200))
        painter.drawLine(int(half), 4, int(half), self.height() - 4)
        painter.end()

    def _paint_panel(self, painter: QPainter, area: QRectF, indices: list[int]) -> None:
        sample = self._tiles[indices[0]]
        aspect = sample.height() / sample.width()
        cols, w = fit_tiles(len(indices), area.width(), area.height(), aspect=aspect, label=_LABEL_H, gap=6)
        w = max(w, 0.0)
        h = w * aspect
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, min(9.0, w / 10)))
        painter.setFont(small)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        for slot, index in enumerate(indices):
            r, c = divmod(slot, cols)
            x, y = area.x() + c * (w + 6), area.y() + r * (h + _LABEL_H + 4)
            painter.drawImage(QRectF(x, y, w, h), self._tiles[index])
            painter.fillRect(QRectF(x, y + h, w, 3), tier_color(index))
            info = ATTRIBUTES[index]
            painter.setPen(QColor(30, 30, 30))
            metrics = painter.fontMetrics()
            painter.drawText(
                QRectF(x, y + h + 3, w, _LABEL_H / 2),
                Qt.AlignmentFlag.AlignCenter,
                metrics.elidedText(info.display_name, Qt.TextElideMode.ElideRight, int(w)),
            )
            painter.setPen(tier_color(index).darker(130))
            painter.drawText(
                QRectF(x, y + h + 3 + _LABEL_H / 2 - 2, w, _LABEL_H / 2),
                Qt.AlignmentFlag.AlignCenter,
                f"{100 * info.frequency:.1f} %",
            )
