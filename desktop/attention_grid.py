"""Attention explorer: all 40 attention maps of the selected face at once, with the rarity filter.

Tiles are made on the live worker thread (:mod:`desktop.attention_tiles`);
this widget lays them out, labels each with its attribute, probability and
rarity colour, and emits the attribute that was clicked.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from engine.attributes import ATTRIBUTES

from .attribute_bars import FILTERS, ordered_attributes, tier_color
from .qt_image import rgb_to_qimage

__all__ = ["AttentionExplorer", "AttentionGrid"]

_LABEL_H = 30


class AttentionGrid(QWidget):
    attributeClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AttentionGrid")
        self.setMinimumSize(320, 240)
        self._images: list[QImage] | None = None
        self._probabilities: np.ndarray | None = None
        self._decisions: np.ndarray | None = None
        self._order = ordered_attributes(None, "rarity", "all")  # rarest first
        self._selected: int | None = None
        self._cells: list[tuple[QRectF, int]] = []

    def set_tiles(self, tiles, probabilities=None, decisions=None) -> None:
        self._images = [rgb_to_qimage(t) for t in tiles] if tiles is not None else None
        self._probabilities, self._decisions = probabilities, decisions
        self.update()

    def set_filter(self, filter_: str) -> None:
        self._order = ordered_attributes(None, "rarity", filter_)
        self.update()

    def set_selected(self, index: int | None) -> None:
        self._selected = index
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        for rect, index in self._cells:
            if rect.contains(event.position()):
                self.attributeClicked.emit(index)
                return

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 24, 28))
        self._cells = []
        if not self._images:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "Attention maps appear here once a face is found."
            )
            painter.end()
            return
        n = len(self._order)
        tile_w, tile_h = self._images[0].width(), self._images[0].height()
        aspect = tile_h / tile_w
        best = None
        for cols in range(1, n + 1):  # the column count that makes tiles largest
            rows = math.ceil(n / cols)
            w = min(self.width() / cols, (self.height() / rows - _LABEL_H) / aspect) - 6
            if best is None or w > best[1]:
                best = (cols, w)
        cols, w = best
        w = max(w, 16.0)
        h = w * aspect
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, min(9.0, w / 11)))
        painter.setFont(small)
        for slot, index in enumerate(self._order):
            r, c = divmod(slot, cols)
            x, y = 3 + c * (w + 6), 3 + r * (h + _LABEL_H + 6)
            target = QRectF(x, y, w, h)
            painter.drawImage(target, self._images[index])
            cell = QRectF(x, y, w, h + _LABEL_H)
            self._cells.append((cell, index))
            colour = tier_color(index)
            painter.fillRect(QRectF(x, y + h, w, 4), colour)
            if index == self._selected:
                painter.setPen(QColor(255, 210, 0))
                painter.drawRect(cell.adjusted(-2, -2, 2, 2))
            info = ATTRIBUTES[index]
            p = "" if self._probabilities is None else f" {float(self._probabilities[index]):.2f}"
            positive = self._decisions is not None and bool(self._decisions[index])
            painter.setPen(QColor(120, 230, 150) if positive else QColor(220, 220, 220))
            metrics = painter.fontMetrics()
            name = metrics.elidedText(info.display_name, Qt.TextElideMode.ElideRight, int(w))
            painter.drawText(QRectF(x, y + h + 4, w, _LABEL_H / 2), Qt.AlignmentFlag.AlignCenter, name)
            painter.setPen(colour.lighter(130))
            painter.drawText(
                QRectF(x, y + h + 4 + _LABEL_H / 2 - 2, w, _LABEL_H / 2),
                Qt.AlignmentFlag.AlignCenter,
                metrics.elidedText(f"{100 * info.frequency:.1f} %{p}", Qt.TextElideMode.ElideRight, int(w)),
            )
        painter.end()


class AttentionExplorer(QWidget):
    """The grid plus its rarity filter and a caption naming face, layer and head."""

    attributeClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AttentionExplorer")
        self.filter_box = QComboBox()
        for key, label in zip(FILTERS, ("All 40 attributes", "Rare (<10 %)", "Uncommon (10–30 %)", "Common (>30 %)")):
            self.filter_box.addItem(label, key)
        self.caption = QLabel("")
        self.grid = AttentionGrid()
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(QLabel("Show"))
        top.addWidget(self.filter_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.grid, 1)
        self.filter_box.currentIndexChanged.connect(lambda: self.grid.set_filter(self.filter_box.currentData()))
        self.grid.attributeClicked.connect(self.attributeClicked)

    def set_filter(self, filter_: str) -> None:
        index = self.filter_box.findData(filter_)
        if index >= 0:
            self.filter_box.setCurrentIndex(index)
