"""Attribute panel of the selected face: sort and rarity filter above the 40 bars."""

from __future__ import annotations

import numpy.typing as npt
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from attricam.engine.attributes import frequency_band_label
from attricam.engine.results import FaceResult

from .attribute_bars import FILTERS, SORT_KEYS, AttributeBars
from .elided_label import ElidedLabel

__all__ = ["AttributePanel"]

_FILTER_LABELS = {"all": "All", **{band: frequency_band_label(band) for band in FILTERS[1:]}}


class AttributePanel(QWidget):
    attributeClicked = Signal(int)
    orderChanged = Signal(str, str)  # sort, filter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AttributePanel")
        self.title = ElidedLabel(120, mode=Qt.TextElideMode.ElideRight)  # whole in its tooltip on a small screen
        self.title.setText("No face")
        self.title.setStyleSheet("font-weight: bold;")
        self.sort_box = QComboBox()
        self.sort_box.setToolTip("Sort attributes")
        for key in SORT_KEYS:
            self.sort_box.addItem(f"Sort: {key}", key)
        self.filter_group = QButtonGroup(self)
        self.filter_group.setExclusive(True)
        filters = QHBoxLayout()
        filters.setSpacing(0)
        for key in FILTERS:
            # tool buttons, as wide as their text: push buttons' 80 px minimum made the row 418 px, wider than the
            # side panel at 1280x720 and 125 % or 150 % scale (it scrolled sideways)
            button = QToolButton()
            button.setText(_FILTER_LABELS[key])
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setCheckable(True)
            button.setProperty("filter", key)
            button.setChecked(key == "all")
            self.filter_group.addButton(button)
            filters.addWidget(button)
        self.bars = AttributeBars()
        scroll = QScrollArea()
        scroll.setWidget(self.bars)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bars_width = self.bars.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(bars_width + 2 * scroll.frameWidth())  # the side panel keeps room for every column
        self.scroll_area = scroll
        legend = QLabel(
            "bar = probability · red tick = calibrated threshold · green = positive · "
            "? = unreliable (held-out AUC under the bar; hover for figures)"
        )
        legend.setWordWrap(True)
        legend.setStyleSheet("color: gray; font-size: 9pt;")

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.sort_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(scroll, 1)
        layout.addWidget(legend)

        self.sort_box.currentIndexChanged.connect(self._order_changed)
        self.filter_group.buttonClicked.connect(self._order_changed)
        self.bars.attributeClicked.connect(self.attributeClicked)

    # ------------------------------------------------------------------ API
    @property
    def sort(self) -> str:
        key: str = self.sort_box.currentData()
        return key

    @property
    def filter(self) -> str:
        button = self.filter_group.checkedButton()  # an exclusive group: one is always checked
        key: str = button.property("filter") if button is not None else "all"
        return key

    def set_order(self, sort: str, filter_: str) -> None:
        if sort in SORT_KEYS:
            self.sort_box.setCurrentIndex(SORT_KEYS.index(sort))
        for button in self.filter_group.buttons():
            if button.property("filter") == filter_:
                button.setChecked(True)
        self._order_changed()

    def set_face(self, face: FaceResult | None, face_count: int = 0) -> None:
        if face is None:
            self.title.setText("No face" if face_count == 0 else f"{face_count} faces — pick one")
            self.bars.set_values(None, None)
            return
        self.bars.set_thresholds(face.thresholds)  # a fused answer has its own rule (engine.second_opinion)
        self.bars.set_reliability(face.reliability)
        self.bars.set_values(face.probabilities, face.decisions)
        positives = int(self.bars.shown_positive().sum())
        suffix = f" of {face_count}" if face_count > 1 else ""
        opinion = " · + face network" if face.second_opinion else ""
        self.title.setText(f"Face #{face.face_id}{suffix} · {positives} positive{opinion}")

    def set_show_unreliable(self, show: bool) -> None:
        """Highlight positives of unreliable attributes too (the overlay controls' toggle)."""
        self.bars.set_show_unreliable(show)

    def set_thresholds(self, thresholds: npt.ArrayLike) -> None:
        """The model's calibrated thresholds (the red ticks)."""
        self.bars.set_thresholds(thresholds)

    def visible_attributes(self) -> list[int]:
        """Attribute indices in the panel's current sort and filter order."""
        return self.bars.visible_attributes()

    def set_selected_attribute(self, index: int | None) -> None:
        self.bars.set_selected(index)
        rect = self.bars.row_rect(index) if index is not None else None
        if rect is not None:
            self.scroll_area.ensureVisible(int(rect.center().x()), int(rect.center().y()), 0, int(rect.height()))

    def _order_changed(self, *_: object) -> None:
        self.bars.set_order(self.sort, self.filter)
        self.orderChanged.emit(self.sort, self.filter)
