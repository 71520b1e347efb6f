"""Live plots of a training run: loss, predicted vs true positive rate per attribute, rare vs common F1.

Fed with the trainer's typed events (:mod:`attricam.training.events`). A fix
applied after epoch ``e`` (1-based) changes the loss from the next epoch on, so
it is marked by a dashed vertical line at x = ``e`` on the loss and F1 plots:
the boundary between the last epoch under the old loss and the first under the new.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QListWidget, QListWidgetItem, QWidget

from attricam.engine.attributes import ATTRIBUTES, NUM_ATTRIBUTES
from attricam.training.events import EpochEvent, Event, FixEvent, StepEvent, StuckEvent

from .plot_style import make_plot

__all__ = ["F1_SERIES", "TrainingPlots"]

_BY_FREQUENCY = sorted(range(NUM_ATTRIBUTES), key=lambda i: ATTRIBUTES[i].frequency)
F1_SERIES: tuple[tuple[str, str, str], ...] = (  # key in EpochEvent.val, legend, colour
    ("rare_mean_f1", "F1 rare (<10 %)", "#d6336c"),
    ("common_mean_f1", "F1 common (>30 %)", "#1c7ed6"),
    ("mean_f1", "F1 all 40", "#555555"),
    ("mean_auc", "AUC (mean)", "#2b8a3e"),
)


class TrainingPlots(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingPlots")
        self.loss_plot = make_plot("Loss", "epoch", "loss", legend=True)
        self.rate_plot = make_plot(
            "Is it stuck? predicted-positive rate vs true rate", "attribute (rarest left)", "rate"
        )
        self.f1_plot = make_plot("Validation F1: rare vs common", "epoch", "score", legend=True)
        self.f1_plot.getPlotItem().legend.setOffset((-10, -10))  # bottom right: scores rise over a run
        self.events = QListWidget()
        self.events.setObjectName("StuckEvents")
        self.events.setMinimumHeight(90)

        self._step_x: list[float] = []
        self._step_y: list[float] = []
        self._epoch_x: list[float] = []
        self._epoch_y: list[float] = []
        self.step_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#adb5bd", width=1), name="step")
        self.epoch_curve = self.loss_plot.plot(
            [], [], pen=pg.mkPen("#e8590c", width=2), symbol="o", symbolSize=6, symbolBrush="#e8590c", name="epoch mean"
        )

        x = np.arange(NUM_ATTRIBUTES)
        true = np.array([ATTRIBUTES[i].frequency for i in _BY_FREQUENCY])
        self.true_bars = pg.BarGraphItem(
            x=x - 0.2, height=true, width=0.4, brush=pg.mkBrush(150, 150, 150, 160), pen=None
        )
        self.predicted_bars = pg.BarGraphItem(
            x=x + 0.2, height=np.zeros(NUM_ATTRIBUTES), width=0.4, brush="#1c7ed6", pen=None
        )
        self.rate_plot.addItem(self.true_bars)
        self.rate_plot.addItem(self.predicted_bars)
        legend = self.rate_plot.addLegend(offset=(10, 10), labelTextSize="8pt")
        legend.addItem(self.true_bars, "true (train frequency)")
        legend.addItem(self.predicted_bars, "predicted positive")
        self.rate_plot.getAxis("bottom").setTicks(
            [[(i, ATTRIBUTES[j].name[:10]) for i, j in enumerate(_BY_FREQUENCY) if i % 4 == 0]]
        )
        self.rate_plot.setYRange(0, 1.0)
        self._f1_data: dict[str, list[tuple[int, float]]] = {key: [] for key, _, _ in F1_SERIES}
        self.f1_curves = {
            key: self.f1_plot.plot([], [], pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6, symbolBrush=colour)
            for key, _, colour in F1_SERIES
        }
        self._f1_labels = {key: label for key, label, _ in F1_SERIES}
        self._f1_in_legend: set[str] = set()
        self.f1_plot.setYRange(0, 1.0)
        self.fix_markers: dict[int, list[pg.InfiniteLine]] = {}
        """Per 1-based epoch after which fixes were applied: its line on the loss plot, then on the F1 plot."""
        self._fix_actions: dict[int, list[str]] = {}

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.loss_plot, 0, 0)
        grid.addWidget(self.f1_plot, 0, 1)
        grid.addWidget(self.rate_plot, 1, 0, 1, 2)
        grid.addWidget(self.events, 2, 0, 1, 2)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 3)
        grid.setRowStretch(2, 1)

    def clear(self) -> None:
        for series in (self._step_x, self._step_y, self._epoch_x, self._epoch_y):
            series.clear()
        for values in self._f1_data.values():
            values.clear()
        self.step_curve.setData([], [])
        self.epoch_curve.setData([], [])
        self.predicted_bars.setOpts(height=np.zeros(NUM_ATTRIBUTES), brushes=None, brush="#1c7ed6")
        for key, curve in self.f1_curves.items():
            curve.setData([], [])
            if key in self._f1_in_legend:
                self.f1_plot.getPlotItem().legend.removeItem(curve)
        self._f1_in_legend.clear()
        for loss_line, f1_line in self.fix_markers.values():
            self.loss_plot.removeItem(loss_line)
            self.f1_plot.removeItem(f1_line)
        self.fix_markers.clear()
        self._fix_actions.clear()
        self.events.clear()

    @property
    def epochs_plotted(self) -> int:
        return len(self._epoch_x)

    @property
    def epoch_numbers(self) -> list[int]:
        """The 1-based epochs on the loss plot, in the order they arrived."""
        return [int(x) for x in self._epoch_x]

    def add_event(self, event: Event) -> None:
        """Plot what a step, epoch, stuck or fix event says; other kinds are not plotted."""
        if isinstance(event, StepEvent):
            self._step_x.append(event.epoch + event.step / max(event.steps_per_epoch, 1))
            self._step_y.append(event.loss)
            if len(self._step_x) % 5 == 0 or event.step == event.steps_per_epoch:
                self.step_curve.setData(self._step_x, self._step_y)
        elif isinstance(event, EpochEvent):
            self._add_epoch(event)
        elif isinstance(event, StuckEvent):
            self._add_line(
                f"epoch {event.epoch + 1}: STUCK {event.attribute} ({event.direction}) "
                f"— predicted {100 * event.predicted_positive_rate:.1f} % vs true "
                f"{100 * event.true_positive_rate:.1f} %",
                QColor(201, 42, 42),
            )
        elif isinstance(event, FixEvent):
            self._add_line(f"epoch {event.epoch + 1}: FIX {event.action} — {event.detail}", QColor(24, 100, 171))
            self._mark_fix(event.epoch + 1, event.action)

    def _mark_fix(self, epoch: int, action: str) -> None:
        """One marker per epoch with fixes (several arrive as separate events); its tooltip names them."""
        actions = self._fix_actions.setdefault(epoch, [])
        actions.append(action)
        label = "fix" if len(actions) == 1 else f"{len(actions)} fixes"
        if epoch not in self.fix_markers:
            pen = pg.mkPen("#1864ab", width=1.5, style=Qt.PenStyle.DashLine)
            loss_line = pg.InfiniteLine(
                pos=epoch,
                angle=90,
                pen=pen,
                label=label,
                labelOpts={"position": 0.8, "color": "#1864ab", "rotateAxis": (1, 0)},
            )
            f1_line = pg.InfiniteLine(pos=epoch, angle=90, pen=pen)
            self.loss_plot.addItem(loss_line, ignoreBounds=True)
            self.f1_plot.addItem(f1_line, ignoreBounds=True)
            self.fix_markers[epoch] = [loss_line, f1_line]
        for line in self.fix_markers[epoch]:
            line.setToolTip(f"after epoch {epoch}: {', '.join(actions)}")
        self.fix_markers[epoch][0].label.setFormat(label)

    def _add_line(self, text: str, colour: QColor) -> None:
        item = QListWidgetItem(text)
        item.setForeground(colour)
        self.events.addItem(item)
        self.events.scrollToBottom()

    def _add_epoch(self, event: EpochEvent) -> None:
        epoch = event.epoch + 1
        self._epoch_x.append(epoch)
        self._epoch_y.append(event.train_loss)
        self.epoch_curve.setData(self._epoch_x, self._epoch_y)
        rates = np.asarray(event.predicted_positive_rate or np.zeros(NUM_ATTRIBUTES), np.float64)
        ordered = rates[_BY_FREQUENCY]
        stuck = set(event.stuck)
        brushes = [
            pg.mkBrush("#e03131") if ATTRIBUTES[j].name in stuck else pg.mkBrush("#1c7ed6") for j in _BY_FREQUENCY
        ]
        self.predicted_bars.setOpts(height=ordered, brushes=brushes)
        val = event.val
        for key, values in self._f1_data.items():
            if key in val and np.isfinite(val[key]):
                values.append((epoch, float(val[key])))
                xs, ys = zip(*values)
                self.f1_curves[key].setData(list(xs), list(ys))
                if key not in self._f1_in_legend:  # only series the trainer reports get a legend entry
                    self.f1_plot.getPlotItem().legend.addItem(self.f1_curves[key], html.escape(self._f1_labels[key]))
                    self._f1_in_legend.add(key)
        if not stuck and not event.fixes:
            self._add_line(f"epoch {epoch}: no stuck attribute", QColor(43, 138, 62))
