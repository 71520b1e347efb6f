"""The training recipe form: data root, loss, sampler, main hyper-parameters, epoch budget, output folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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

from training.config import LOSS_NAMES, SAMPLERS, TrainConfig
from training.thresholds import DEFAULT_POLICY, POLICIES

__all__ = ["TrainingForm"]

_REPO_ROOT = Path(__file__).resolve().parent.parent
_LOSS_HELP = {
    "bce": "plain binary cross-entropy (the all-negative trap baseline)",
    "weighted": "BCE with positive weights clip(1/(f+0.001), 1, cap)",
    "focal": "focal loss (Lin et al. 2017) with capped positive weights",
    "aggressive-focal": "focal + capped weights + diversity penalty",
    "class-balanced": "effective-number weights (Cui et al. 2019)",
    "ldam": "LDAM margins + deferred re-weighting (Cao et al. 2019)",
    "asl": "asymmetric loss (Ridnik et al. 2021)",
}
_SAMPLER_HELP = {
    "random": "every face once per epoch, in a seeded random order",
    "balanced": "faces drawn by 1 / rate of their rarest attribute (pair with bce: weighted losses double-correct)",
    "curriculum": "balanced, rare-attribute faces admitted gradually over the first half of the run",
}


def _path_row(edit: QLineEdit, pick) -> QHBoxLayout:
    row = QHBoxLayout()
    button = QPushButton("Browse…")
    button.clicked.connect(pick)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


class TrainingForm(QWidget):
    def __init__(self, data_root: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingForm")
        defaults = TrainConfig(data=(data_root,), out="")
        self.data_root = QLineEdit(data_root)
        self.data_root.setPlaceholderText("folder with img_align_celeba/ and list_attr_celeba.txt")
        self.loss = QComboBox()
        for name in LOSS_NAMES:
            self.loss.addItem(name, name)
            self.loss.setItemData(self.loss.count() - 1, _LOSS_HELP.get(name, name), 3)  # tooltip role
        self.loss.setCurrentIndex(LOSS_NAMES.index(defaults.loss))
        self.sampler = QComboBox()
        for name in SAMPLERS:
            self.sampler.addItem(name, name)
            self.sampler.setItemData(self.sampler.count() - 1, _SAMPLER_HELP[name], 3)  # tooltip role
        self.sampler.setCurrentIndex(SAMPLERS.index(defaults.sampler))
        self.epochs = QSpinBox(minimum=1, maximum=500, value=defaults.epochs)
        self.batch_size = QSpinBox(minimum=2, maximum=4096, value=defaults.batch_size)
        self.lr = QDoubleSpinBox(decimals=5, minimum=1e-5, maximum=1.0, singleStep=5e-4, value=defaults.lr)
        self.weight_decay = QDoubleSpinBox(
            decimals=4, minimum=0.0, maximum=1.0, singleStep=0.01, value=defaults.weight_decay
        )
        self.train_limit = QSpinBox(minimum=0, maximum=1_000_000, value=0, specialValueText="all")
        self.val_limit = QSpinBox(minimum=0, maximum=1_000_000, value=0, specialValueText="all")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=defaults.seed)
        self.policy = QComboBox()
        self.policy.addItems(list(dict.fromkeys([DEFAULT_POLICY, *POLICIES])))  # "auto" picks per run
        self.policy.setCurrentText(defaults.threshold_policy)
        self.stuck_fixes = QCheckBox("apply emergency fixes when an attribute is stuck")
        self.stuck_fixes.setChecked(defaults.stuck_fixes)
        self.out = QLineEdit("")
        self.out.setPlaceholderText("new folder under runs/ (automatic)")

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("CelebA root", _path_row(self.data_root, self._pick_root))
        form.addRow("Loss", self.loss)
        form.addRow("Sampler", self.sampler)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning rate", self.lr)
        form.addRow("Weight decay", self.weight_decay)
        form.addRow("Train images", self.train_limit)
        form.addRow("Val images", self.val_limit)
        form.addRow("Seed", self.seed)
        form.addRow("Thresholds", self.policy)
        form.addRow("", self.stuck_fixes)
        form.addRow("Run folder", _path_row(self.out, self._pick_out))
        self.loss.currentIndexChanged.connect(lambda: self.loss.setToolTip(_LOSS_HELP.get(self.loss.currentData(), "")))

    def _pick_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "CelebA root", self.data_root.text())
        if folder:
            self.data_root.setText(folder)

    def _pick_out(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder", str(_REPO_ROOT / "runs"))
        if folder:
            self.out.setText(folder)

    def validate(self) -> str:
        """Empty when the form can start a run, else what is wrong (shown to the user)."""
        root = Path(self.data_root.text().strip())
        if not (root / "img_align_celeba").is_dir() or not (root / "list_attr_celeba.txt").is_file():
            return f"{root}: not a CelebA root (needs img_align_celeba/ and list_attr_celeba.txt)"
        return ""

    def config(self, **overrides) -> TrainConfig:
        out = self.out.text().strip()
        if not out:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            out = str(_REPO_ROOT / "runs" / f"gui-{self.loss.currentData()}-{stamp}")
            self.out.setText(out)
        values = {
            "data": (self.data_root.text().strip(),),
            "out": out,
            "loss": self.loss.currentData(),
            "sampler": self.sampler.currentData(),
            "epochs": self.epochs.value(),
            "batch_size": self.batch_size.value(),
            "lr": self.lr.value(),
            "weight_decay": self.weight_decay.value(),
            "train_limit": self.train_limit.value() or None,
            "val_limit": self.val_limit.value() or None,
            "seed": self.seed.value(),
            "threshold_policy": self.policy.currentText(),
            "stuck_fixes": self.stuck_fixes.isChecked(),
            "name": Path(out).name,
        }
        values.update(overrides)
        return TrainConfig(**values)

    def set_config(self, config: TrainConfig) -> None:
        """Show a run's recipe (e.g. one being resumed)."""
        self.data_root.setText(config.data[0] if config.data else "")
        index = self.loss.findData(config.loss)
        if index >= 0:
            self.loss.setCurrentIndex(index)
        self.sampler.setCurrentIndex(max(self.sampler.findData(config.sampler), 0))
        self.epochs.setValue(config.epochs)
        self.batch_size.setValue(config.batch_size)
        self.lr.setValue(config.lr)
        self.weight_decay.setValue(config.weight_decay)
        self.train_limit.setValue(config.train_limit or 0)
        self.val_limit.setValue(config.val_limit or 0)
        self.seed.setValue(config.seed)
        self.policy.setCurrentText(config.threshold_policy)
        self.stuck_fixes.setChecked(config.stuck_fixes)
        self.out.setText(config.out)
