"""Overlay controls: which attribute's attention to show, from which layer and head, how strongly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QSlider, QWidget

from attricam.engine.attributes import ATTRIBUTES
from attricam.engine.render import COLORMAPS, RenderOptions

__all__ = ["OverlayControls", "OverlayState"]


class OverlayState(TypedDict):
    """The overlay choices as plain values for QSettings (-1: none / last layer / mean of heads)."""

    attribute: int
    layer: int
    head: int
    opacity: int
    colormap: str
    boxes: bool
    landmarks: bool
    bars: bool
    unreliable: bool


class OverlayControls(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("OverlayControls")
        self.attribute_box = QComboBox()
        self.attribute_box.addItem("(no overlay)", None)
        for info in ATTRIBUTES:
            self.attribute_box.addItem(f"{info.display_name}  ·  {info.badge}", info.index)
        self.attribute_box.setMaxVisibleItems(20)
        # as narrow as a short name needs, not the longest "name · badge": the panel fits a 1024 px window
        self.attribute_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.attribute_box.setMinimumContentsLength(14)
        self.layer_box = QComboBox()
        self.head_box = QComboBox()
        self.set_model_shape(layers=2, heads=4)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity_label = QLabel("50 %")
        self.opacity_label.setMinimumWidth(36)
        self.colormap_box = QComboBox()
        self.colormap_box.addItems(list(COLORMAPS))
        self.boxes = QCheckBox("Boxes + ids")
        self.boxes.setChecked(True)
        self.landmarks = QCheckBox("Landmarks (L)")
        self.bars = QCheckBox("Bars on video")
        self.unreliable = QCheckBox("Unreliable attributes")
        self.unreliable.setToolTip(
            "Also highlight positives of attributes whose held-out AUC is under the reliability bar "
            "(dimmed and marked ? otherwise)"
        )

        opacity_row = QHBoxLayout()
        opacity_row.addWidget(self.opacity, 1)
        opacity_row.addWidget(self.opacity_label)
        opacity_row.addWidget(self.colormap_box)  # one row for both: the toggles below take two
        toggles = QGridLayout()  # two by two: one row of four made the side panel ~500 px wide
        for i, box in enumerate((self.boxes, self.landmarks, self.bars, self.unreliable)):
            toggles.addWidget(box, i // 2, i % 2)
        toggles.setColumnStretch(2, 1)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Attribute", self.attribute_box)
        layer_head = QHBoxLayout()
        layer_head.addWidget(self.layer_box, 1)
        layer_head.addWidget(self.head_box, 1)
        form.addRow("Layer / head", layer_head)
        form.addRow("Opacity, colours", opacity_row)
        form.addRow(toggles)

        for combo in (self.attribute_box, self.layer_box, self.head_box, self.colormap_box):
            combo.currentIndexChanged.connect(self.changed)
        for check in (self.boxes, self.landmarks, self.bars, self.unreliable):
            check.toggled.connect(self.changed)
        self.opacity.valueChanged.connect(self._opacity_changed)

    def set_model_shape(self, *, layers: int, heads: int) -> None:
        """Offer the layers and heads the loaded model has; keeps the choice when still valid."""
        layer, head = self.layer_box.currentData(), self.head_box.currentData()
        for box in (self.layer_box, self.head_box):
            box.blockSignals(True)
            box.clear()
        self.layer_box.addItem("last layer", -1)
        for i in range(layers):
            self.layer_box.addItem(f"layer {i + 1}", i)
        self.head_box.addItem("mean of heads", None)
        for i in range(heads):
            self.head_box.addItem(f"head {i + 1}", i)
        self._select_data(self.layer_box, layer)
        self._select_data(self.head_box, head)
        for box in (self.layer_box, self.head_box):
            box.blockSignals(False)

    @staticmethod
    def _select_data(box: QComboBox, value: object) -> None:
        index = box.findData(value)
        box.setCurrentIndex(max(index, 0))

    def _opacity_changed(self, value: int) -> None:
        self.opacity_label.setText(f"{value} %")
        self.changed.emit()

    # ------------------------------------------------------------------ values
    @property
    def attribute(self) -> int | None:
        index: int | None = self.attribute_box.currentData()
        return index

    def set_attribute(self, index: int | None) -> None:
        self._select_data(self.attribute_box, index)

    def toggle_landmarks(self) -> None:
        self.landmarks.toggle()

    def options(self, selected_face: int | None = None) -> RenderOptions:
        return RenderOptions(
            attribute=self.attribute,
            layer=self.layer_box.currentData(),
            head=self.head_box.currentData(),
            opacity=self.opacity.value() / 100.0,
            colormap=self.colormap_box.currentText(),
            show_boxes=self.boxes.isChecked(),
            show_landmarks=self.landmarks.isChecked(),
            show_bars=self.bars.isChecked(),
            selected_face=selected_face,
            show_unreliable=self.unreliable.isChecked(),
            show_hud=False,  # the GUI paints its own HUD; exports switch the engine HUD back on
        )

    def state(self) -> OverlayState:
        """Plain values for QSettings."""
        return {
            "attribute": -1 if self.attribute is None else self.attribute,
            "layer": self.layer_box.currentData(),
            "head": -1 if self.head_box.currentData() is None else self.head_box.currentData(),
            "opacity": self.opacity.value(),
            "colormap": self.colormap_box.currentText(),
            "boxes": self.boxes.isChecked(),
            "landmarks": self.landmarks.isChecked(),
            "bars": self.bars.isChecked(),
            "unreliable": self.unreliable.isChecked(),
        }

    def restore(self, state: Mapping[str, object]) -> None:
        """Back from :meth:`state` as QSettings returns it (the INI backend gives numbers and booleans as text)."""
        attribute = _as_int(state.get("attribute", -1))
        self.set_attribute(None if attribute < 0 else attribute)
        self._select_data(self.layer_box, _as_int(state.get("layer", -1)))
        head = _as_int(state.get("head", -1))
        self._select_data(self.head_box, None if head < 0 else head)
        self.opacity.setValue(_as_int(state.get("opacity", 50)))
        colormap = self.colormap_box.findText(str(state.get("colormap", "jet")))
        self.colormap_box.setCurrentIndex(max(colormap, 0))
        self.boxes.setChecked(_as_bool(state.get("boxes", True)))
        self.landmarks.setChecked(_as_bool(state.get("landmarks", False)))
        self.bars.setChecked(_as_bool(state.get("bars", False)))
        self.unreliable.setChecked(_as_bool(state.get("unreliable", False)))


def _as_int(value: object) -> int:
    """``int(value)`` for what QSettings stores (a number or its text); anything else fails as ``int`` would."""
    if isinstance(value, (int, float, str)):
        return int(value)
    raise TypeError(f"int() argument must be a string or a number, not {type(value).__name__!r}")


def _as_bool(value: object) -> bool:
    """QSettings' INI backend gives booleans back as 'true'/'false' strings."""
    return value.lower() == "true" if isinstance(value, str) else bool(value)
