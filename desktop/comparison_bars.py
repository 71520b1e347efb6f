"""Two models' bars for one face, row by row: where they disagree first, rare attributes first.

Each row: the attribute's name and how common it is (in its rarity colour), then model A's bar and value and
model B's, each with its own calibrated threshold tick; a bar is bright where that model calls the attribute
positive. Rows the two models decide differently stand on a red ground at the top, rarest first
(:func:`attricam.engine.comparison.disagreement_order`); the rest follow by how far apart the models are.
Custom-painted like :class:`~attricam.desktop.attribute_bars.AttributeBars`; a click selects an attribute.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from attricam.engine.attributes import ATTRIBUTES, NUM_ATTRIBUTES
from attricam.engine.comparison import disagreement_order
from attricam.engine.render import COMPARE_COLORS
from attricam.engine.results import FaceResult

from .attribute_bars import tier_color

__all__ = ["ComparisonBars"]

_ROW_H = 22
_NAME_W = 140
_RATE_W = 52
_VALUE_W = 38
_DISAGREE = QColor(220, 60, 60, 60)


class ComparisonBars(QWidget):
    attributeClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ComparisonBars")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(NUM_ATTRIBUTES * _ROW_H + 4)
        self._pair: tuple[FaceResult, FaceResult] | None = None
        self._order: list[int] = list(range(NUM_ATTRIBUTES))
        self._differ = np.zeros(NUM_ATTRIBUTES, bool)
        self._selected: int | None = None

    def set_pair(self, pair: tuple[FaceResult, FaceResult] | None) -> None:
        """Model A's and model B's answer for one face (None: no face)."""
        self._pair = pair
        if pair is None:
            self._order, self._differ = list(range(NUM_ATTRIBUTES)), np.zeros(NUM_ATTRIBUTES, bool)
        else:
            self._order = disagreement_order(*pair)
            self._differ = np.asarray(pair[0].decisions, bool) != np.asarray(pair[1].decisions, bool)
        self.update()

    def disagreements(self) -> list[int]:
        """Attributes the two models decide differently, in the order shown (rarest first)."""
        return [i for i in self._order if self._differ[i]]

    def visible_attributes(self) -> list[int]:
        return list(self._order)

    def set_selected(self, index: int | None) -> None:
        self._selected = index
        self.update()

    def row_rect(self, index: int) -> QRectF:
        return QRectF(0, 2 + self._order.index(index) * _ROW_H, self.width(), _ROW_H)

    def sizeHint(self) -> QSize:
        return QSize(_NAME_W + _RATE_W + 2 * (80 + _VALUE_W) + 16, self.height())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        row = int((event.position().y() - 2) // _ROW_H)
        if 0 <= row < len(self._order) and event.button() == Qt.MouseButton.LeftButton:
            self.attributeClicked.emit(self._order[row])

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().text().color()
        base = QFont(self.font())
        bold = QFont(base)
        bold.setBold(True)
        bars_x = _NAME_W + _RATE_W + 4
        bar_w = max(30, (self.width() - bars_x - 2 * _VALUE_W - 34) // 2)
        for row, index in enumerate(self._order):
            info = ATTRIBUTES[index]
            top = 2 + row * _ROW_H
            if self._differ[index]:
                painter.fillRect(QRectF(0, top, self.width(), _ROW_H), _DISAGREE)
            if index == self._selected:  # an outline: a selected disagreement still shows its red ground
                painter.setPen(QColor(230, 170, 0))
                painter.setBrush(Qt.BrushStyle.NoBrush if self._differ[index] else QColor(255, 210, 0, 70))
                painter.drawRect(QRectF(1, top + 1, self.width() - 2, _ROW_H - 2))
            painter.setFont(bold if self._differ[index] else base)
            painter.setPen(text)
            painter.drawText(QRectF(6, top, _NAME_W - 8, _ROW_H), Qt.AlignmentFlag.AlignVCenter, info.display_name)
            painter.setFont(base)
            painter.setPen(tier_color(index))
            painter.drawText(
                QRectF(_NAME_W, top, _RATE_W, _ROW_H),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                f"{100 * info.frequency:.1f} %",
            )
            if self._pair is None:
                continue
            for k, face in enumerate(self._pair):
                x = bars_x + 10 + k * (bar_w + _VALUE_W + 10)
                self._bar(painter, face, index, QRectF(x, top + 5, bar_w, _ROW_H - 10), k)
                painter.setPen(text)
                painter.setFont(bold if face.decisions[index] else base)
                painter.drawText(
                    QRectF(x + bar_w + 2, top, _VALUE_W, _ROW_H),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                    f"{float(face.probabilities[index]):.2f}",
                )
        painter.end()

    @staticmethod
    def _bar(painter: QPainter, face: FaceResult, index: int, track: QRectF, model: int) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(128, 128, 128, 60))
        painter.drawRect(track)
        colour = QColor(*COMPARE_COLORS[model])
        if not face.decisions[index]:
            colour.setAlpha(90)  # a negative answer: the same colour, faint
        p = min(max(float(face.probabilities[index]), 0.0), 1.0)
        painter.setBrush(colour)
        painter.drawRect(QRectF(track.x(), track.y(), track.width() * p, track.height()))
        tick = track.x() + track.width() * float(face.thresholds[index])
        painter.setPen(QColor(230, 60, 50))
        painter.drawLine(int(tick), int(track.y() - 3), int(tick), int(track.bottom() + 3))
