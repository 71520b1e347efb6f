"""40 attribute rows for one face: probability bar, calibrated threshold tick, rarity badge, reliability mark.

An attribute whose held-out AUC is under the reliability bar (:mod:`attricam.engine.reliability`) is drawn
dimmed with a "?" mark and is never highlighted as positive unless ``set_show_unreliable(True)``; the
tooltip gives its AUC, precision and recall.

Custom-painted (one widget, not 40 x 4 child widgets) so refreshing it at video
rate costs one paint. Rows follow the sort and filter chosen in
:class:`~attricam.desktop.attribute_panel.AttributePanel`; a click selects an attribute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QEvent, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from attricam.engine.attributes import ATTRIBUTES, NUM_ATTRIBUTES, AttributeInfo, RarityTier
from attricam.engine.reliability import ModelReliability
from attricam.engine.render import TIER_COLORS

__all__ = ["FILTERS", "SORT_KEYS", "AttributeBars", "ordered_attributes"]

SORT_KEYS = ("probability", "rarity", "name")
FILTERS = ("all", "rare", "uncommon", "common")
_ROW_H = 22
_NAME_W = 150
_BADGE_W = 118
_MARK_W = 20
_VALUE_W = 44
_DIM_ALPHA = 110


def ordered_attributes(probabilities: np.ndarray | None, sort: str, filter_: str) -> list[int]:
    """Attribute indices to show, in display order; the bands' cut-offs are :mod:`attricam.engine.attributes`'."""
    if sort not in SORT_KEYS:
        raise ValueError(f"unknown sort {sort!r}; valid: {', '.join(SORT_KEYS)}")
    if filter_ not in FILTERS:
        raise ValueError(f"unknown filter {filter_!r}; valid: {', '.join(FILTERS)}")
    infos = [a for a in ATTRIBUTES if _passes(a, filter_)]
    if sort == "probability" and probabilities is not None:
        infos.sort(key=lambda a: -float(probabilities[a.index]))
    elif sort == "rarity":
        infos.sort(key=lambda a: a.frequency)
    elif sort == "name":
        infos.sort(key=lambda a: a.name.lower())
    return [a.index for a in infos]


def _passes(info: AttributeInfo, filter_: str) -> bool:
    """Rarity filters straight from attricam.engine.attributes: rare and common by its predicates, uncommon by tier."""
    if filter_ == "rare":
        return info.is_rare
    if filter_ == "uncommon":
        return info.tier is RarityTier.UNCOMMON
    if filter_ == "common":
        return info.is_common
    return True


def tier_color(index: int) -> QColor:
    return QColor(*TIER_COLORS[ATTRIBUTES[index].tier])


class AttributeBars(QWidget):
    attributeClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AttributeBars")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self._probabilities: np.ndarray | None = None
        self._decisions: np.ndarray | None = None
        self._thresholds = np.full(NUM_ATTRIBUTES, 0.5, np.float32)
        self._order = list(range(NUM_ATTRIBUTES))
        self._selected: int | None = None
        self._hover = -1
        self._sort, self._filter = "probability", "all"
        self._reliability: ModelReliability | None = None
        self._show_unreliable = False
        self._update_height()

    # ------------------------------------------------------------------ state
    def set_values(self, probabilities: np.ndarray | None, decisions: np.ndarray | None) -> None:
        self._probabilities, self._decisions = probabilities, decisions
        self._reorder()

    def set_reliability(self, reliability: ModelReliability | None) -> None:
        """Held-out figures of the answer shown (None: unmeasured, nothing is dimmed)."""
        if reliability is not self._reliability:
            self._reliability = reliability
            self.update()

    def set_show_unreliable(self, show: bool) -> None:
        self._show_unreliable = bool(show)
        self.update()

    def reliable(self) -> np.ndarray:
        """(40,) bool: attributes at or above the reliability bar."""
        return np.ones(NUM_ATTRIBUTES, bool) if self._reliability is None else self._reliability.reliable

    def shown_positive(self) -> np.ndarray:
        """(40,) bool: rows highlighted as positive (decided, and reliable unless unreliable ones are shown)."""
        if self._decisions is None:
            return np.zeros(NUM_ATTRIBUTES, bool)
        decided = np.asarray(self._decisions, bool)
        return decided if self._show_unreliable else decided & self.reliable()

    @property
    def probabilities(self) -> np.ndarray | None:
        """(40,) the probabilities the bars show, None before the first face."""
        return self._probabilities

    def set_thresholds(self, thresholds: npt.ArrayLike) -> None:
        """(40,) calibrated thresholds, one per attribute (the red ticks)."""
        self._thresholds = np.asarray(thresholds, np.float32)
        self.update()

    def set_selected(self, index: int | None) -> None:
        self._selected = index
        self.update()

    def set_order(self, sort: str, filter_: str) -> None:
        self._sort, self._filter = sort, filter_
        self._reorder()

    def visible_attributes(self) -> list[int]:
        return list(self._order)

    @property
    def selected(self) -> int | None:
        """The highlighted attribute (the overlay's), or None."""
        return self._selected

    def _reorder(self) -> None:
        order = ordered_attributes(self._probabilities, self._sort, self._filter)
        if order != self._order:
            self._order = order
            self._update_height()
        self.update()

    def _update_height(self) -> None:
        self.setFixedHeight(max(1, len(self._order)) * _ROW_H + 4)

    def sizeHint(self) -> QSize:
        return QSize(_NAME_W + _BADGE_W + _MARK_W + _VALUE_W + 160, self.height())

    def minimumSizeHint(self) -> QSize:
        """Every column whole with the shortest bar (40 px): any narrower and the values are cut off."""
        return QSize(_NAME_W + _BADGE_W + _MARK_W + 8 + 40 + _VALUE_W + 8, self.height())

    def row_rect(self, index: int) -> QRectF | None:
        """Widget rectangle of an attribute's row, or None when filtered out."""
        if index not in self._order:
            return None
        return QRectF(0, 2 + self._order.index(index) * _ROW_H, self.width(), _ROW_H)

    # ------------------------------------------------------------------ mouse
    def _row_at(self, y: float) -> int:
        row = int((y - 2) // _ROW_H)
        return self._order[row] if 0 <= row < len(self._order) else -1

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hover = self._row_at(event.position().y())
        if hover != self._hover:
            self._hover = hover
            self.setToolTip(
                _tooltip(hover, self._probabilities, self._thresholds, self._reliability) if hover >= 0 else ""
            )
            self.update()

    def leaveEvent(self, event: QEvent) -> None:
        self._hover = -1
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self._row_at(event.position().y())
        if index >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.attributeClicked.emit(index)

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        style = self._row_style()
        shown, reliable = self.shown_positive(), self.reliable()
        for row, index in enumerate(self._order):
            top = 2 + row * _ROW_H
            p = float(self._probabilities[index]) if self._probabilities is not None else None
            positive = bool(shown[index])
            trusted = bool(reliable[index])
            self._paint_background(painter, index, top, positive)
            self._paint_label(painter, index, top, style, positive=positive, trusted=trusted)
            self._paint_bar(painter, index, top, style, p, positive=positive, trusted=trusted)
        painter.end()

    def _row_style(self) -> _RowStyle:
        text = self.palette().text().color()
        base_font = QFont(self.font())
        small = QFont(base_font)
        small.setPointSizeF(max(7.0, base_font.pointSizeF() - 1.5))
        small.setBold(True)
        bold = QFont(base_font)
        bold.setBold(True)
        bar_x = _NAME_W + _BADGE_W + _MARK_W + 8
        bar_w = max(40, self.width() - bar_x - _VALUE_W - 8)
        dim_text = QColor(text)
        dim_text.setAlpha(_DIM_ALPHA)
        return _RowStyle(base_font, small, bold, text, dim_text, bar_x, bar_w)

    def _paint_background(self, painter: QPainter, index: int, top: float, positive: bool) -> None:
        """The selected row in yellow, the hovered one in the highlight colour, a positive one in green."""
        row_rect = QRectF(0, top, self.width(), _ROW_H)
        if index == self._selected:
            painter.fillRect(row_rect, QColor(255, 210, 0, 70))
        elif index == self._hover:
            painter.fillRect(row_rect, self.palette().highlight().color().lighter(170))
        elif positive:
            painter.fillRect(row_rect, QColor(60, 200, 120, 40))

    def _paint_label(
        self, painter: QPainter, index: int, top: float, style: _RowStyle, *, positive: bool, trusted: bool
    ) -> None:
        """The attribute's name, its rarity badge and its reliability mark."""
        info = ATTRIBUTES[index]
        painter.setFont(style.bold if positive else style.base)
        painter.setPen(style.text if trusted else style.dim_text)
        painter.drawText(
            QRectF(6, top, _NAME_W - 8, _ROW_H),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            info.display_name,
        )
        colour = tier_color(index)
        badge = QRectF(_NAME_W, top + 3, _BADGE_W - 6, _ROW_H - 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(badge, 4, 4)
        painter.setFont(style.small)
        painter.setPen(QColor("white") if colour.lightness() < 170 else QColor("black"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, info.badge)
        # reliability mark: ✓ measured reliable, ? under the bar (nothing when the bundle has no figures)
        if self._reliability is not None:
            painter.setPen(QColor(40, 170, 90) if trusted else QColor(230, 150, 30))
            painter.drawText(
                QRectF(_NAME_W + _BADGE_W - 4, top, _MARK_W, _ROW_H),
                Qt.AlignmentFlag.AlignCenter,
                "✓" if trusted else "?",
            )

    def _paint_bar(
        self,
        painter: QPainter,
        index: int,
        top: float,
        style: _RowStyle,
        p: float | None,
        *,
        positive: bool,
        trusted: bool,
    ) -> None:
        """The probability bar (dimmed when unreliable), the threshold tick and the value."""
        track = QRectF(style.bar_x, top + 5, style.bar_w, _ROW_H - 10)
        painter.setBrush(QColor(128, 128, 128, 60))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRect(track)
        if p is not None:
            fill = QRectF(track.x(), track.y(), track.width() * min(max(p, 0.0), 1.0), track.height())
            colour = QColor(40, 190, 110) if positive else QColor(110, 130, 160)
            if not trusted:
                colour.setAlpha(_DIM_ALPHA)
            painter.setBrush(colour)
            painter.drawRect(fill)
        tx = track.x() + track.width() * float(self._thresholds[index])
        painter.setPen(QColor(230, 60, 50))
        painter.drawLine(int(tx), int(top + 2), int(tx), int(top + _ROW_H - 2))
        painter.setPen(style.text if trusted else style.dim_text)
        painter.setFont(style.bold if positive else style.base)
        painter.drawText(
            QRectF(style.bar_x + style.bar_w + 4, top, _VALUE_W, _ROW_H),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            "–" if p is None else f"{p:.2f}",
        )


@dataclass(frozen=True)
class _RowStyle:
    """What every row of one paint shares: the fonts, the text colours (full and dimmed) and the bar's span."""

    base: QFont
    small: QFont
    bold: QFont
    text: QColor
    dim_text: QColor
    bar_x: int
    bar_w: int


def _tooltip(
    index: int, probabilities: np.ndarray | None, thresholds: np.ndarray, reliability: ModelReliability | None = None
) -> str:
    info = ATTRIBUTES[index]
    p = "–" if probabilities is None else f"{float(probabilities[index]):.3f}"
    trust = ""
    if reliability is not None:
        figures = reliability.attributes[index]
        trust = "<br>" + figures.tooltip().split("\n", 1)[1]
        if not figures.reliable:
            trust += "<br><b>unreliable</b>: not highlighted as positive (toggle “Unreliable attributes”)"
    return (
        f"<b>{info.display_name}</b><br>probability {p}, calibrated threshold {float(thresholds[index]):.3f}<br>"
        f"{info.tier.label}: {100 * info.frequency:.1f} % of training faces are positive{trust}"
        "<br>click to show its attention"
    )
