"""Attention explorer: all 40 attention maps of the selected face at once, with the rarity filter.

Tiles are made on the live worker thread (:mod:`attricam.desktop.attention_tiles`);
this widget lays them out, labels each with its attribute, probability and
rarity colour, and emits the attribute that was clicked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QMouseEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from attricam.engine.attributes import ATTRIBUTES, frequency_band_label
from attricam.engine.model_config import IMAGE_HEIGHT, IMAGE_WIDTH
from attricam.engine.results import FaceResult

from .attribute_bars import FILTERS, ordered_attributes, tier_color
from .qt_image import rgb_to_qimage
from .tile_grid import fit_tiles

__all__ = ["AttentionExplorer", "AttentionGrid"]

_NAME_LINES = 2
_GAP = 6
_MIN_TILE_W = 96.0
"""Narrowest tile whose two-line label still shows every attribute name whole ("Wearing Necklace")."""


class AttentionGrid(QWidget):
    """The tiles, as large as fit the visible area; when that would make them narrower than
    :data:`_MIN_TILE_W`, the columns follow the width instead and the grid grows taller (it sits in a
    scroll area), so a narrow window gets fewer, readable columns rather than eight cut-off ones."""

    attributeClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AttentionGrid")
        self.setMinimumWidth(int(_MIN_TILE_W + 2 * _GAP))
        self._images: list[QImage] | None = None
        self._probabilities: np.ndarray | None = None
        self._decisions: np.ndarray | None = None
        self._order = ordered_attributes(None, "rarity", "all")  # rarest first
        self._selected: int | None = None
        self._cells: list[tuple[QRectF, int]] = []
        self._visible_height = 240
        self.drawn_labels: list[str] = []
        """The label lines of the last paint (tests check that no name was cut)."""

    def set_tiles(
        self,
        tiles: Sequence[np.ndarray] | None,
        probabilities: np.ndarray | None = None,
        decisions: np.ndarray | None = None,
    ) -> None:
        """40 RGB tiles (H, W, 3) uint8 in attribute order with the face's (40,) probabilities and decisions."""
        self._images = [rgb_to_qimage(t) for t in tiles] if tiles is not None else None
        self._probabilities, self._decisions = probabilities, decisions
        self._update_height()
        self.update()

    def set_filter(self, filter_: str) -> None:
        self._order = ordered_attributes(None, "rarity", filter_)
        self._update_height()
        self.update()

    def set_selected(self, index: int | None) -> None:
        self._selected = index
        self.update()

    def set_visible_height(self, height: int) -> None:
        """Height of the scroll area's viewport: the grid fills it when the tiles can stay wide enough."""
        self._visible_height = max(int(height), 1)
        self._update_height()

    def _label_height(self) -> float:
        metrics = QFontMetricsF(self._label_font(_MIN_TILE_W))
        return metrics.lineSpacing() * (_NAME_LINES + 1) + 8

    def _label_font(self, tile_w: float) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, min(9.0, tile_w / 12)))
        return font

    def grid_layout(self, width: float | None = None) -> tuple[int, float, float]:
        """(columns, tile width, tile height) for ``width`` (default: the widget's)."""
        width = float(self.width() if width is None else width)
        n = max(len(self._order), 1)
        aspect = self._images[0].height() / self._images[0].width() if self._images else IMAGE_HEIGHT / IMAGE_WIDTH
        cols, w = fit_tiles(n, width, self._visible_height, aspect=aspect, label=self._label_height(), gap=_GAP)
        if w < _MIN_TILE_W:  # too small to read: as many columns as the width allows, scroll for the rest
            cols = max(1, min(n, int(width // (_MIN_TILE_W + _GAP))))
            w = width / cols - _GAP
        return cols, w, w * aspect

    def _update_height(self) -> None:
        cols, _, h = self.grid_layout()
        rows = math.ceil(max(len(self._order), 1) / cols)
        needed = int(rows * (h + self._label_height() + _GAP) + _GAP)
        self.setMinimumHeight(needed if needed > self._visible_height else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_height()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        for rect, index in self._cells:
            if rect.contains(event.position()):
                self.attributeClicked.emit(index)
                return

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 24, 28))
        self._cells = []
        self.drawn_labels = []
        if not self._images:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "Attention maps appear here once a face is found."
            )
            painter.end()
            return
        cols, w, h = self.grid_layout()
        label_h = self._label_height()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setFont(self._label_font(w))
        metrics = painter.fontMetrics()
        line = metrics.lineSpacing()
        for slot, index in enumerate(self._order):
            r, c = divmod(slot, cols)
            x, y = _GAP / 2 + c * (w + _GAP), _GAP / 2 + r * (h + label_h + _GAP)
            painter.drawImage(QRectF(x, y, w, h), self._images[index])
            cell = QRectF(x, y, w, h + label_h)
            self._cells.append((cell, index))
            colour = tier_color(index)
            painter.fillRect(QRectF(x, y + h, w, 4), colour)
            if index == self._selected:
                painter.setPen(QColor(255, 210, 0))
                painter.drawRect(cell.adjusted(-2, -2, 2, 2))
            info = ATTRIBUTES[index]
            positive = self._decisions is not None and bool(self._decisions[index])
            painter.setPen(QColor(120, 230, 150) if positive else QColor(220, 220, 220))
            name_rect = QRectF(x, y + h + 5, w, line * _NAME_LINES)
            painter.drawText(name_rect, Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap, info.display_name)
            numbers = f"{100 * info.frequency:.1f} %"
            if self._probabilities is not None:
                numbers += f" · p {float(self._probabilities[index]):.2f}"
            painter.setPen(colour.lighter(130))
            painter.drawText(QRectF(x, y + h + 5 + line * _NAME_LINES, w, line), Qt.AlignmentFlag.AlignHCenter, numbers)
            self.drawn_labels += [info.display_name, numbers]
        painter.end()


class AttentionExplorer(QWidget):
    """The grid plus its rarity filter and a caption naming face, layer and head."""

    attributeClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AttentionExplorer")
        self.filter_box = QComboBox()
        labels = ["All 40 attributes", *(frequency_band_label(b, parenthesised=True) for b in FILTERS[1:])]
        for key, label in zip(FILTERS, labels):
            self.filter_box.addItem(label, key)
        self.caption = QLabel("")
        self.grid = AttentionGrid()
        self.scroll_area = _GridScroll(self.grid)
        self.legend = QLabel(
            "Under each map: the attribute, how often it is positive in the training faces (%, coloured by "
            "rarity tier) and this face's probability p (name in green = predicted positive)."
        )
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet("color: gray; font-size: 9pt;")
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(QLabel("Show"))
        top.addWidget(self.filter_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.legend)
        self.filter_box.currentIndexChanged.connect(lambda: self.grid.set_filter(self.filter_box.currentData()))
        self.grid.attributeClicked.connect(self.attributeClicked)

    def set_selected(self, index: int | None) -> None:
        """Frame the map of the overlay attribute."""
        self.grid.set_selected(index)

    def show_face(self, face: FaceResult | None, tiles: Sequence[np.ndarray] | None, caption: str) -> None:
        """The 40 maps of ``face`` (a FaceResult) with ``caption``; ``face`` None says the frame has no face."""
        if face is None or tiles is None:
            self.grid.set_tiles(None)
            self.caption.setText("No face in this frame")
            return
        self.caption.setText(caption)
        self.grid.set_tiles(tiles, face.probabilities, face.decisions)

    def set_filter(self, filter_: str) -> None:
        index = self.filter_box.findData(filter_)
        if index >= 0:
            self.filter_box.setCurrentIndex(index)


class _GridScroll(QScrollArea):
    """Scrolls the grid vertically only, and tells it how tall the visible part is."""

    def __init__(self, grid: AttentionGrid) -> None:
        super().__init__()
        self.setWidget(grid)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self._grid = grid

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._grid.set_visible_height(self.viewport().height())
        super().resizeEvent(event)
