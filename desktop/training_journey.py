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
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .metrics_table import MetricsTable

__all__ = ["JOURNEY_RECIPES", "JourneyView"]

JOURNEY_RECIPES = ("bce", "weighted", "focal", "aggressive-focal", "bce+balanced", "bce+curriculum")
"""The course page's sequence: naive BCE, weighted (cap 50), focal (gamma 2), aggressive focal, then the samplers."""
_HEADERS = (
    "recipe",
    "rare pred.\npos. @0.5",
    "rare F1\n@0.5",
    "rare F1\n(cal.)",
    "mean\nAUC",
    "seconds",
    "stuck\n@0.5",
    "rare attributes stuck at 0.5",
)
_FORMATS = ("{}", "{:.1%}", "{:.3f}", "{:.3f}", "{:.4f}", "{:.0f}", "{}", "{}")

JourneyRow = dict[str, Any]
"""One recipe's line of ``comparison.json`` as read (``attricam.training.compare.ComparisonRow``, a module the
desktop may not import; older files lack some keys, so they are read with ``.get``)."""


class JourneyView(QWidget):
    loadRequested = Signal(str)  # a recipe's bundle path
    compareRequested = Signal(str)  # a recipe's bundle path, to stand beside the live model
    sideBySideRequested = Signal(str, str)  # the naive recipe's bundle (live model), the best one's (second model)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("JourneyView")
        self.rows: list[JourneyRow] = []
        self.summary = QLabel("Run the imbalance journey (the button under the recipe) to compare the recipes here.")
        self.summary.setWordWrap(True)
        self.table = MetricsTable()
        self.table.setObjectName("JourneyTable")
        self.plot = _Picture()
        self.recipe_box = QComboBox()
        self.load_button = QPushButton("Load this recipe's model into the live view")
        self.load_button.setEnabled(False)
        self.load_button.clicked.connect(self._load)
        self.compare_button = QPushButton("Compare with the live model")
        self.compare_button.setToolTip("Keep the live model and put this recipe's beside it (Live tab, Compare A | B)")
        self.compare_button.setEnabled(False)
        self.compare_button.clicked.connect(self._compare)
        self.side_by_side_button = QPushButton("Naive vs best, side by side live")
        self.side_by_side_button.setObjectName("JourneySideBySide")
        self.side_by_side_button.setEnabled(False)
        self.side_by_side_button.clicked.connect(self._side_by_side)
        chooser = QHBoxLayout()
        chooser.addWidget(self.recipe_box, 1)
        chooser.addWidget(self.load_button)
        chooser.addWidget(self.compare_button)
        chooser.addWidget(self.side_by_side_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addLayout(chooser)
        layout.addWidget(self.plot, 1)

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
                    r["recipe"],
                    r["rare_pred_pos_rate@0.5"],
                    r["rare_f1@0.5"],
                    r["rare_f1"],
                    r["mean_auc"],
                    r.get("seconds"),
                    len(r.get("stuck_at_0.5", [])),
                    ", ".join(n.replace("_", " ") for n in r.get("stuck_at_0.5", [])) or "none",
                )
                for r in self.rows
            ],
            _FORMATS,
        )
        self._fit_table()
        self.recipe_box.clear()
        for r in self.rows:
            if r.get("bundle"):
                self.recipe_box.addItem(r["recipe"], r["bundle"])
        self.load_button.setEnabled(self.recipe_box.count() > 0)
        self.compare_button.setEnabled(self.recipe_box.count() > 0)
        pair = self.naive_and_best()
        self.side_by_side_button.setEnabled(pair is not None)
        if pair is not None:
            self.side_by_side_button.setText(f"{pair[0]['recipe']} vs {pair[1]['recipe']}, side by side live")
            self.side_by_side_button.setToolTip(
                f"Live model: {pair[0]['recipe']} (the naive recipe); beside it: {pair[1]['recipe']}, the recipe that "
                "frees the most rare attributes stuck at 0.5 (then: highest rare F1 at 0.5)"
            )
        self.plot.set_picture(QPixmap(str(folder / "comparison.png")))
        self.summary.setText(self._story(data.get("budget", "")))
        return True

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self._fit_rows)  # once the columns have their new widths

    def _fit_table(self) -> None:
        """The stuck attributes' names wrap in the last column (whole, left-aligned) and the table is as tall as
        its rows, so the plot below gets the rest of the room."""
        table, last = self.table, len(_HEADERS) - 1
        if table.columnCount() != len(_HEADERS):
            return
        table.setWordWrap(True)
        table.horizontalHeader().setSectionResizeMode(last, QHeaderView.ResizeMode.Stretch)
        for row in range(table.rowCount()):
            item = table.item(row, last)
            if item is not None:
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        QTimer.singleShot(0, self._fit_rows)

    def _fit_rows(self) -> None:
        """Rows as tall as their wrapped names at the columns' present widths (again when a column resizes)."""
        table = self.table
        table.resizeRowsToContents()
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
        table.setFixedHeight(rows + table.horizontalHeader().height() + 2 * table.frameWidth() + 2)

    def _story(self, budget: str) -> str:
        if not self.rows:
            return "No recipe finished."
        base = self.rows[0]
        total = sum(r.get("seconds") or 0 for r in self.rows)
        text = f"{len(self.rows)} recipes in {total / 60:.1f} min ({budget})."
        stuck = base.get("stuck_at_0.5", [])
        if stuck:
            freed = {r["recipe"]: len(set(stuck) - set(r.get("stuck_at_0.5", []))) for r in self.rows[1:]}
            best = max(freed, key=freed.__getitem__) if freed else ""
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

    def naive_and_best(self) -> tuple[JourneyRow, JourneyRow] | None:
        """The naive recipe (the first row) and the one that frees most of its stuck rare attributes (ties: the
        higher rare F1 at 0.5); None without two recipes with bundles."""
        rows = [r for r in self.rows if r.get("bundle")]
        if len(rows) < 2 or rows[0] is not self.rows[0]:
            return None
        naive = rows[0]
        stuck = set(naive.get("stuck_at_0.5", []))
        best = max(rows[1:], key=lambda r: (len(stuck - set(r.get("stuck_at_0.5", []))), r.get("rare_f1@0.5", 0.0)))
        return naive, best

    def _compare(self) -> None:
        bundle = self.recipe_box.currentData()
        if bundle:
            self.compareRequested.emit(str(bundle))

    def _side_by_side(self) -> None:
        pair = self.naive_and_best()
        if pair is not None:
            self.sideBySideRequested.emit(str(pair[0]["bundle"]), str(pair[1]["bundle"]))

    def _load(self) -> None:
        bundle = self.recipe_box.currentData()
        if bundle:
            self.loadRequested.emit(str(bundle))


class _Picture(QLabel):
    """The comparison plot, whole, at the size of its room (never cut, never blown past 1:1)."""

    def __init__(self) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(200, 160)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)  # the picture follows the room
        self._picture = QPixmap()

    def set_picture(self, picture: QPixmap) -> None:
        self._picture = picture
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._picture.isNull():
            self.clear()
            return
        size = self._picture.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        if size.width() > self._picture.width():
            size = self._picture.size()
        self.setPixmap(
            self._picture.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        )
