"""A sortable read-only table of per-attribute numbers (training report, dashboard imbalance table)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

__all__ = ["Cell", "MetricsTable"]

Cell = float | str | None
"""One raw table value: a number, a name, or None (shown as "–", sorted first)."""


class _Item(QTableWidgetItem):
    """Sorts by the number it shows, not by its text."""

    def __init__(self, text: str, key: float | str) -> None:
        super().__init__(text)
        self.key = key

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _Item):
            a, b = self.key, other.key
            if isinstance(a, str) or isinstance(b, str):  # names, or a name against a number: by text
                return str(a) < str(b)
            return a < b
        return super().__lt__(other)


class MetricsTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(20)

    def set_rows(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[Cell]],
        formats: Sequence[str],
        colours: Sequence[QColor | None] | None = None,
    ) -> None:
        """``rows`` of raw values; ``formats`` like ``"{:.3f}"`` per column; optional colour per row (first cell)."""
        self.setSortingEnabled(False)
        self.clear()
        self.setColumnCount(len(headers))
        self.setHorizontalHeaderLabels(list(headers))
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, (value, fmt) in enumerate(zip(row, formats)):
                text = fmt.format(value) if value is not None else "–"
                item = _Item(text, value if value is not None else float("-inf"))
                if c > 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 0 and colours is not None and colours[r] is not None:
                    item.setForeground(QBrush(colours[r]))
                self.setItem(r, c, item)
        self.setSortingEnabled(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
