"""The training recipe form: data root and run folder, then one row per tunable :class:`TrainConfig` field.

The rows are derived from the dataclass (:func:`attricam.training.config.tunable_fields`:
label, range, choices and help live beside the field), so adding a
hyper-parameter there adds it here. Each field's widget is in ``form.fields`` under the field's name
(``form.fields["epochs"]``, a spin box; ``form.fields["loss"]``, a combo box).

"Start from a bundle" and "Frozen backbone" set ``init_from`` and ``freeze``: a frozen run
keeps the bundle's CNN (the shipped model when no bundle is named) and trains only the
attribute queries, cross-attention and heads on token grids cached once per face, so a
recipe takes about a minute instead of many; it trains on un-augmented tokens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import Field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from attricam.engine.bundle import default_bundle_path
from attricam.engine.workspace import workspace_dir
from attricam.training.config import (
    CELEBA_ATTR_FILE,
    CELEBA_IMAGE_DIR,
    FROZEN_DEFAULT_EPOCHS,
    TrainConfig,
    celeba_root_problem,
    field_type,
    shared_data_dir,
    tunable_fields,
)

__all__ = ["FieldWidget", "TrainingForm", "default_extra_root"]

FieldWidget = QComboBox | QCheckBox | QSpinBox | QDoubleSpinBox
"""A tunable field's widget: choices, a flag, a count, a number."""


def default_extra_root() -> str:
    """``../shared/celeba-lowres`` when it holds CelebA's layout (10,000 more train faces), else empty."""
    folder = shared_data_dir("celeba-lowres")
    return "" if celeba_root_problem(folder) else str(folder)


def _path_row(edit: QLineEdit, pick: Callable[[], None]) -> QHBoxLayout:
    row = QHBoxLayout()
    button = QPushButton("Browse…")
    button.clicked.connect(pick)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


def _widget_for(f: Field[Any]) -> FieldWidget:
    """A combo box for choices, a check box for a flag, a spin box for a number (0 = "all" for an optional one)."""
    meta, kind = f.metadata, field_type(f)
    if "choices" in meta:
        combo = QComboBox()
        for name in meta["choices"]:
            combo.addItem(name, name)
            combo.setItemData(combo.count() - 1, meta.get("choice_help", {}).get(name, ""), Qt.ItemDataRole.ToolTipRole)
        return combo
    if kind is bool:
        return QCheckBox(meta["label"])
    low, high = meta.get("range", (0, 1_000_000))
    if kind is int:
        spin = QSpinBox(minimum=int(low), maximum=int(high))
        if f.default is None:
            spin.setSpecialValueText("all")
        return spin
    return QDoubleSpinBox(
        decimals=meta.get("decimals", 4), minimum=low, maximum=high, singleStep=meta.get("step", 0.01)
    )


