"""The live tab's side column: faces, overlay controls and the attribute panels (one model, or two compared).

The column scrolls up and down on a short window (1280x720 at 125 %) and never sideways, so the window itself
never needs a scroll bar. The widgets are public: the live tab wires them to its worker.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize
from PySide6.QtWidgets import QFrame, QGroupBox, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from attricam.engine.bundle import ModelBundle

from .attribute_panel import AttributePanel
from .comparison_panel import ComparisonPanel
from .face_list import FaceList
from .model_files import bundle_label
from .overlay_controls import OverlayControls

__all__ = ["LiveSidePanel"]


class _ColumnLayout(QVBoxLayout):
    """The side panels' column: as tall as its scroll area, or its minimum height. A word-wrapped legend gives a
    layout height-for-width, and a scroll area then sizes it to its preferred height (every attribute row),
    scrolling the whole column at any window size instead of the attribute list alone."""

    def hasHeightForWidth(self) -> bool:
        return False


class LiveSidePanel(QScrollArea):
    """Faces, attention overlay and attributes (Attributes | Compare A | B) in one scrolling column, never
    narrower than its widest row plus the vertical scroll bar (the panels take the viewport's width)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LiveSidePanel")
        self.face_list = FaceList()
        self.overlay = OverlayControls()
        self.attributes = AttributePanel()
        self.comparison = ComparisonPanel()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.attributes, "Attributes")
        self.tabs.addTab(self.comparison, "Compare A | B")
        column = QWidget()
        layout = _ColumnLayout(column)
        layout.setContentsMargins(4, 0, 0, 0)
        for title, widget, stretch in (
            ("Faces (click one in the video or here)", self.face_list, 0),
            ("Attention overlay", self.overlay, 0),
            ("Attributes of the selected face", self.tabs, 1),
        ):
            box = QGroupBox(title)
            inner = QVBoxLayout(box)
            inner.setContentsMargins(6, 4, 6, 4)
            inner.addWidget(widget)
            layout.addWidget(box, stretch)
        self.setWidget(column)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)

    def set_model(self, bundle: ModelBundle, compared: ModelBundle | None) -> None:
        """A new live model: its layers and heads for the overlay, its thresholds for the bars."""
        self.overlay.set_model_shape(layers=bundle.config.layers, heads=bundle.config.heads)
        self.attributes.set_thresholds(bundle.decision_rule.thresholds)
        if compared is not None:
            self.comparison.set_models(bundle_label(bundle), bundle_label(compared))

    def set_compared(self, live: ModelBundle | None, compared: ModelBundle | None) -> None:
        """Compare A | B names both models and comes forward while a second one is loaded; without one, the
        single model's panel does."""
        self.comparison.set_models(
            bundle_label(live) if live is not None else None, bundle_label(compared) if compared is not None else None
        )
        self.tabs.setCurrentWidget(self.comparison if compared is not None else self.attributes)

    def set_selected_attribute(self, index: int | None) -> None:
        self.attributes.set_selected_attribute(index)
        self.comparison.set_selected_attribute(index)

    def attribute_after(self, current: int | None, delta: int) -> int | None:
        """The attribute ``delta`` rows from ``current`` in the order the panel in front lists them (sorted,
        filtered, wrapping); from none, the first (down) or last (up). None when the panel lists none."""
        panel = self.comparison.bars if self.tabs.currentWidget() is self.comparison else self.attributes
        order = panel.visible_attributes()
        if not order:
            return None
        position = order.index(current) + delta if current in order else (0 if delta > 0 else len(order) - 1)
        return order[position % len(order)]

    def minimumSizeHint(self) -> QSize:
        hint, column = super().minimumSizeHint(), self.widget()
        if column is None:
            return hint
        width = column.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
        return QSize(width, hint.height())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # the panels' minimum may have changed: tell the splitter
            self.updateGeometry()
        return super().event(event)
