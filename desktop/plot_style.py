"""One look for every pyqtgraph plot, and PNG export through pyqtgraph's exporters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter

from attricam.engine.atomic import atomic_path
from attricam.engine.attributes import ATTRIBUTES
from attricam.engine.render import TIER_COLORS

__all__ = [
    "VerticalLabelAxis",
    "export_plot_png",
    "frequency_color_bar",
    "frequency_colors",
    "log_ticks",
    "make_plot",
    "tier_brushes",
]

pg.setConfigOptions(background="w", foreground="k", antialias=True)


class VerticalLabelAxis(pg.AxisItem):
    """A bottom axis whose tick labels are written upwards, so 40 attribute names fit side by side, whole."""

    _label_room = 0

    def setTicks(self, ticks: Sequence[Sequence[tuple[float, str]]] | None) -> None:
        metrics = pg.QtGui.QFontMetrics(self.font() if self.style.get("tickFont") is None else self.style["tickFont"])
        longest = max((metrics.horizontalAdvance(str(t)) for level in ticks or () for _, t in level), default=0)
        self._label_room = longest + metrics.height() + 16  # the names, then the axis label below them
        super().setTicks(ticks)
        self._updateHeight()

    def _updateHeight(self) -> None:
        """pyqtgraph sizes a bottom axis for one line of text; upright names need their longest length."""
        if not self._label_room:
            super()._updateHeight()
            return
        self.setMaximumHeight(self._label_room)
        self.setMinimumHeight(self._label_room)
        self.picture = None

    def drawPicture(
        self, painter: QPainter, axisSpec: object, tickSpecs: object, textSpecs: Sequence[tuple[QRectF, int, str]]
    ) -> None:
        super().drawPicture(painter, axisSpec, tickSpecs, [])
        painter.setPen(self.textPen())
        if self.style.get("tickFont") is not None:
            painter.setFont(self.style["tickFont"])
        metrics = painter.fontMetrics()
        for rect, _, text in textSpecs:
            painter.save()
            painter.translate(rect.center().x() + metrics.ascent() / 2 - 1, rect.top())
            painter.rotate(-90)
            painter.drawText(pg.QtCore.QPointF(-metrics.horizontalAdvance(text), 0), text)
            painter.restore()

    def label_texts(self) -> list[str]:
        """Every tick label this axis shows (tests check that none is cut or skipped)."""
        return [str(t) for level in (self._tickLevels or ()) for _, t in level]


def make_plot(
    title: str, x_label: str, y_label: str, *, legend: bool = False, bottom_axis: pg.AxisItem | None = None
) -> pg.PlotWidget:
    plot = pg.PlotWidget(axisItems={"bottom": bottom_axis} if bottom_axis is not None else None)
    plot.setTitle(title, size="10pt")
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.2)
    for axis in ("bottom", "left"):
        plot.getPlotItem().getAxis(axis).enableAutoSIPrefix(False)  # no "(x0.001)" on rates and gains
    plot.setMenuEnabled(True)
    if legend:
        plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
    plot.setMinimumSize(260, 180)
    return plot


def log_ticks(plot: pg.PlotWidget, values: Iterable[float]) -> None:
    """Readable ticks for an x axis whose points sit at log10(value)."""
    plot.getPlotItem().getAxis("bottom").setTicks([[(float(np.log10(v)), f"{v:g}") for v in values], []])


def frequency_colors(frequencies: npt.ArrayLike) -> list[tuple[int, int, int]]:
    """Viridis on log frequency: rare attributes dark purple, common ones yellow (same scale everywhere)."""
    colormap = pg.colormap.get("viridis")
    f = np.log10(np.clip(np.asarray(frequencies, np.float64), 1e-3, 1.0))
    lo, hi = np.log10(_FREQUENCY_RANGE[0]), np.log10(_FREQUENCY_RANGE[1])
    t = np.clip((f - lo) / (hi - lo), 0.0, 1.0)
    return [_rgb(colormap.map(float(x), mode="byte")) for x in t]


def _rgb(rgba: Sequence[float]) -> tuple[int, int, int]:
    return int(rgba[0]), int(rgba[1]), int(rgba[2])


_FREQUENCY_RANGE = (0.02, 0.85)


def frequency_color_bar(plot: pg.PlotWidget) -> pg.ColorBarItem:
    """The colour scale of :func:`frequency_colors` beside ``plot``, labelled in training-frequency percent."""
    lo, hi = (float(np.log10(v)) for v in _FREQUENCY_RANGE)
    bar = pg.ColorBarItem(
        values=(lo, hi),
        colorMap=pg.colormap.get("viridis"),
        interactive=False,
        width=12,
        label="training frequency (%)",
    )
    ticks = [(float(np.log10(v)), f"{100 * v:g}") for v in (0.02, 0.05, 0.1, 0.2, 0.5, 0.85)]
    bar.axis.setTicks([ticks, []])
    plot.getPlotItem().layout.addItem(bar, 2, 5)
    return bar


def tier_brushes() -> list[pg.QtGui.QBrush]:
    return [pg.mkBrush(*TIER_COLORS[a.tier]) for a in ATTRIBUTES]


def export_plot_png(plot: pg.PlotWidget, path: str | Path, width: int = 1200) -> Path:
    """Write the plot as PNG via pyqtgraph's ImageExporter (at ``width`` pixels)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    exporter = ImageExporter(plot.getPlotItem())
    exporter.parameters()["width"] = width
    with atomic_path(path) as tmp:
        exporter.export(str(tmp))
    return path
