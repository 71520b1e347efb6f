"""Dashboard: how the loaded model copes with CelebA's imbalance.

Numbers come from the model's stored val report (written beside the bundle by
the trainer) or from evaluating it on a chosen CelebA root with ``attricam
evaluate --json-events`` in a child process, whose report also holds ROC points
and the loss weights applied, and whose arrays file the mean attention maps.
The dashboard draws; it computes no metric. Every plot exports to PNG with
pyqtgraph's exporters.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from attricam.engine.atomic import atomic_path, atomic_write_text
from attricam.engine.attributes import ATTRIBUTES, NUM_ATTRIBUTES
from attricam.engine.bundle import ModelBundle
from attricam.engine.reliability import ModelReliability
from attricam.engine.render import TIER_COLORS
from attricam.training.config import EvaluateConfig, celeba_root_problem, default_data_root
from attricam.training.events import ErrorEvent, EvaluatedEvent, Event, LogEvent, ProgressEvent

from .attention_flow import AttentionFlowView
from .attribute_bars import tier_color
from .dashboard_data import DashboardData, LossWeights, find_report, imbalance_rows
from .job_process import JobProcess
from .metrics_table import Cell, MetricsTable
from .plot_style import (
    VerticalLabelAxis,
    export_plot_png,
    frequency_color_bar,
    frequency_colors,
    log_ticks,
    make_plot,
)
from .settings import AppSettings

__all__ = ["DashboardTab"]

_ROC_PADDING = 0.06
"""Room around the ROC's 0..1 square: with less, the 0.0 and 1.0 labels stick out of their axes and pyqtgraph
drops them."""

_BY_FREQUENCY = sorted(range(NUM_ATTRIBUTES), key=lambda i: ATTRIBUTES[i].frequency)


def _tier_brushes(indices: Iterable[int]) -> list[QBrush]:
    return [pg.mkBrush(*TIER_COLORS[ATTRIBUTES[i].tier], 220) for i in indices]


class DashboardTab(QWidget):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DashboardTab")
        self.settings = settings
        self.bundle: ModelBundle | None = None
        self.data: DashboardData | None = None
        self.job = JobProcess(self)
        self._workdir = tempfile.TemporaryDirectory(prefix="attricam-dashboard-")
        self._live_bundle: Callable[[], ModelBundle | None] = lambda: None
        self._evaluated_bundle: ModelBundle | None = None
        self._cancelled = False

        self.caption = QLabel("No model loaded yet.")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addLayout(self._build_controls())
        layout.addWidget(self._build_tabs(), 1)
        self._show_progress(False)

        self.evaluate_button.clicked.connect(self.evaluate)
        self.cancel_button.clicked.connect(self.cancel_evaluation)
        self.export_button.clicked.connect(self._export_dialog)
        self.job.event.connect(self._on_event)
        self.job.finished.connect(self._on_job_finished)
        self._show_table()

    def _build_controls(self) -> QHBoxLayout:
        """CelebA root, how many val images, Evaluate, its progress and Cancel, Export plots."""
        self.root_edit = QLineEdit(self.settings.data_root or str(default_data_root()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._pick_root)
        self.limit = QSpinBox(minimum=0, maximum=1_000_000, value=400)
        self.limit.setSpecialValueText("all")
        self.limit.setToolTip("val images to evaluate (0 = all)")
        self.evaluate_button = QPushButton("Evaluate on CelebA val")
        self.evaluate_button.setObjectName("EvaluateModel")
        self.export_button = QPushButton("Export plots…")
        self.progress = QProgressBar()
        self.progress.setObjectName("EvaluationProgress")
        self.progress.setMinimumWidth(160)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the evaluation; the plots keep what they showed before")
        top = QHBoxLayout()
        top.addWidget(QLabel("CelebA root"))
        top.addWidget(self.root_edit, 1)
        top.addWidget(browse)
        top.addWidget(QLabel("images"))
        for widget in (self.limit, self.evaluate_button, self.progress, self.cancel_button, self.export_button):
            top.addWidget(widget)
        return top

    def _build_tabs(self) -> QTabWidget:
        """Plots | Imbalance table | Attention flow."""
        overview = self._build_plots()
        self.table = MetricsTable()
        self.table.setObjectName("ImbalanceTable")
        self.flow = AttentionFlowView()
        self.tabs = QTabWidget()
        self.tabs.addTab(overview, "Plots")
        self.tabs.addTab(self.table, "Imbalance table")
        self.tabs.addTab(self.flow, "Attention flow")
        return self.tabs

    def _build_plots(self) -> QWidget:
        """The five plots of an evaluation in a grid, also kept by their export names in :attr:`plots`."""
        self.roc_plot = make_plot("ROC per attribute", "false positive rate", "true positive rate")
        self.roc_plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=_ROC_PADDING)
        self.roc_plot.getPlotItem().vb.disableAutoRange()
        rates = [[(v / 5, f"{v / 5:.1f}") for v in range(6)]]  # 0.0 … 1.0, both ends labelled (_ROC_PADDING)
        for side in ("bottom", "left"):
            self.roc_plot.getAxis(side).setTicks(rates)
        self.roc_scale = frequency_color_bar(self.roc_plot)
        self.f1_plot = make_plot("F1 vs training frequency", "training frequency (log)", "F1")
        self.weight_plot = make_plot("Positive weight applied vs F1", "positive weight (log)", "F1")
        self.gain_plot = make_plot(
            "Accuracy gain over the all-negative baseline",
            "attribute (rarest left)",
            "gain (points)",
            bottom_axis=VerticalLabelAxis(orientation="bottom"),
        )
        self.rates_plot = make_plot(
            "Predicted vs true positive rate", "true positive rate (prevalence, %)", "predicted positive rate (%)"
        )
        log_ticks(self.f1_plot, (0.02, 0.05, 0.1, 0.2, 0.5, 1.0))  # points sit at log10(x)
        log_ticks(self.weight_plot, (0.5, 1, 2, 5, 10, 20, 50))
        self.plots = {
            "roc": self.roc_plot,
            "f1_vs_frequency": self.f1_plot,
            "pos_weight_vs_f1": self.weight_plot,
            "gain_over_baseline": self.gain_plot,
            "predicted_vs_true_rate": self.rates_plot,
        }
        overview = QWidget()
        grid = QGridLayout(overview)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.roc_plot, 0, 0)
        grid.addWidget(self.f1_plot, 0, 1)
        grid.addWidget(self.weight_plot, 0, 2)
        grid.addWidget(self.gain_plot, 1, 0, 1, 2)
        grid.addWidget(self.rates_plot, 1, 2)
        return overview

    # ------------------------------------------------------------------ hooks from the window
    def set_live_bundle_source(self, getter: Callable[[], ModelBundle | None]) -> None:
        self._live_bundle = getter

    def set_bundle(self, bundle: ModelBundle) -> None:
        """A new live model: show its stored report, or say how to get numbers for it."""
        self.bundle = bundle
        self.data = None
        state = "" if bundle.trained else " — UNTRAINED model (random weights): its numbers are meaningless"
        report = find_report(bundle)
        if report is not None:
            try:
                data = DashboardData.from_report_file(report)
                self.set_data(data)
            except (OSError, ValueError, KeyError) as exc:
                self.caption.setText(f"Model {bundle.name}{state}. Its report {report} is unreadable ({exc}).")
                return
            self.caption.setText(
                f"Model {bundle.name}{state}. Stored val report: {report.name} ({data.count} faces). "
                "Evaluate for ROC curves and attention flow."
            )
        else:
            self.set_data(None)
            self.caption.setText(
                f"Model {bundle.name}{state}. No stored per-attribute report: evaluate it on a CelebA root."
            )

    def shutdown(self) -> None:
        self.job.stop()
        self._workdir.cleanup()

    # ------------------------------------------------------------------ evaluation
    def _pick_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "CelebA root", self.root_edit.text())
        if folder:
            self.root_edit.setText(folder)

    def evaluate(self) -> bool:
        bundle = self.bundle or self._live_bundle()
        root = Path(self.root_edit.text().strip())
        if bundle is None:
            self.caption.setText("The model is still loading.")
            return False
        if problem := celeba_root_problem(root):
            self.caption.setText(problem)
            return False
        if self.job.running:
            return False
        self.settings.data_root = str(root)
        workdir = Path(self._workdir.name)
        path = bundle.path
        if path is None:  # an in-memory bundle (the random one): save a copy for the worker process
            path = copy.copy(bundle).save(workdir / "live-bundle.pt")
        self._evaluated_bundle = bundle
        config = EvaluateConfig(
            model=str(path),
            data=(str(root),),
            limit=self.limit.value() or None,
            out=str(workdir / "evaluation"),
            shifted=False,
            plots=False,
        )
        config_path = workdir / "evaluate_config.json"
        atomic_write_text(config_path, json.dumps(config.to_dict(), indent=2))
        self.job.start(["evaluate", "--config", str(config_path)])
        self._cancelled = False
        self.evaluate_button.setEnabled(False)
        self._show_progress(True)
        self.progress.setRange(0, 0)  # busy until the faces are read and the first progress event comes
        self.progress.setFormat("reading faces…")
        self.caption.setText(f"Evaluating {bundle.name} on {root}…")
        return True

    def cancel_evaluation(self) -> None:
        """Stop a running evaluation (the child process is terminated and joined)."""
        if self.job.running:
            self._cancelled = True
            self.job.stop()

    def _show_progress(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, LogEvent):
            self.caption.setText(event.message)
        elif isinstance(event, ProgressEvent):
            self.progress.setRange(0, max(event.total, 1))
            self.progress.setValue(event.done)
            self.progress.setFormat("%v / %m faces")
        elif isinstance(event, ErrorEvent):
            self.caption.setText(f"Evaluation failed: {event.message}")
        elif isinstance(event, EvaluatedEvent) and self._evaluated_bundle is not None:
            bundle = self._evaluated_bundle
            source = f"evaluation of {bundle.name} on {event.count} val faces"
            try:
                data = DashboardData.from_report_file(event.report, source)
            except (OSError, ValueError, KeyError) as exc:
                self.caption.setText(f"Evaluation report {event.report} is unreadable ({exc}).")
                return
            self.set_data(data)
            state = "" if bundle.trained else " — UNTRAINED model: numbers are meaningless"
            self.caption.setText(f"{data.source}{state}.")

    def _on_job_finished(self, code: int, crashed: bool) -> None:
        self.evaluate_button.setEnabled(True)
        self._show_progress(False)
        if self._cancelled:
            self._cancelled = False
            self.caption.setText("Evaluation cancelled; the plots show what they showed before.")

    # ------------------------------------------------------------------ drawing
    def set_data(self, data: DashboardData | None) -> None:
        self.data = data
        for plot in self.plots.values():
            plot.clear()
        self.roc_plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=_ROC_PADDING)
        self._show_table()
        if data is None:
            self.flow.set_attention(None, None)
            return
        freq = data.frequencies
        f1 = data.column(lambda m: m.f1)
        idx = np.arange(NUM_ATTRIBUTES)
        names = [a.name for a in ATTRIBUTES]
        colours = frequency_colors(freq)
        for j, (fpr, tpr) in data.roc.items():
            self.roc_plot.plot(fpr, tpr, pen=pg.mkPen(colours[j], width=1.3))
        self.roc_plot.plot([0, 1], [0, 1], pen=pg.mkPen((150, 150, 150), style=Qt.PenStyle.DashLine))
        if not data.roc:
            self._note(self.roc_plot, "Press Evaluate\nfor ROC curves")
        self._scatter(self.f1_plot, np.log10(freq), f1, idx, names)
        weights = self._weights()
        if weights is not None:
            self._scatter(self.weight_plot, np.log10(weights.pos_weight), f1, idx, names)
            self.weight_plot.setLabel("bottom", f"positive weight applied by {weights.loss} (log; {weights.source})")
        else:
            self.weight_plot.setLabel("bottom", "positive weight applied (log)")
            self._note(self.weight_plot, "This model does not record\nits loss weights")
        order = np.array(_BY_FREQUENCY)
        gain = 100.0 * data.gain[order]
        self.gain_plot.addItem(
            pg.BarGraphItem(
                x=np.arange(NUM_ATTRIBUTES),
                height=gain,
                width=0.8,
                brushes=[pg.mkBrush("#2f9e44" if g >= 0 else "#e03131") for g in gain],
                pen=None,
            )
        )
        self.gain_plot.getAxis("bottom").setTicks([[(i, ATTRIBUTES[j].display_name) for i, j in enumerate(order)]])
        self.gain_plot.addLine(y=0, pen=pg.mkPen((120, 120, 120)))
        true_rate = 100.0 * data.column(lambda m: m.true_positive_rate)
        predicted = 100.0 * data.column(lambda m: m.predicted_positive_rate)
        self._scatter(self.rates_plot, true_rate, predicted, idx, names)
        top = float(np.nanmax(np.r_[true_rate, predicted, 5.0])) * 1.05
        self.rates_plot.plot([0, top], [0, top], pen=pg.mkPen((150, 150, 150), style=Qt.PenStyle.DashLine))
        self.flow.set_attention(data.attention, data.mean_face)
        if data.attention is None:
            self.flow.caption = "Attention flow needs an evaluation run: press Evaluate."
            self.flow.update()

    @staticmethod
    def _note(plot: pg.PlotWidget, text: str) -> None:
        item = pg.TextItem(text, color=(110, 110, 110), anchor=(0.5, 0.5))
        plot.addItem(item)
        item.setPos(0.5, 0.5)

    @staticmethod
    def _scatter(
        plot: pg.PlotWidget, x: npt.ArrayLike, y: npt.ArrayLike, indices: Iterable[int], names: Sequence[str]
    ) -> None:
        scatter = pg.ScatterPlotItem(
            x=np.asarray(x, np.float64),
            y=np.asarray(y, np.float64),
            size=9,
            pen=pg.mkPen(40, 40, 40, 120),
            brush=_tier_brushes(indices),
            data=names,
            hoverable=True,
            tip=lambda x, y, data: f"{data}  ({y:.3f})",
        )
        plot.addItem(scatter)

    def _weights(self) -> LossWeights | None:
        """The loss weights the shown model was trained with: from the evaluation, else from the bundle."""
        if self.data is not None and self.data.weights is not None:
            return self.data.weights
        return LossWeights.of_bundle(self.bundle)

    def _reliability(self) -> ModelReliability | None:
        """The shown model's per-attribute reliability: of its fused answer when it has a second opinion."""
        if self.bundle is None:
            return None
        return ModelReliability.from_metadata(self.bundle.metadata, fused=self.bundle.second_opinion is not None)

    def _show_table(self) -> None:
        headers = ["attribute", "tier", "train frequency", "all-negative accuracy"]
        formats = ["{}", "{}", "{:.2%}", "{:.2%}"]
        rows: list[list[Cell]] = [list(r) for r in imbalance_rows()]
        weights = self._weights()
        if weights is not None:  # the weight this model was really trained with
            headers.append(f"pos. weight applied ({weights.loss})")
            formats.append("{:.2f}")
            for row, weight in zip(rows, weights.pos_weight):
                row.append(float(weight))
        reliability = self._reliability()
        if reliability is not None:  # what the live bars mark ✓ or ?: held-out figures carried by the bundle
            headers += ["held-out AUC", "precision", "recall", "reliable"]
            formats += ["{:.3f}", "{:.3f}", "{:.3f}", "{}"]
            for row, figures in zip(rows, reliability.attributes):
                row += [figures.auc, figures.precision, figures.recall, "yes" if figures.reliable else "NO"]
        if self.data is not None:
            headers += ["F1", "accuracy", "gain over all-negative", "AUC", "predicted pos", "true pos"]
            formats += ["{:.3f}", "{:.3f}", "{:+.3f}", "{:.3f}", "{:.1%}", "{:.1%}"]
            for row, m in zip(rows, self.data.metrics):
                row += [m.f1, m.accuracy, m.gain_over_baseline, m.auc, m.predicted_positive_rate, m.true_positive_rate]
        self.table.set_rows(headers, rows, formats, [tier_color(a.index) for a in ATTRIBUTES])

    # ------------------------------------------------------------------ export
    def export_plots(self, folder: str | Path) -> list[Path]:
        """Every plot as PNG (pyqtgraph ImageExporter) plus the attention flow as a widget grab."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = [export_plot_png(plot, folder / f"{name}.png") for name, plot in self.plots.items()]
        flow = folder / "attention_flow.png"
        with atomic_path(flow) as tmp:
            if not self.flow.grab().save(str(tmp)):
                raise OSError(f"{flow}: could not write PNG")
        paths.append(flow)
        return paths

    def _export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export plots to", self.settings.export_folder)
        if folder:
            paths = self.export_plots(folder)
            self.caption.setText(f"Exported {len(paths)} plots to {folder}")
