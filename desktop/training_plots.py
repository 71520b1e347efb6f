"""Live plots of a training run: loss, predicted vs true positive rate per attribute, rare vs common F1.

Fed with the trainer's typed events (:mod:`attricam.training.events`). A fix
applied after epoch ``e`` (1-based) changes the loss from the next epoch on, so
it is marked by a dashed vertical line at x = ``e`` on the loss and F1 plots:
the boundary between the last epoch under the old loss and the first under the new.
Legends sit under the plots (never over a line or a fix label), and the labels of
fixes at neighbouring epochs are staggered in height so they never overlap.

The "is it stuck?" chart paints the trainer's flags red, and an attribute whose bar
meets the trap's rule against the chart's true rate but carries no flag amber: the
trainer flags only from epoch :data:`STUCK_PATIENCE` on, and against the rates of its
own selection faces, so a short or tiny run can look stuck without being flagged,
and the event list then says so instead of "no stuck attribute".
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGridLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from attricam.engine.attributes import ATTRIBUTES, NUM_ATTRIBUTES, frequency_band_label
from attricam.training.events import EpochEvent, Event, FixEvent, StepEvent, StuckEvent, val_metrics

from .plot_style import VerticalLabelAxis, make_plot

__all__ = ["F1_SERIES", "STUCK_PATIENCE", "TrainingPlots", "looks_stuck"]

STUCK_PATIENCE = 3
"""The trainer's ``DiagnosisConfig`` rule (training/diagnosis.py; a test keeps the two equal): flags from this epoch,"""
STUCK_RATE, MIN_TRUE_RATE, RELATIVE_RATE = 0.05, 0.02, 0.5
"""all-negative: predicted < 5 % while the true rate is >= 2 % and the prediction under half of it,"""
POSITIVE_STUCK_RATE, POSITIVE_MAX_TRUE_RATE = 0.95, 0.5
"""all-positive: predicted >= 95 % while under half of the faces really have it."""
_FIX_LABEL_HEIGHTS = (0.92, 0.74, 0.56, 0.38)
"""Where along its line (0 bottom, 1 top) the n-th fix marker's label sits, cycling: neighbours never collide."""

_BY_FREQUENCY = sorted(range(NUM_ATTRIBUTES), key=lambda i: ATTRIBUTES[i].frequency)
F1_SERIES: tuple[tuple[str, str, str], ...] = (  # metric of EpochEvent.val, legend, colour
    ("rare_mean_f1", f"F1 {frequency_band_label('rare', parenthesised=True).lower()}", "#d6336c"),
    ("common_mean_f1", f"F1 {frequency_band_label('common', parenthesised=True).lower()}", "#1c7ed6"),
    ("mean_f1", "F1 all 40", "#555555"),
    ("mean_auc", "AUC (mean)", "#2b8a3e"),
)
val_metrics(*(metric for metric, _, _ in F1_SERIES))  # a renamed metric fails here, at import, not as a lost curve


