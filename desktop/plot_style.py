"""One look for every pyqtgraph plot, and PNG export through pyqtgraph's exporters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter

from engine.atomic import atomic_path
from engine.attributes import ATTRIBUTES
from engine.render import TIER_COLORS

__all__ = ["export_plot_png", "frequency_colors", "log_ticks", "make_plot", "tier_brushes"]

pg.setConfigOptions(background="w", foreground="k", antialias=True)


def make_plot(title: str, x_label: str, y_label: str, *, legend: bool = False) -> pg.PlotWidget:
    plot = pg.PlotWidget()
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


def log_ticks(plot: pg.PlotWidget, values) -> None:
    """Readable ticks for an x axis whose points sit at log10(value)."""
    plot.getPlotItem().getAxis("bottom").setTicks([[(float(np.log10(v)), f"{v:g}") for v in values], []])


def frequency_colors(frequencies) -> list[tuple[int, int, int]]:
    """Viridis on log frequency: rare attributes dark purple, common ones yellow (same scale everywhere)."""
    colormap = pg.colormap.get("viridis")
    f = np.log10(np.clip(np.asarray(frequencies, np.float64), 1e-3, 1.0))
    lo, hi = np.log10(0.02), np.log10(0.85)
    t = np.clip((f - lo) / (hi - lo), 0.0, 1.0)
    return [tuple(int(v) for v in colormap.map(float(x), mode="byte")[:3]) for x in t]


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
