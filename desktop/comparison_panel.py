"""The Live tab's "Compare A | B" page: the selected face seen by two models at once.

Model A is the live model, model B the second bundle (Model ▸ Compare with a second model…, or one click
from the Training tab's journey). For the selected face: the overlay attribute's attention map of each model
side by side, a line naming where they disagree (rare attributes first), and both models' bars row by row
(:class:`~attricam.desktop.comparison_bars.ComparisonBars`). Without a second model the page says how to
load one. Everything shown comes from the packet the worker rendered; this widget only paints.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from attricam.engine.attributes import ATTRIBUTES
from attricam.engine.comparison import ModelComparison
from attricam.engine.render import COMPARE_COLORS

from .comparison_bars import ComparisonBars
from .qt_image import rgb_to_pixmap

__all__ = ["ComparisonPanel"]

_TILE_W = 120


def _swatch(model: int) -> str:
    r, g, b = COMPARE_COLORS[model]
    return f"<span style='color: rgb({r},{g},{b}); font-size: 14pt;'>■</span> <b>{'AB'[model]}</b>"


class ComparisonPanel(QWidget):
    attributeClicked = Signal(int)
    chooseRequested = Signal()  # "Choose a second model…"
    stopRequested = Signal()  # "Stop comparing"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ComparisonPanel")
        empty_page = self._build_empty_page()
        page = self._build_comparison_page()
        self.stack = QStackedWidget()
        self.stack.addWidget(empty_page)
        self.stack.addWidget(page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self.comparing = False

    def _build_empty_page(self) -> QWidget:
        """The hint shown while there is no second model, with a button to choose one."""
        self.empty = QLabel(
            "Put two models side by side on the same faces: load a second model with <b>Model ▸ Compare with a "
            "second model…</b>, or from the Training tab's imbalance journey (e.g. the naive and the best "
            "recipe). Its bars stand beside the live model's, disagreements first."
        )
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.choose_button = QPushButton("Choose a second model…")
        self.choose_button.clicked.connect(self.chooseRequested)
        empty_page = QWidget()
        empty_layout = QVBoxLayout(empty_page)
        empty_layout.addWidget(self.empty)
        empty_layout.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignLeft)
        empty_layout.addStretch(1)
        return empty_page

    def _build_comparison_page(self) -> QWidget:
        """The two models' tiles and names, the summary, the bars and their legend."""
        self.model_labels = (QLabel(), QLabel())
        self.stop_button = QPushButton("Stop comparing")
        self.stop_button.clicked.connect(self.stopRequested)
        self.caption = QLabel("No face")
        self.caption.setStyleSheet("font-weight: bold;")
        self.tiles = (QLabel(), QLabel())
        for k, tile in enumerate(self.tiles):
            r, g, b = COMPARE_COLORS[k]
            tile.setStyleSheet(f"border: 2px solid rgb({r},{g},{b});")
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setFixedWidth(_TILE_W + 4)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.bars = ComparisonBars()
        self.bars.attributeClicked.connect(self.attributeClicked)
        scroll = QScrollArea()
        scroll.setWidget(self.bars)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area = scroll
        legend = QLabel("red ground = the two models decide differently · bright bar = positive · red tick = threshold")
        legend.setWordWrap(True)
        legend.setStyleSheet("color: gray; font-size: 9pt;")
        top = self._header()
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)
        layout.addWidget(legend)
        return page

    def _header(self) -> QHBoxLayout:
        """The tiles on the left, the models' names, the face and Stop on their right: the page stays short."""
        beside = QVBoxLayout()
        for label in self.model_labels:
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            beside.addWidget(label)
        self.caption.setWordWrap(True)
        beside.addWidget(self.caption)
        beside.addStretch(1)
        beside.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignLeft)
        top = QHBoxLayout()
        for tile in self.tiles:
            top.addWidget(tile, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(beside, 1)
        return top

    def set_models(self, first: str | None, second: str | None) -> None:
        """The live model's and the second model's labels; ``second=None``: nothing to compare (the hint)."""
        self.comparing = second is not None
        self.stack.setCurrentIndex(1 if self.comparing else 0)
        for k, name in enumerate((first, second)):
            self.model_labels[k].setText(f"{_swatch(k)}&nbsp; {name or '…'}")
            self.model_labels[k].setToolTip(name or "")
        if not self.comparing:
            self.show_comparison(None, None, None)

    def show_comparison(
        self,
        comparison: ModelComparison | None,
        tiles: tuple[int, tuple[np.ndarray, np.ndarray]] | None,
        face_id: int | None,
        attribute: int | None = None,
    ) -> None:
        """Both answers for ``face_id`` (the selected face) and the attention tiles the worker made for it."""
        pair = comparison.pair(face_id) if comparison is not None and face_id is not None else None
        self.bars.set_pair(pair)
        if pair is None:
            self.caption.setText("No face" if comparison is None or not comparison.first.faces else "Pick a face")
            self.summary.setText("")
            for tile in self.tiles:
                tile.clear()
            return
        shown = ATTRIBUTES[attribute].display_name if attribute is not None else "no attribute (click one)"
        self.caption.setText(f"Face #{pair[0].face_id} · attention: {shown}")
        if tiles is not None and tiles[0] == pair[0].face_id:
            for label, image in zip(self.tiles, tiles[1]):
                label.setPixmap(rgb_to_pixmap(image).scaledToWidth(_TILE_W, Qt.TransformationMode.SmoothTransformation))
        differ = self.bars.disagreements()
        if differ:
            names = ", ".join(ATTRIBUTES[i].display_name for i in differ)
            self.summary.setText(f"<b>{len(differ)} disagreement{'s' * (len(differ) != 1)}</b> (rare first): {names}")
        else:
            self.summary.setText("The two models decide every attribute of this face alike.")

    def set_selected_attribute(self, index: int | None) -> None:
        self.bars.set_selected(index)