def looks_stuck(predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
    """(40,) bool: the trainer's stuck rule (both directions) applied to these rates."""
    negative = (predicted < STUCK_RATE) & (true >= MIN_TRUE_RATE) & (predicted < RELATIVE_RATE * true)
    positive = (predicted >= POSITIVE_STUCK_RATE) & (true < POSITIVE_MAX_TRUE_RATE)
    return negative | positive


def _swatch(colour: str, text: str) -> str:
    return f'<span style="color:{colour}">&#9632;</span>&nbsp;{html.escape(text)}'


def _legend_label(items: list[tuple[str, str]]) -> QLabel:
    label = QLabel(" &nbsp; ".join(_swatch(c, t) for c, t in items))
    label.setStyleSheet("font-size: 8pt;")
    label.setWordWrap(True)
    return label


class TrainingPlots(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingPlots")
        self._build_plots()
        self._build_loss_curves()
        self._build_rate_bars()
        self._build_f1_curves()
        self.unflagged_stuck: list[str] = []
        """Attributes of the latest epoch that meet the stuck rule on the chart without a flag (painted amber)."""
        self.fix_markers: dict[int, list[pg.InfiniteLine]] = {}
        """Per 1-based epoch after which fixes were applied: its line on the loss plot, then on the F1 plot."""
        self._fix_actions: dict[int, list[str]] = {}
        self._lay_out()

    def _build_plots(self) -> None:
        """The three plots with their legends, and the list of stuck flags and fixes."""
        self.loss_plot = make_plot("Loss", "epoch", "loss")
        self.rate_plot = make_plot(
            "Is it stuck? predicted-positive rate vs true rate",
            "attribute (rarest left)",
            "rate",
            bottom_axis=VerticalLabelAxis(orientation="bottom"),
        )
        self.f1_plot = make_plot("Validation F1: rare vs common", "epoch", "score")
        self.loss_legend = _legend_label([("#adb5bd", "step"), ("#e8590c", "epoch mean"), ("#1864ab", "fix applied")])
        self.rate_legend = _legend_label(
            [
                ("#969696", "true (train frequency)"),
                ("#1c7ed6", "predicted positive"),
                ("#e03131", "flagged stuck"),
                ("#f59f00", "looks stuck, not flagged"),
            ]
        )
        self.f1_legend = _legend_label([])
        self.events = QListWidget()
        self.events.setObjectName("StuckEvents")
        self.events.setMinimumHeight(90)

    def _build_loss_curves(self) -> None:
        """Each step's loss and each epoch's mean."""
        self._step_x: list[float] = []
        self._step_y: list[float] = []
        self._epoch_x: list[float] = []
        self._epoch_y: list[float] = []
        self.step_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#adb5bd", width=1), name="step")
        self.epoch_curve = self.loss_plot.plot(
            [], [], pen=pg.mkPen("#e8590c", width=2), symbol="o", symbolSize=6, symbolBrush="#e8590c", name="epoch mean"
        )

    def _build_rate_bars(self) -> None:
        """True (train frequency) and predicted-positive rate per attribute, rarest left."""
        x = np.arange(NUM_ATTRIBUTES)
        true = np.array([ATTRIBUTES[i].frequency for i in _BY_FREQUENCY])
        self.true_bars = pg.BarGraphItem(
            x=x - 0.2, height=true, width=0.4, brush=pg.mkBrush(150, 150, 150, 160), pen=None
        )
        self.predicted_bars = pg.BarGraphItem(
            x=x + 0.2, height=np.zeros(NUM_ATTRIBUTES), width=0.4, brush="#1c7ed6", pen=None
        )
        self._true_rate = true
        self.rate_plot.addItem(self.true_bars)
        self.rate_plot.addItem(self.predicted_bars)
        self.rate_plot.getAxis("bottom").setTicks([[(i, ATTRIBUTES[j].name) for i, j in enumerate(_BY_FREQUENCY)]])
        self.rate_plot.setYRange(0, 1.0)

    def _build_f1_curves(self) -> None:
        """Validation F1 per epoch, one curve per ``F1_SERIES`` group."""
        self._f1_data: dict[str, list[tuple[int, float]]] = {key: [] for key, _, _ in F1_SERIES}
        self.f1_curves = {
            key: self.f1_plot.plot([], [], pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6, symbolBrush=colour)
            for key, _, colour in F1_SERIES
        }
        self._f1_labels = {key: label for key, label, _ in F1_SERIES}
        self._f1_in_legend: set[str] = set()
        self.f1_plot.setYRange(0, 1.0)

    def _lay_out(self) -> None:
        """Loss and F1 side by side, the rate chart under them, the flag list at the bottom."""
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(_with_legend(self.loss_plot, self.loss_legend), 0, 0)
        grid.addWidget(_with_legend(self.f1_plot, self.f1_legend), 0, 1)
        grid.addWidget(_with_legend(self.rate_plot, self.rate_legend), 1, 0, 1, 2)
        grid.addWidget(self.events, 2, 0, 1, 2)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 3)
        grid.setRowStretch(2, 1)

    def clear(self) -> None:
        self.unflagged_stuck = []
        for series in (self._step_x, self._step_y, self._epoch_x, self._epoch_y):
            series.clear()
        for values in self._f1_data.values():
            values.clear()
        self.step_curve.setData([], [])
        self.epoch_curve.setData([], [])
        self.predicted_bars.setOpts(height=np.zeros(NUM_ATTRIBUTES), brushes=None, brush="#1c7ed6")
        for curve in self.f1_curves.values():
            curve.setData([], [])
        self._f1_in_legend.clear()
        self.f1_legend.setText("")
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
                labelOpts={
                    "position": _FIX_LABEL_HEIGHTS[len(self.fix_markers) % len(_FIX_LABEL_HEIGHTS)],
                    "color": "#1864ab",
                    "fill": pg.mkBrush(255, 255, 255, 220),
                },
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
        looks = looks_stuck(ordered, self._true_rate)
        unflagged = [
            ATTRIBUTES[j].name for i, j in enumerate(_BY_FREQUENCY) if looks[i] and ATTRIBUTES[j].name not in stuck
        ]
        brushes = [
            pg.mkBrush("#e03131" if ATTRIBUTES[j].name in stuck else "#f59f00" if looks[i] else "#1c7ed6")
            for i, j in enumerate(_BY_FREQUENCY)
        ]
        self.predicted_bars.setOpts(height=ordered, brushes=brushes)
        self.unflagged_stuck = unflagged
        val = event.val
        for key, values in self._f1_data.items():
            if val is not None and np.isfinite(val.metric(key)):
                values.append((epoch, val.metric(key)))
                xs, ys = zip(*values)
                self.f1_curves[key].setData(list(xs), list(ys))
                if key not in self._f1_in_legend:  # only series the trainer reports get a legend entry
                    self._f1_in_legend.add(key)
                    self.f1_legend.setText(
                        " &nbsp; ".join(_swatch(c, label) for k, label, c in F1_SERIES if k in self._f1_in_legend)
                    )
        if unflagged:
            why = (
                f"the trainer flags from epoch {STUCK_PATIENCE} on"
                if epoch < STUCK_PATIENCE
                else "the trainer judges by its selection faces' true rates, not the train frequency shown"
            )
            names = ", ".join(unflagged[:6]) + (f" and {len(unflagged) - 6} more" if len(unflagged) > 6 else "")
            self._add_line(
                f"epoch {epoch}: {len(unflagged)} look stuck on the chart but are not flagged ({why}): {names}",
                QColor(230, 119, 0),
            )
        elif not stuck and not event.fixes:
            self._add_line(f"epoch {epoch}: no stuck attribute", QColor(43, 138, 62))


def _with_legend(plot: pg.PlotWidget, legend: QLabel) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(plot, 1)
    layout.addWidget(legend)
    return box