class TrainingForm(QWidget):
    def __init__(self, data_root: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingForm")
        self.data_root = QLineEdit(data_root)
        self.data_root.setPlaceholderText(f"folder with {CELEBA_IMAGE_DIR}/ and {CELEBA_ATTR_FILE}")
        self.extra_root = QLineEdit(default_extra_root())
        self.extra_root.setPlaceholderText("optional: a second folder in CelebA's layout (more train faces)")
        self.extra_root.setToolTip(
            "More faces for training, e.g. ../shared/celeba-lowres (its images are half size); the CelebA root "
            "above wins where both hold an image. attricam train --data ROOT --data MORE"
        )
        self.out = QLineEdit("")
        self.out.setPlaceholderText("new folder under runs/ (automatic)")
        self.fields: dict[str, FieldWidget] = {f.name: _widget_for(f) for f in tunable_fields()}
        """Field name -> its widget, in the dataclass's order."""

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("CelebA root", _path_row(self.data_root, self._pick_root))
        form.addRow("More faces", _path_row(self.extra_root, self._pick_extra_root))
        for f in tunable_fields():
            widget = self.fields[f.name]
            if f.metadata.get("help"):
                widget.setToolTip(f.metadata["help"])
            form.addRow("" if isinstance(widget, QCheckBox) else f.metadata["label"], widget)
            if isinstance(widget, QComboBox) and f.metadata.get("choice_help"):
                widget.currentIndexChanged.connect(
                    lambda _, w=widget, helps=f.metadata["choice_help"]: w.setToolTip(helps.get(w.currentData(), ""))
                )
        self.init_from = QLineEdit("")
        self.init_from.setPlaceholderText("none: random weights (frozen: the shipped model)")
        self.init_from.setToolTip("a model bundle (.pt) whose weights the run starts from (attricam train --from)")
        self.freeze = QCheckBox("Frozen backbone: retrain only the head (about a minute per recipe)")
        self.freeze.setToolTip(
            "Keep the bundle's CNN and train the attribute queries, cross-attention and heads afresh on token grids "
            "computed once per face and cached (cache/tokens-*.npy; the first run builds them, a few minutes). "
            "No augmentation: the tokens are those of the un-augmented face. attricam train --freeze backbone"
        )
        self.freeze.toggled.connect(self._freeze_toggled)
        form.addRow("Start from bundle", _path_row(self.init_from, self._pick_bundle))
        form.addRow("", self.freeze)
        form.addRow("Run folder", _path_row(self.out, self._pick_out))
        self.set_config(TrainConfig(data=self._roots(), out=""))

    def _freeze_toggled(self, frozen: bool) -> None:
        """A frozen run needs few epochs: switching it on takes the default (12) down to the frozen default."""
        full_default = next(f.default for f in tunable_fields() if f.name == "epochs")
        if not isinstance(full_default, int):
            raise TypeError(f"TrainConfig.epochs defaults to {full_default!r}, not a count")
        epochs = self.spin_box("epochs")
        if frozen and epochs.value() == full_default:
            epochs.setValue(FROZEN_DEFAULT_EPOCHS)
        elif not frozen and epochs.value() == FROZEN_DEFAULT_EPOCHS:
            epochs.setValue(full_default)

    def spin_box(self, name: str) -> QSpinBox:
        """The spin box of an integer field (``epochs``, ``batch_size``, ``train_limit``…)."""
        widget = self.fields[name]
        if not isinstance(widget, QSpinBox):
            raise TypeError(f"{name}: a {type(widget).__name__}, not a QSpinBox")
        return widget

    def combo_box(self, name: str) -> QComboBox:
        """The combo box of a field with choices (``loss``, ``sampler``…)."""
        widget = self.fields[name]
        if not isinstance(widget, QComboBox):
            raise TypeError(f"{name}: a {type(widget).__name__}, not a QComboBox")
        return widget

    def _pick_bundle(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Model bundle", str(default_bundle_path().parent), "Model bundles (*.pt)"
        )
        if path:
            self.init_from.setText(path)

    def _pick_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "CelebA root", self.data_root.text())
        if folder:
            self.data_root.setText(folder)

    def _pick_extra_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "More faces (CelebA layout)", self.extra_root.text())
        if folder:
            self.extra_root.setText(folder)

    def _roots(self) -> tuple[str, ...]:
        """The CelebA root, then the optional second one."""
        extra = self.extra_root.text().strip()
        return (self.data_root.text().strip(), *((extra,) if extra else ()))

    def _pick_out(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder", str(workspace_dir() / "runs"))
        if folder:
            self.out.setText(folder)

    def validate(self) -> str:
        """Empty when the form can start a run, else what is wrong (shown to the user)."""
        if problem := celeba_root_problem(self.data_root.text().strip()):
            return problem
        if (extra := self.extra_root.text().strip()) and (problem := celeba_root_problem(extra)):
            return f"More faces: {problem}"
        bundle = self._bundle()
        if bundle and not Path(bundle).is_file():
            return f"{bundle}: no such model bundle to start from"
        return ""

    def _bundle(self) -> str | None:
        """The bundle to start from: the field, else the shipped model for a frozen run, else none."""
        text = self.init_from.text().strip()
        if text:
            return text
        return str(default_bundle_path()) if self.freeze.isChecked() else None

    def values(self) -> dict[str, Any]:
        """The tunable fields as the form shows them (0 of an optional count is None, "all")."""
        values: dict[str, Any] = {}
        for f in tunable_fields():
            widget = self.fields[f.name]
            if isinstance(widget, QComboBox):
                values[f.name] = widget.currentData()
            elif isinstance(widget, QCheckBox):
                values[f.name] = widget.isChecked()
            elif isinstance(widget, QSpinBox) and f.default is None:
                values[f.name] = widget.value() or None
            else:
                values[f.name] = widget.value()
        return values

    def config(self, **overrides: Any) -> TrainConfig:
        """The form's recipe; ``overrides`` replace fields by name (Any: each field has its own type)."""
        out = self.out.text().strip()
        if not out:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            out = str(workspace_dir() / "runs" / f"gui-{self.combo_box('loss').currentData()}-{stamp}")
            self.out.setText(out)
        values = {
            "data": self._roots(),
            "out": out,
            "name": Path(out).name,
            **self.values(),
            "init_from": self._bundle(),
            "freeze": "backbone" if self.freeze.isChecked() else None,
        }
        values.update(overrides)
        return TrainConfig(**values)

    def set_config(self, config: TrainConfig) -> None:
        """Show a run's recipe (e.g. one being resumed)."""
        self.data_root.setText(config.data[0] if config.data else "")
        self.extra_root.setText(config.data[1] if len(config.data) > 1 else "")
        for f in tunable_fields():
            widget, value = self.fields[f.name], getattr(config, f.name)
            if isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(widget.findData(value), 0))
                widget.setToolTip(
                    f.metadata.get("choice_help", {}).get(widget.currentData(), f.metadata.get("help", ""))
                )
            elif isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            else:
                widget.setValue(value or 0)
        self.freeze.blockSignals(True)  # the recipe's own epochs, not the toggle's defaults
        self.freeze.setChecked(config.freeze == "backbone")
        self.freeze.blockSignals(False)
        self.init_from.setText(config.init_from or "")
        self.out.setText(config.out)
