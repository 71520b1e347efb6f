"""The Training tab's loose ends (issue 20): each test drives the widget the way a user's run does."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from attricam.engine.attributes import ATTRIBUTE_NAMES, ATTRIBUTES


def _summary(**metrics: float):
    from attricam.training.events import ValSummary

    values = {
        "count": 24,
        "mean_accuracy": 0.9,
        "mean_balanced_accuracy": 0.7,
        "mean_f1": 0.3,
        "mean_auc": 0.6,
        "rare_mean_f1": 0.1,
        "common_mean_f1": 0.5,
        "rare_predicted_positive_rate": 0.05,
    }
    return ValSummary(**{**values, **metrics})


def _epoch(epoch: int, rates, stuck=(), fixes=(), best: int = 0, epochs: int = 2):
    from attricam.training.events import EpochEvent

    return EpochEvent(
        epoch=epoch,
        epochs=epochs,
        train_loss=0.5,
        lr=1e-3,
        seconds=1.0,
        images_per_s=8.0,
        predicted_positive_rate=list(rates),
        val=_summary(),
        stuck=list(stuck),
        fixes=list(fixes),
        best_epoch=best,
    )


def _texts(plots) -> list[str]:
    return [plots.events.item(i).text() for i in range(plots.events.count())]


def test_report_threshold_column_shows_the_shipped_thresholds_not_nan(qtbot, settings):
    from attricam.desktop.training_tab import TrainingTab
    from attricam.training.events import AttributeMetrics, EvaluationReport

    attributes = tuple(
        AttributeMetrics(
            name=a.name,
            frequency=a.frequency,
            threshold=float("nan"),
            accuracy=0.9,
            balanced_accuracy=0.7,
            precision=0.5,
            recall=0.5,
            f1=0.5,
            auc=0.9,
            predicted_positive_rate=0.1,
            true_positive_rate=0.1,
            baseline_accuracy=0.8,
        )
        for a in ATTRIBUTES
    )
    thresholds = [0.2 + 0.01 * i for i in range(40)]
    report = EvaluationReport(_summary(), attributes, shipped_thresholds=tuple(thresholds))
    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    tab.show_report(report)
    column = [tab.report.horizontalHeaderItem(c).text() for c in range(tab.report.columnCount())].index(
        "threshold (shipped)"
    )
    shown = [tab.report.item(r, column).text() for r in range(tab.report.rowCount())]
    assert len(shown) == 40 and "nan" not in shown
    assert shown[0] == f"{thresholds[0]:.2f}"


def test_stuck_rule_in_the_plots_is_the_trainers():
    from attricam.desktop import training_plots as tp
    from attricam.training.diagnosis import DiagnosisConfig

    c = DiagnosisConfig()
    trainers = (c.patience_epochs, c.stuck_rate, c.min_true_rate, c.relative_rate)
    assert trainers == (tp.STUCK_PATIENCE, tp.STUCK_RATE, tp.MIN_TRUE_RATE, tp.RELATIVE_RATE)
    assert (c.positive_stuck_rate, c.positive_max_true_rate) == (tp.POSITIVE_STUCK_RATE, tp.POSITIVE_MAX_TRUE_RATE)


def test_a_short_run_that_looks_stuck_never_says_no_stuck_attribute(qtbot, settings):
    """A 10-face, 2-epoch run: rare attributes at 100 % predicted, no flag yet (patience) -> amber, and said so."""
    from attricam.desktop.training_tab import TrainingTab

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    rates = np.array([a.frequency for a in ATTRIBUTES])
    mustache, chin = ATTRIBUTE_NAMES.index("Mustache"), ATTRIBUTE_NAMES.index("Double_Chin")
    rates[[mustache, chin]] = 1.0
    tab._on_event(_epoch(0, rates))
    plots = tab.plots
    assert {"Mustache", "Double_Chin"} <= set(plots.unflagged_stuck)
    assert not any("no stuck attribute" in t for t in _texts(plots))
    assert any("look stuck on the chart but are not flagged" in t and "epoch 3" in t for t in _texts(plots))
    brushes = plots.predicted_bars.opts["brushes"]
    order = [a.name for a in sorted(ATTRIBUTES, key=lambda a: a.frequency)]
    assert brushes[order.index("Mustache")].color().name() == "#f59f00"
    # once the trainer flags it, the bar is red and it is no longer "unflagged"
    tab._on_event(_epoch(2, rates, stuck=["Mustache", "Double_Chin"], epochs=3))
    assert plots.predicted_bars.opts["brushes"][order.index("Mustache")].color().name() == "#e03131"
    assert "Mustache" not in plots.unflagged_stuck
    # a healthy epoch still says so
    plots.clear()
    tab._on_event(_epoch(0, [a.frequency for a in ATTRIBUTES]))
    assert _texts(plots) == ["epoch 1: no stuck attribute"]


def test_every_attribute_is_named_whole_on_the_stuck_chart(qtbot):
    from attricam.desktop.training_plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    names = plots.rate_plot.getAxis("bottom").label_texts()
    assert sorted(names) == sorted(ATTRIBUTE_NAMES)


def test_start_after_a_finished_run_opens_a_fresh_run_folder(qtbot, settings, celeba_root, tmp_path, monkeypatch):
    from attricam.desktop.training_tab import TrainingTab

    tab = TrainingTab(settings)
    tab.ask_before_close = False
    qtbot.addWidget(tab)
    started: list[list[str]] = []
    monkeypatch.setattr(tab.job, "start", started.append)
    finished = tmp_path / "runs" / "gui-weighted"
    finished.mkdir(parents=True)
    for name in ("checkpoint.pt", "model.pt"):
        (finished / name).write_bytes(b"x")
    tab.form.data_root.setText(str(celeba_root))
    tab.form.out.setText(str(finished))
    assert tab.start(), tab.state_label.text()
    fresh = tmp_path / "runs" / "gui-weighted-2"
    assert tab.form.out.text() == str(fresh) and started[0][2] == str(fresh / "gui_config.json")
    assert (fresh / "gui_config.json").is_file()
    tab._set_running(False)
    (fresh / "checkpoint.pt").write_bytes(b"x")  # stopped mid-run: no model.pt, so Start must not overwrite it
    assert not tab.start()
    assert "unfinished run" in tab.state_label.text() and len(started) == 1


def test_best_epoch_is_one_based_in_the_result_box_and_the_log(qtbot, settings):
    from attricam.desktop.training_tab import TrainingTab
    from attricam.training.events import FinishedEvent

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    rates = [a.frequency for a in ATTRIBUTES]
    tab._on_event(_epoch(0, rates, best=0))
    tab._on_event(_epoch(1, rates, best=1))
    tab._on_event(FinishedEvent("runs/x/model.pt", "", 1, _summary(mean_f1=0.5), ""))
    log = tab.log_view.toPlainText()
    assert "best so far: epoch 2" in log and "finished: best epoch 2" in log
    assert "best epoch 2" in tab.result_label.text()


def test_cli_result_line_gives_the_best_epoch_one_based():
    from attricam.training.cli import result_line

    line = result_line({"finished": True, "best_epoch": 1, "bundle": "b", "history": [1, 2]})
    assert "'best_epoch': 2" in line and "history" not in line


def test_onnx_info_lines_stay_out_of_the_log_tab(qtbot, settings):
    from attricam.desktop.training_tab import TrainingTab

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    tab.job.log.emit("INFO attricam.training.trainer: epoch 1/2 loss 0.5")
    for _ in range(30):
        tab.job.log.emit("INFO onnx_ir.passes.common.unused_removal: Removed 83 unused nodes")
        tab.job.log.emit("INFO onnxscript.rewriter: Applied 41 of general pattern rewrite rules.")
    tab.job.log.emit("WARNING onnxscript.optimizer: something a user must see")
    text = tab.log_view.toPlainText()
    assert "epoch 1/2" in text and "WARNING onnxscript" in text
    assert "unused nodes" not in text and "rewrite rules" not in text and tab.quiet_lines == 60


def test_onnx_export_logs_no_library_info_lines(caplog, random_bundle_path, tmp_path):
    import logging

    from attricam.engine.bundle import ModelBundle
    from attricam.training.finalize import export_onnx_if_available

    caplog.set_level(logging.INFO)
    assert export_onnx_if_available(ModelBundle.load(random_bundle_path), tmp_path / "m.onnx")
    noisy = [r.name for r in caplog.records if r.name.startswith(("onnx_ir", "onnxscript")) and r.levelno < 30]
    assert noisy == []
    assert logging.getLogger("onnx_ir").level == logging.NOTSET  # restored


def _scene_rect(item):
    return item.mapRectToScene(item.boundingRect())


@pytest.mark.parametrize("fix_epochs", [(1, 2, 3, 4), (2, 3)])
def test_fix_labels_and_legends_do_not_overlap(qtbot, fix_epochs):
    from PySide6.QtWidgets import QApplication

    from attricam.desktop.training_plots import TrainingPlots
    from attricam.training.events import FixAction, FixEvent

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.resize(900, 700)
    plots.show()
    qtbot.waitExposed(plots)
    rates = [a.frequency for a in ATTRIBUTES]
    for epoch in range(1, 6):
        plots.add_event(_epoch(epoch - 1, rates, epochs=5))
        if epoch in fix_epochs:
            for action in (FixAction.RAISE_LR, FixAction.BOOST_POS_WEIGHT):
                plots.add_event(FixEvent(epoch=epoch - 1, action=action, detail="x"))
    plots.loss_plot.getPlotItem().getViewBox().autoRange()
    QApplication.processEvents()  # the labels move on the range change's posted events, not after a delay
    labels = [plots.fix_markers[e][0].label for e in fix_epochs]
    rects = [_scene_rect(label) for label in labels]
    for i in range(len(rects)):
        for j in range(i + 1, len(rects)):
            assert not rects[i].intersects(rects[j]), (fix_epochs[i], fix_epochs[j])
    for plot in (plots.loss_plot, plots.f1_plot, plots.rate_plot):
        assert plot.getPlotItem().legend is None  # legends live under the plots, never over lines or labels
    assert "F1 rare" in plots.f1_legend.text() and "fix applied" in plots.loss_legend.text()
    assert not math.isnan(labels[0].orthoPos)


def test_the_form_offers_a_frozen_backbone_run_from_a_bundle(qtbot, settings, celeba_root, tmp_path):
    from attricam.desktop.training_tab import TrainingTab
    from attricam.engine.bundle import default_bundle_path
    from attricam.training.config import FROZEN_DEFAULT_EPOCHS
    from attricam.training.events import LogEvent

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    form = tab.form
    form.data_root.setText(str(celeba_root))
    form.out.setText(str(tmp_path / "run"))
    assert form.config().freeze is None and form.config().init_from is None
    assert form.spin_box("epochs").value() == 12
    form.freeze.setChecked(True)
    assert form.spin_box("epochs").value() == FROZEN_DEFAULT_EPOCHS
    config = form.config()
    assert (config.freeze, config.init_from) == ("backbone", str(default_bundle_path()))  # the shipped CNN
    form.init_from.setText(str(tmp_path / "missing.pt"))
    assert "no such model bundle" in form.validate()
    form.init_from.setText(str(default_bundle_path()))
    form.spin_box("epochs").setValue(5)
    again = form.config()
    form.set_config(form.config().__class__(data=(str(celeba_root),), out=""))
    assert not form.freeze.isChecked() and form.init_from.text() == ""
    form.set_config(again)
    assert form.config() == again and form.spin_box("epochs").value() == 5  # the recipe's epochs, not the toggle's
    tab._on_event(LogEvent("token cache (train): 2048/14264 faces"))
    assert tab.progress.format() == "token cache (train): 2048/14264 faces"


def test_the_journey_runs_the_course_recipes_frozen_and_shows_them_side_by_side(
    qtbot, settings, celeba_root, tmp_path, monkeypatch, random_bundle_path
):
    import json as _json

    from attricam.desktop.training_journey import JOURNEY_RECIPES
    from attricam.desktop.training_tab import TrainingTab
    from attricam.engine.bundle import default_bundle_path
    from attricam.training.config import FROZEN_DEFAULT_EPOCHS, TrainConfig

    tab = TrainingTab(settings)
    tab.ask_before_close = False
    qtbot.addWidget(tab)
    started: list[list[str]] = []
    monkeypatch.setattr(tab.job, "start", started.append)
    tab.form.data_root.setText(str(celeba_root))
    tab.form.out.setText(str(tmp_path / "journey"))
    assert tab.start_journey()
    args = started[0]
    assert args[:2] == ["train", "--compare"] and args[2].split(",") == list(JOURNEY_RECIPES)
    assert args[3] == "--config" and len(args) == 5
    base = TrainConfig.from_dict(_json.loads(Path(args[4]).read_text()))  # the base every recipe changes
    assert base.init_from == str(default_bundle_path()) and base.freeze == "backbone"
    assert base.out == str(tmp_path / "journey") and base.epochs == FROZEN_DEFAULT_EPOCHS
    more = tab.form.extra_root.text()  # ../shared/celeba-lowres when present: the journey sees all train faces
    assert base.data == (str(celeba_root), *([more] if more else []))
    rows = []
    for i, recipe in enumerate(JOURNEY_RECIPES):
        rows.append(
            {
                "recipe": recipe,
                "rare_pred_pos_rate@0.5": 0.05 * i,
                "rare_f1@0.5": 0.1 * i,
                "rare_f1": 0.4,
                "mean_auc": 0.9,
                "stuck_at_0.5": [],
                "bundle": str(random_bundle_path),
                "seconds": 50.0,
                "frozen": "backbone",
            }
        )
    assert (tmp_path / "journey").is_dir()  # the journey keeps its base config there
    (tmp_path / "journey" / "comparison.json").write_text(_json.dumps({"budget": "2 epochs", "rows": rows}))
    tab._on_finished(0, False)
    view = tab.journey
    assert tab.right_tabs.currentWidget() is view and view.table.rowCount() == len(JOURNEY_RECIPES)
    assert "5.0 min" in view.summary.text() and "does not appear" in view.summary.text()  # said, not staged
    assert tab.start_button.isEnabled() and tab.journey_button.isEnabled()
    with qtbot.waitSignal(tab.loadBundleRequested, timeout=10000) as loaded:
        view.recipe_box.setCurrentIndex(3)
        view.load_button.click()
    assert str(loaded.args[0].path) == str(random_bundle_path)
    tab.form.out.setText(str(tmp_path / "journey"))
    assert tab.start_journey()  # a second journey never lands on the first one's folder
    assert TrainConfig.from_dict(_json.loads(Path(started[1][4]).read_text())).out == str(tmp_path / "journey-2")


@pytest.mark.slow
def test_a_frozen_run_from_the_tab_keeps_the_bundles_cnn(qtbot, settings, celeba_root, tmp_path, random_bundle_path):
    import torch

    from attricam.desktop.training_tab import TrainingTab
    from attricam.engine.bundle import ModelBundle
    from attricam.training.frozen_tokens import FROZEN_PREFIXES

    from .test_training_tab import configure_tiny_run

    tab = TrainingTab(settings)
    tab.ask_before_close = False
    qtbot.addWidget(tab)
    configure_tiny_run(tab, celeba_root, tmp_path / "run", epochs=2)
    tab.extra_config["cache_dir"] = str(tmp_path / "cache")
    tab.form.freeze.setChecked(True)
    tab.form.init_from.setText(str(random_bundle_path))
    assert tab.start()
    qtbot.waitUntil(lambda: not tab.job.running, timeout=480000)
    assert tab.finished_event is not None, tab.log_view.toPlainText()[-3000:]
    assert "token grids ready" in tab.log_view.toPlainText()
    start, trained = ModelBundle.load(random_bundle_path), ModelBundle.load(tab.finished_event.bundle)
    for name, value in start.state_dict.items():
        if name.startswith(FROZEN_PREFIXES):
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(trained.state_dict[name])), name
    assert trained.metadata["train_config"]["freeze"] == "backbone"
    assert list((tmp_path / "cache").glob("tokens-*.npy"))
    tab.shutdown()


def test_a_stopped_journey_continues_in_its_folder(qtbot, settings, celeba_root, tmp_path, monkeypatch):
    from attricam.desktop.training_tab import TrainingTab

    tab = TrainingTab(settings)
    tab.ask_before_close = False
    qtbot.addWidget(tab)
    started: list[list[str]] = []
    monkeypatch.setattr(tab.job, "start", started.append)
    tab.form.data_root.setText(str(celeba_root))
    tab.form.out.setText(str(tmp_path / "journey"))
    assert tab.start_journey()
    (tmp_path / "journey" / "bce").mkdir(parents=True)
    (tmp_path / "journey" / "bce" / "checkpoint.pt").write_bytes(b"x")  # one recipe done, then Stop
    tab._on_finished(130, True)
    assert "continues it" in tab.state_label.text() and tab.form.out.text() == str(tmp_path / "journey")
    assert tab.start_journey()
    assert started[1][:5] == started[0] and "--resume" in started[1]  # the same folder and base
    assert "--resume" not in started[0]
