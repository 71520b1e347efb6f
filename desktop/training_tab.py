"""Training tab: pick a recipe, run it in a worker process, watch it live, load the result.

The run is ``attricam train --config FILE --json-events``, the command a user runs,
in a child process (:class:`JobProcess`), so the window stays smooth and Stop is
clean: the trainer checkpoints after every epoch, and a stopped run resumes at the
next one. What the tab knows about the run comes from the typed events of
:mod:`attricam.training.events`, kept in a :class:`RunState`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from attricam.engine.atomic import atomic_write_text
from attricam.engine.attributes import attribute_index
from attricam.engine.bundle import BundleError, ModelBundle, default_bundle_path
from attricam.engine.workspace import workspace_dir
from attricam.training.config import (
    BUNDLE_NAME,
    CHECKPOINT_NAME,
    FROZEN_DEFAULT_EPOCHS,
    TrainConfig,
    default_data_root,
)
from attricam.training.events import (
    EpochEvent,
    ErrorEvent,
    EvaluationReport,
    Event,
    FinishedEvent,
    LogEvent,
    StartedEvent,
    StepEvent,
    StoppedEvent,
    ValSummary,
    val_metrics,
)

from .attribute_bars import tier_color
from .events_follower import EventsFollower
from .job_process import JobProcess
from .metrics_table import MetricsTable
from .model_files import bundle_label
from .settings import AppSettings
from .training_form import TrainingForm
from .training_journey import JOURNEY_RECIPES, JourneyView
from .training_plots import TrainingPlots
from .training_report import REPORT_FORMATS, REPORT_HEADERS, report_rows

__all__ = ["RunState", "TrainingTab"]

_GUI_CONFIG = "gui_config.json"
_JOURNEY_CONFIG = "journey_config.json"
"""The journey's base :class:`TrainConfig` in its folder (``attricam train --compare ... --config``)."""
_QUIET_LOGGERS = ("onnx_ir", "onnxscript", "torch.onnx")
"""Libraries whose INFO lines (dozens per ONNX export) say nothing to a user: counted, not shown."""
_EPOCH_METRICS = val_metrics("mean_f1", "mean_auc", "rare_mean_f1")
"""What the Log tab's line of an epoch quotes of its val summary."""
_FINISHED_METRICS = val_metrics("mean_accuracy", "mean_f1", "mean_auc", "rare_mean_f1")
"""What the Result box quotes of a finished run's val summary."""


def _quote(summary: ValSummary | None, names: tuple[str, ...]) -> list[str]:
    return [f"{name} {summary.metric(name):.3f}" for name in names] if summary is not None else []


@dataclass
class RunState:
    """What the tab knows of the run it started or follows, from its events (never read back from widgets)."""

    epochs: int = 0
    start_epoch: int = 0
    """0-based epoch the latest process started at (> 0 when it resumed a checkpoint)."""
    epochs_done: int = 0
    finished: FinishedEvent | None = None
    stopped: StoppedEvent | None = None
    error: str = ""


def _fresh_folder(finished: Path) -> Path:
    """``runs/x`` -> the first of ``runs/x-2``, ``runs/x-3``, ... that does not exist yet."""
    stem = re.sub(r"-\d+$", "", finished.name)
    n = 2
    while (finished.parent / f"{stem}-{n}").exists():
        n += 1
    return finished.parent / f"{stem}-{n}"


