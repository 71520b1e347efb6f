"""The imbalance journey's result: the course page's recipes side by side, each loadable into the live view.

Reads what ``attricam train --compare ... --freeze backbone`` writes (``comparison.json`` and
``comparison.png``, :mod:`attricam.training.compare`): one row per recipe (rare predicted-positive
rate and F1 at the untuned 0.5 and after calibration, mean AUC, the rare attributes stuck at 0.5,
the seconds it took) and the plot of every rare attribute's predicted rate against its true rate.
When the naive recipe is not stuck (a frozen, trained backbone already separates the rare
attributes), a note says so: the story is shown as measured, never staged.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from .metrics_table import MetricsTable

__all__ = ["JOURNEY_RECIPES", "JourneyView"]

JOURNEY_RECIPES = ("bce", "weighted", "focal", "aggressive-focal", "bce+balanced", "bce+curriculum")
"""The course page's sequence: naive BCE, weighted (cap 50), focal (gamma 2), aggressive focal, then the samplers."""
_HEADERS = (
    "recipe",
    "rare pred. pos. @0.5",
    "rare F1 @0.5",
    "rare F1 (cal.)",
    "mean AUC",
    "stuck @0.5",
    "stuck attributes @0.5",
    "seconds",
)
_FORMATS = ("{}", "{:.1%}", "{:.3f}", "{:.3f}", "{:.4f}", "{}", "{}", "{:.0f}")


class JourneyView(QWidget):
    loadRequested = Signal(str)  # a recipe's bundle path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("JourneyView")
        self.rows: list[dict] = []
        self.summary = QLabel("Run the imbalance journey (the button under the recipe) to compare the recipes here.")
        self.summary.setWordWrap(True)
        self.table = MetricsTable()
        self.table.setObjectName("JourneyTable")
        self.plot = QLabel()
        self.plot.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.plot.setMinimumSize(200, 160)
        self.plot.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)  # the picture follows the room
        self._picture = QPixmap()
        self.recipe_box = QComboBox()
        self.load_button = QPushButton("Load this recipe's model into the live view")
        self.load_button.setEnabled(False)
        self.load_button.clicked.connect(self._load)
        chooser = QHBoxLayout()
        chooser.addWidget(self.recipe_box, 1)
        chooser.addWidget(self.load_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(chooser)
        layout.addWidget(self.plot, 2)

    def show_comparison(self, folder: str | Path) -> bool:
        """Fill the table, plot and chooser from ``folder/comparison.json``; False when there is none."""
        folder = Path(folder)
        path = folder / "comparison.json"
        if not path.is_file():
            return False
        data = json.loads(path.read_text())
        self.rows = list(data.get("rows", []))
        self.table.set_rows(
            _HEADERS,
            [
                (
                    r["recipe"], r["rare_pred_pos_rate@0.5"], r["rare_f1@0.5"], r["rare_f1"], r["mean_auc"],
                    len(r.get("stuck_at_0.5", [])), ", ".join(r.get("stuck_at_0.5", [])) or "none",
                    r.get("seconds"),
                )
                for r in self.rows
            ],
            _FORMATS,
        )  # fmt: skip
        self.recipe_box.clear()
        for r in self.rows:
            if r.get("bundle"):
                self.recipe_box.addItem(r["recipe"], r["bundle"])
        self.load_button.setEnabled(self.recipe_box.count() > 0)
        self._picture = QPixmap(str(folder / "comparison.png"))
        self._fit_picture()
        self.summary.setText(self._story(data.get("budget", "")))
        return True

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_picture()

    def _fit_picture(self) -> None:
        """The comparison plot, whole, at the size of its room (never cut, never blown past 1:1)."""
        if self._picture.isNull():
            self.plot.clear()
            return
        size = self._picture.size().scaled(self.plot.size(), Qt.AspectRatioMode.KeepAspectRatio)
        if size.width() > self._picture.width():
            size = self._picture.size()
        self.plot.setPixmap(
            self._picture.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        )

    def _story(self, budget: str) -> str:
        if not self.rows:
            return "No recipe finished."
        base = self.rows[0]
        total = sum(r.get("seconds") or 0 for r in self.rows)
        text = f"{len(self.rows)} recipes in {total / 60:.1f} min ({budget})."
        stuck = base.get("stuck_at_0.5", [])
        if stuck:
            freed = {r["recipe"]: len(set(stuck) - set(r.get("stuck_at_0.5", []))) for r in self.rows[1:]}
            best = max(freed, key=freed.get) if freed else ""
            text += f" {base['recipe']} leaves {len(stuck)} rare attributes stuck at 0.5"
            text += f"; {best} frees {freed[best]} of them." if best else "."
        else:
            text += f" {base['recipe']} leaves no rare attribute stuck at 0.5"
            if base.get("frozen"):
                text += (
                    ": on a frozen, trained backbone the features already separate the rare attributes, so the "
                    "course's all-negative trap (a from-scratch failure) does not appear. Compare the rare F1 "
                    "and predicted rates instead."
                )
            else:
                text += "."
        return text

    def _load(self) -> None:
        bundle = self.recipe_box.currentData()
        if bundle:
            self.loadRequested.emit(str(bundle))