class TrainingTab(QWidget):
    loadBundleRequested = Signal(object)  # ModelBundle, or None for the default model
    compareBundleRequested = Signal(object)  # ModelBundle to stand beside the live model (Live tab, Compare A | B)
    runFinished = Signal(object)  # the trainer's FinishedEvent

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingTab")
        self.settings = settings
        self.ask_before_close = True
        self.extra_config: dict[str, Any] = {}
        """TrainConfig overrides by field name, applied to every run started here (tests use it for tiny runs)."""
        self.job = JobProcess(self)
        self.follower = EventsFollower(self)
        self.run = RunState()
        self._result_bundle: str | None = None  # bundle of the last finished run; survives later runs
        self.journey_folder: Path | None = None
        """The run folder of the journey in progress (or last run); None when the job is a single run."""
        self.quiet_lines = 0
        """Library INFO lines kept out of the Log tab (see :data:`_QUIET_LOGGERS`)."""

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self._build_recipe())
        left_layout.addWidget(self._build_result_box())
        left_layout.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self._build_right_tabs())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([380, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self._connect_signals()
        self._set_running(False)

    def _build_recipe(self) -> QGroupBox:
        """The form, the run buttons (start, pause, stop, journey, resume, watch), the progress and the state."""
        self.form = TrainingForm(self.settings.data_root or str(default_data_root()))
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("StartTraining")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("Stop")
        self.resume_button = QPushButton("Resume from checkpoint…")
        self.journey_button = QPushButton("Imbalance journey: 6 recipes on the frozen backbone")
        self.journey_button.setObjectName("StartJourney")
        self.journey_button.setToolTip(
            "attricam train --compare " + ",".join(JOURNEY_RECIPES) + " --from BUNDLE --freeze backbone: the course "
            "page's naive BCE, weighted, focal and aggressive focal, then the balanced and curriculum samplers, each "
            "retrained on the bundle's frozen CNN (the shipped model unless one is named above), side by side"
        )
        self.watch_button = QPushButton("Watch a run's event log…")
        self.watch_button.setToolTip("Plot a run started from the command line (attricam train --events FILE), live")
        self.progress = QProgressBar()
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        self.state_label = QLabel("No run yet.")
        self.state_label.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        recipe = QGroupBox("Recipe")
        recipe_layout = QVBoxLayout(recipe)
        recipe_layout.addWidget(self.form)
        recipe_layout.addLayout(buttons)
        for widget in (self.journey_button, self.resume_button, self.watch_button, self.progress, self.state_label):
            recipe_layout.addWidget(widget)
        return recipe

    def _build_result_box(self) -> QGroupBox:
        """What a finished run offers: load its model into the live view, compare it, or go back to the default."""
        self.result_box = QGroupBox("Result")
        self.result_label = QLabel("When a run finishes, its model can be loaded into the live view here.")
        self.result_label.setWordWrap(True)
        self.load_button = QPushButton("Load new model into live view")
        self.load_button.setObjectName("LoadTrainedBundle")
        self.load_button.setEnabled(False)
        self.default_button = QPushButton("Back to default model")
        self.live_label = QLabel("")
        self.live_label.setStyleSheet("color: gray;")
        self.compare_result_button = QPushButton("Compare with the live model")
        self.compare_result_button.setToolTip(
            "Keep the live model and put the new one beside it (Live tab, Compare A | B)"
        )
        self.compare_result_button.setEnabled(False)
        result_buttons = QHBoxLayout()
        result_buttons.addWidget(self.load_button)
        result_buttons.addWidget(self.compare_result_button)
        result_layout = QVBoxLayout(self.result_box)
        result_layout.addWidget(self.result_label)
        result_layout.addLayout(result_buttons)
        result_layout.addWidget(self.default_button)
        result_layout.addWidget(self.live_label)
        return self.result_box

    def _build_right_tabs(self) -> QTabWidget:
        """Live plots | Per-attribute report | Journey | Log."""
        self.plots = TrainingPlots()
        self.report = MetricsTable()
        self.report.setObjectName("TrainingReport")
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(3000)
        self.journey = JourneyView()
        self.right_tabs = QTabWidget()
        self.right_tabs.addTab(self.plots, "Live plots")
        self.right_tabs.addTab(self.report, "Per-attribute report")
        self.right_tabs.addTab(self.journey, "Journey")
        self.right_tabs.addTab(self.log_view, "Log")
        return self.right_tabs

    def _connect_signals(self) -> None:
        self.start_button.clicked.connect(self.start)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self._resume_dialog)
        self.journey_button.clicked.connect(self.start_journey)
        self.journey.loadRequested.connect(self._load_bundle_path)
        self.journey.compareRequested.connect(self._compare_bundle_path)
        self.journey.sideBySideRequested.connect(self._side_by_side)
        self.watch_button.clicked.connect(self._watch_dialog)
        self.follower.event.connect(self._on_event)
        self.load_button.clicked.connect(self._load_result)
        self.default_button.clicked.connect(lambda: self.loadBundleRequested.emit(None))
        self.compare_result_button.clicked.connect(
            lambda: self._compare_bundle_path(self._result_bundle) if self._result_bundle else None
        )
        self.job.event.connect(self._on_event)
        self.job.log.connect(self._log_line)
        self.job.finished.connect(self._on_finished)

    # ------------------------------------------------------------------ run control
    def start(self, *, resume: bool = False) -> bool:
        problem = self.form.validate()
        if problem:
            self._state(problem, error=True)
            return False
        config = self.form.config(**self.extra_config)
        out = Path(config.out)
        if (out / CHECKPOINT_NAME).exists() and not resume:
            if not (out / BUNDLE_NAME).exists():  # an unfinished run: never overwritten, only resumed
                self._state(f"{out} holds an unfinished run: use Resume, or clear the run folder field", error=True)
                return False
            out = _fresh_folder(out)  # a finished run: this Start is a new run beside it
            self.form.out.setText(str(out))
            config = self.form.config(**self.extra_config)
        out.mkdir(parents=True, exist_ok=True)
        config_path = out / _GUI_CONFIG
        atomic_write_text(config_path, json.dumps(config.to_dict(), indent=2))
        self.settings.data_root = config.data[0]
        self.run = RunState(epochs=config.epochs)
        if self._result_bundle:
            self.result_label.setText(f"Last finished model (loadable while this run trains): {self._result_bundle}")
        self.follower.stop()
        if not resume:
            self.plots.clear()
        self.log_view.appendPlainText(f"--- {'resuming' if resume else 'starting'} {out}")
        self.progress.setRange(0, config.epochs)
        self.progress.setValue(0)
        self.progress.setFormat("preparing data (face cache)…")
        self.job.start(["train", "--config", str(config_path), *(["--resume"] if resume else [])])
        self._state(f"Running {config.loss} for {config.epochs} epochs → {out}")
        self._set_running(True)
        return True

    def start_journey(self) -> bool:
        """The course page's recipes, one after the other on the bundle's frozen CNN, then the comparison."""
        problem = self.form.validate()
        if problem:
            self._state(problem, error=True)
            return False
        named = self.form.out.text().strip()
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = Path(named) if named else workspace_dir() / "runs" / f"journey-{stamp}"
        if (out / "comparison.json").exists():
            out = _fresh_folder(out)  # never over a finished journey; a stopped one continues where it stopped
        self.form.out.setText(str(out))
        config = self.form.config(**self.extra_config)
        bundle = config.init_from or str(default_bundle_path())
        self.form.out.setText("")
        self.journey_folder = out
        self.settings.data_root = config.data[0]
        self.run = RunState()
        self.follower.stop()
        self.plots.clear()
        self.log_view.appendPlainText(f"--- imbalance journey → {out}")
        self.progress.setRange(0, 0)
        self.progress.setFormat("preparing data (face cache, token grids)…")
        base = TrainConfig(  # the form's data, seed, limits and cores; each recipe sets its loss and sampler
            data=config.data,
            out=str(out),
            init_from=bundle,
            freeze="backbone",
            epochs=FROZEN_DEFAULT_EPOCHS,
            seed=config.seed,
            num_threads=config.num_threads,
            workers=config.workers,
            train_limit=config.train_limit,
            val_limit=config.val_limit,
            export_onnx=config.export_onnx,
        )
        out.mkdir(parents=True, exist_ok=True)
        config_path = out / _JOURNEY_CONFIG
        atomic_write_text(config_path, json.dumps(base.to_dict(), indent=2))
        args = ["train", "--compare", ",".join(JOURNEY_RECIPES), "--config", str(config_path)]
        if any(out.glob("*/checkpoint.pt")):
            args.append("--resume")  # a stopped journey: its recipes continue from their checkpoints
        self.job.start(args)
        self._state(f"Imbalance journey: {len(JOURNEY_RECIPES)} recipes on the frozen CNN of {bundle} → {out}")
        self._set_running(True)
        return True

    def stop(self) -> None:
        if self.job.running:
            self._state("Stopping… (the last finished epoch is kept in the checkpoint)")
            self.job.stop()

    @property
    def finished_event(self) -> FinishedEvent | None:
        """The current run's ``finished`` event, None while it runs or when it stopped early."""
        return self.run.finished

    def resume_run(self, folder: str | Path) -> bool:
        """Continue the checkpoint in ``folder`` with the recipe saved beside it."""
        folder = Path(folder)
        if not (folder / CHECKPOINT_NAME).is_file():
            self._state(f"{folder}: no {CHECKPOINT_NAME} to resume", error=True)
            return False
        if (folder / _GUI_CONFIG).is_file():
            self.form.set_config(TrainConfig.from_dict(json.loads((folder / _GUI_CONFIG).read_text())))
        self.form.out.setText(str(folder))
        return self.start(resume=True)

    def _resume_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Run folder with a checkpoint", self.form.out.text() or "runs")
        if folder:
            self.resume_run(folder)

    def watch_events(self, path: str | Path) -> int:
        """Plot the events of another run (a CLI run's ``--events`` file), following it as it grows."""
        self.plots.clear()
        self.run = RunState()
        count = self.follower.follow(path)
        self._state(f"Watching {path} ({count} events so far)")
        return count

    def _watch_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Training event log", "runs", "Event logs (*.jsonl);;All files (*)")
        if path:
            self.watch_events(path)

    def _pause_toggled(self, paused: bool) -> None:
        if paused:
            self.job.pause()
            self._state("Paused (the training process is suspended; Continue resumes it)")
        else:
            self.job.resume()
            self._state("Running")
        self.pause_button.setText("Continue" if paused else "Pause")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.resume_button.setEnabled(not running)
        self.watch_button.setEnabled(not running)
        self.journey_button.setEnabled(not running)
        self.form.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        if not running:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)

    def _log_line(self, line: str) -> None:
        """A line of the job's output into the Log tab, unless it is a library's INFO chatter."""
        parts = line.split(maxsplit=2)
        if len(parts) >= 2 and parts[0] == "INFO" and parts[1].rstrip(":").startswith(_QUIET_LOGGERS):
            self.quiet_lines += 1
            return
        self.log_view.appendPlainText(line)

    def _state(self, text: str, *, error: bool = False) -> None:
        self.state_label.setText(text)
        self.state_label.setStyleSheet("color: #c92a2a;" if error else "")

    # ------------------------------------------------------------------ events
    def _on_event(self, event: Event) -> None:
        self.plots.add_event(event)
        run = self.run
        if isinstance(event, StartedEvent):
            if self.journey_folder is not None and event.start_epoch == 0:  # the next recipe: its own plots
                self.plots.clear()
                self.log_view.appendPlainText(f"--- recipe {event.run}")
            run.epochs, run.start_epoch, run.epochs_done = event.epochs, event.start_epoch, event.start_epoch
            self.progress.setRange(0, event.epochs)
            self.progress.setValue(event.start_epoch)
            self.progress.setFormat(f"epoch {event.start_epoch}/{event.epochs}")
            resumed = f" (resumed at epoch {event.start_epoch + 1})" if event.start_epoch else ""
            self._state(f"Training on {event.train_images} faces, validating on {event.val_images}{resumed}")
        elif isinstance(event, StepEvent):
            self.progress.setFormat(
                f"epoch {event.epoch + 1}/{run.epochs} · step {event.step}/{event.steps_per_epoch}"
                f" · loss {event.loss:.4f} · {event.images_per_s:.0f} img/s"
            )
        elif isinstance(event, EpochEvent):
            run.epochs, run.epochs_done = event.epochs, event.epoch + 1
            self.progress.setValue(run.epochs_done)
            parts = [f"epoch {event.epoch + 1}/{event.epochs}: loss {event.train_loss:.4f}"]
            parts += _quote(event.val, _EPOCH_METRICS)
            parts.append(f"best so far: epoch {event.best_epoch + 1}")  # 1-based, as the Result box says
            self.log_view.appendPlainText(" · ".join(parts))
        elif isinstance(event, FinishedEvent):
            self._run_finished(event)
        elif isinstance(event, StoppedEvent):
            run.stopped, run.epochs_done = event, event.epochs_done
            self._state(f"Stopped after {event.epochs_done} epochs. Resume from checkpoint continues at the next one.")
        elif isinstance(event, ErrorEvent):
            run.error = event.message
            self._state(f"Training failed: {event.message}", error=True)
        elif isinstance(event, LogEvent):
            self.log_view.appendPlainText(event.message)
            if event.message.startswith("token"):  # a frozen run's one-time token cache: minutes, so say how far
                self.progress.setFormat(event.message)

    def _on_finished(self, code: int, crashed: bool) -> None:
        self._set_running(False)
        if self.journey_folder is not None:
            folder, self.journey_folder = self.journey_folder, None
            self.progress.setRange(0, 1)
            if self.journey.show_comparison(folder):
                self.progress.setValue(1)
                self.progress.setFormat("journey done")
                self.right_tabs.setCurrentWidget(self.journey)
                self._state(f"Imbalance journey done: {folder / 'comparison.md'}")
                return
            self.progress.setFormat("journey stopped")
            if not self.run.error:
                self.form.out.setText(str(folder))
                self._state(f"Imbalance journey stopped; the journey button continues it in {folder}")
            return
        run = self.run
        if run.finished is not None:
            self.progress.setFormat("done")
            return
        self.progress.setFormat("stopped")
        if run.error or run.stopped is not None:
            return  # the event already said what happened
        if code in (0, 130) or crashed:  # crashed = ended by a signal (Stop)
            self._state("Stopped. Resume from checkpoint continues at the next epoch.")
        else:
            self._state(f"Training process ended with code {code}; see the Log tab", error=True)

    def _run_finished(self, event: FinishedEvent) -> None:
        self.run.finished = event
        summary = ", ".join(_quote(event.val, _FINISHED_METRICS))
        self.result_label.setText(f"Finished: {event.bundle}\nbest epoch {event.best_epoch + 1} · {summary}")
        self._result_bundle = event.bundle
        self.load_button.setEnabled(True)
        self.compare_result_button.setEnabled(True)
        self.log_view.appendPlainText(f"finished: best epoch {event.best_epoch + 1} → {event.bundle}")
        if self.quiet_lines:
            self.log_view.appendPlainText(f"({self.quiet_lines} ONNX export INFO lines not shown)")
            self.quiet_lines = 0
        self._state("Finished. Start again trains a new run in a fresh folder beside it.")
        if event.report and Path(event.report).is_file():
            self.show_report(EvaluationReport.read(event.report))
            self.right_tabs.setCurrentWidget(self.report)
        self.runFinished.emit(event)

    def show_report(self, report: EvaluationReport) -> None:
        rows = report_rows(report)
        colours = [tier_color(attribute_index(a.name)) for a in report.attributes]  # one per row, in order
        self.report.set_rows(REPORT_HEADERS, rows, REPORT_FORMATS, colours)

    def _load_bundle_path(self, path: str) -> None:
        try:
            bundle = ModelBundle.load(path)
        except BundleError as exc:
            self._state(str(exc), error=True)
            return
        self.loadBundleRequested.emit(bundle)

    def _read_bundle(self, path: str) -> ModelBundle | None:
        try:
            return ModelBundle.load(path)
        except BundleError as exc:
            self._state(str(exc), error=True)
            return None

    def _compare_bundle_path(self, path: str) -> None:
        bundle = self._read_bundle(path)
        if bundle is not None:
            self.compareBundleRequested.emit(bundle)

    def _side_by_side(self, first: str, second: str) -> None:
        """The journey's naive recipe as the live model and its best one beside it, on the Live tab."""
        bundles = self._read_bundle(first), self._read_bundle(second)
        if bundles[0] is not None and bundles[1] is not None:
            self.loadBundleRequested.emit(bundles[0])
            self.compareBundleRequested.emit(bundles[1])

    def _load_result(self) -> None:
        """Load the last finished run's bundle: a later run that was started and stopped does not hide it."""
        if not self._result_bundle:
            self._state("No run has finished yet: there is no new model to load", error=True)
            return
        try:
            bundle = ModelBundle.load(self._result_bundle)
        except BundleError as exc:
            self._state(str(exc), error=True)
            return
        self.loadBundleRequested.emit(bundle)

    # ------------------------------------------------------------------ window hooks
    def set_live_bundle(self, bundle: ModelBundle) -> None:
        state = "trained" if bundle.trained else "untrained, random weights"
        self.live_label.setText(f"Live model now: {bundle_label(bundle)} ({state})")

    def confirm_close(self) -> bool:
        if not self.job.running or not self.ask_before_close:
            return True
        answer = QMessageBox.question(
            self,
            "Training is running",
            "Stop the training run and quit? The last finished epoch stays in its checkpoint and can be resumed.",
        )
        return answer == QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        self.follower.stop()
        self.job.stop()
