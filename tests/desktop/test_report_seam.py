"""The desktop/training seam is typed end to end: a report training writes reads back through the seam's
dataclasses (never by string keys), both jobs start from a config file, and every metric name the GUI shows is
the seam's own, so renaming one fails loudly."""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np
import pytest

from attricam.training.events import (
    VAL_METRICS,
    AttributeMetrics,
    EvaluatedEvent,
    EvaluationReport,
    EventStream,
    FinishedEvent,
    ValSummary,
    parse_event,
    val_metrics,
)


def test_a_trained_runs_report_reads_back_through_the_dataclasses(qtbot, settings, tmp_path, monkeypatch, capsys):
    """``attricam train --config`` (as the Training tab starts it) writes ``val_report.json``; the tab reads it as
    an :class:`EvaluationReport` whose summary is the one the finished event carried."""
    from attricam.desktop.training_report import report_rows
    from attricam.desktop.training_tab import TrainingTab
    from attricam.engine.bundle import ModelBundle
    from attricam.training.cli import main
    from attricam.training.config import TrainConfig
    from tests.test_training_events import _tiny

    _tiny(monkeypatch)
    config = TrainConfig(
        data=(str(tmp_path),),
        out=str(tmp_path / "run"),
        epochs=1,
        batch_size=16,
        image_height=32,
        image_width=24,
        export_onnx=False,
    )
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert main(["train", "--config", str(path), "--json-events"]) == 0
    events = EventStream().feed(capsys.readouterr().out.encode())
    finished = events[-1]
    assert isinstance(finished, FinishedEvent) and isinstance(finished.val, ValSummary)
    report = EvaluationReport.read(finished.report)
    assert report.summary == finished.val  # the event and the file say the same, typed
    assert asdict(report.summary) == ModelBundle.load(finished.bundle).metadata["val"]
    assert len(report.attributes) == 40 and all(isinstance(a, AttributeMetrics) for a in report.attributes)
    assert report.shipped_thresholds == tuple(ModelBundle.load(finished.bundle).thresholds)
    rows = report_rows(report)
    assert all(np.isfinite(row[2]) for row in rows)  # cross-fitted rows show the shipped threshold

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    tab._on_event(finished)
    assert tab.report.rowCount() == 40
    assert f"mean_f1 {finished.val.mean_f1:.3f}" in tab.result_label.text()


def test_an_evaluation_started_by_the_dashboard_reads_back_through_the_dataclasses(
    qtbot, settings, tmp_path, monkeypatch, capsys
):
    """The Dashboard writes an :class:`EvaluateConfig` and runs ``attricam evaluate --config FILE``; what the run
    writes is what the dashboard shows, row by row."""
    import torch

    import attricam.training.evaluate_cmd
    from attricam.desktop.dashboard_tab import DashboardTab
    from attricam.engine.attributes import ATTRIBUTE_NAMES
    from attricam.engine.bundle import ModelBundle, random_bundle
    from attricam.training.cli import main
    from attricam.training.config import CELEBA_ATTR_FILE, CELEBA_IMAGE_DIR, EvaluateConfig
    from attricam.training.data import DataSummary
    from tests.test_training_trainer import _faces

    root = tmp_path / "celeba"
    (root / CELEBA_IMAGE_DIR).mkdir(parents=True)
    (root / CELEBA_ATTR_FILE).write_text(f"0\n{' '.join(ATTRIBUTE_NAMES)}\n")
    bundle = random_bundle(seed=0)
    bundle.metadata["recipe"] = {"loss": "weighted", "weight_cap": 20.0}
    bundle.save(tmp_path / "model.pt")
    c = bundle.config
    faces = _faces(40, 3)
    images = np.random.default_rng(0).integers(0, 256, (40, c.image_height + 16, c.image_width + 16, 3), np.uint8)
    faces = type(faces)(torch.from_numpy(images), faces.labels, faces.filenames, faces.sources)
    monkeypatch.setattr(attricam.training.evaluate_cmd, "load_face_arrays", lambda *a, **k: (faces, DataSummary(())))
    monkeypatch.setattr("attricam.training.preflight.check_data_root", lambda root: None)  # synthetic faces

    tab = DashboardTab(settings)
    qtbot.addWidget(tab)
    tab.set_bundle(ModelBundle.load(tmp_path / "model.pt"))
    tab.root_edit.setText(str(root))
    tab.limit.setValue(40)
    started: list[list[str]] = []
    monkeypatch.setattr(tab.job, "start", started.append)  # run the job here, in-process, instead
    assert tab.evaluate()
    (args,) = started
    assert args[:2] == ["evaluate", "--config"] and len(args) == 3
    config = EvaluateConfig.from_dict(json.loads(Path(args[2]).read_text(encoding="utf-8")))
    assert config.model == str(tmp_path / "model.pt") and config.data == (str(root),) and config.limit == 40
    assert not config.shifted and not config.plots

    assert main([*args, "--json-events"]) == 0
    evaluated = EventStream().feed(capsys.readouterr().out.encode())[-1]
    assert isinstance(evaluated, EvaluatedEvent) and evaluated.count == 40
    tab._on_event(evaluated)
    report = EvaluationReport.read(evaluated.report)
    assert tab.data is not None and tab.data.metrics == report.attributes and tab.data.count == report.summary.count
    assert set(tab.data.roc) and tab.data.weights is not None and max(tab.data.weights.pos_weight) == 20.0
    assert tab.data.attention is not None and tab.data.attention.shape[1] == 40
    np.testing.assert_allclose(tab.data.column(lambda m: m.f1), [a.f1 for a in report.attributes])
    tab.shutdown()


def test_every_metric_name_the_gui_shows_is_defined_by_the_seam():
    """One definition: the summary's fields are the metrics training computes and the ones the GUI picks."""
    import attricam.desktop.training_tab as training_tab
    from attricam.desktop.training_plots import F1_SERIES
    from attricam.training.metrics import evaluate_predictions

    rng = np.random.default_rng(0)
    result = evaluate_predictions(rng.random((30, 40)), rng.random((30, 40)) < 0.3)
    assert tuple(result.summary()) == ("count", *VAL_METRICS)
    assert result.val_summary() == ValSummary.from_dict(result.summary())
    assert set(result.to_dict()["attributes"][0]) == {f.name for f in fields(AttributeMetrics)} | {"gain_over_baseline"}
    shown = [m for m, _, _ in F1_SERIES] + [*training_tab._EPOCH_METRICS, *training_tab._FINISHED_METRICS]
    assert set(shown) <= set(VAL_METRICS)


def test_a_renamed_metric_fails_loudly():
    with pytest.raises(ValueError, match=r"unknown val metric.*mean_f2.*known: mean_accuracy"):
        val_metrics("mean_f1", "mean_f2")
    summary = {"count": 3, **dict.fromkeys(VAL_METRICS, 0.5)}
    renamed = {("mean_f2" if k == "mean_f1" else k): v for k, v in summary.items()}
    with pytest.raises(ValueError, match="lacks mean_f1"):
        ValSummary.from_dict(renamed)
    line = json.dumps({"kind": "finished", "bundle": "m.pt", "report": "", "best_epoch": 0, "val": renamed})
    with pytest.raises(ValueError, match=r"malformed 'finished' event.*lacks mean_f1"):
        parse_event(line)
    assert parse_event(line.replace("mean_f2", "mean_f1")).val == ValSummary.from_dict(summary)
    with pytest.raises(ValueError, match="lacks auc"):
        AttributeMetrics.from_dict({f.name: 0.5 for f in fields(AttributeMetrics) if f.name != "auc"})


def test_an_epoch_without_val_crosses_as_none():
    """An older log's ``"val": {}`` and a newer one's ``null`` both read as no summary."""
    from attricam.training.events import EpochEvent, event_to_json

    event = EpochEvent(
        epoch=0, epochs=2, train_loss=0.5, lr=1e-3, seconds=1.0, images_per_s=8.0, predicted_positive_rate=[0.1] * 40
    )
    assert event.val is None and parse_event(event_to_json(event)) == event
    assert parse_event(event_to_json(event).replace('"val": null', '"val": {}')) == event


def test_evaluate_options_and_config_agree():
    """Without ``--config`` the options build the same :class:`EvaluateConfig`, with the same defaults."""
    from attricam.training.cli import evaluate_config, get_args_parser
    from attricam.training.config import EvaluateConfig

    parser = get_args_parser()
    assert evaluate_config(parser.parse_args(["evaluate", "--model", "m.pt"])) == EvaluateConfig(model="m.pt")
    args = parser.parse_args(["evaluate", "--model", "m.pt", "--data", "a,b", "--limit", "5", "--no-shifted"])
    assert evaluate_config(args) == EvaluateConfig(model="m.pt", data=("a", "b"), limit=5, shifted=False)
    config = EvaluateConfig(model="m.pt", data=("a",), split="test", plots=False)
    assert EvaluateConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="unknown evaluation config keys"):
        EvaluateConfig.from_dict({"model": "m.pt", "no_plots": True})
    with pytest.raises(ValueError, match="unknown split"):
        EvaluateConfig(model="m.pt", split="dev")
    with pytest.raises(ValueError, match="--model is required"):
        evaluate_config(parser.parse_args(["evaluate"]))


def test_the_celeba_layout_is_written_once(tmp_path):
    """The Training form and the Dashboard check a picked root with the seam's one description of the layout."""
    from attricam.training.celeba import ATTR_FILE, IMAGE_DIR
    from attricam.training.config import CELEBA_ATTR_FILE, CELEBA_IMAGE_DIR, celeba_root_problem

    assert (IMAGE_DIR, ATTR_FILE) == (CELEBA_IMAGE_DIR, CELEBA_ATTR_FILE)
    assert celeba_root_problem(tmp_path) == (
        f"{tmp_path}: not a CelebA root (needs {CELEBA_IMAGE_DIR}/ and {CELEBA_ATTR_FILE})"
    )
    (tmp_path / CELEBA_IMAGE_DIR).mkdir()
    (tmp_path / CELEBA_ATTR_FILE).write_text("0\n")
    assert celeba_root_problem(tmp_path) == ""


def test_a_comparison_runs_each_recipe_on_a_config_files_base(tmp_path, monkeypatch):
    """The Training tab's journey is ``attricam train --compare RECIPES --config BASE``: every recipe is the base
    with its own loss, sampler, folder and name, as the options would have made it."""
    import attricam.training.compare
    from attricam.training.cli import main
    from attricam.training.config import TrainConfig

    base = TrainConfig(
        data=(str(tmp_path),),
        out=str(tmp_path / "journey"),
        init_from="start.pt",
        freeze="backbone",
        epochs=3,
        seed=5,
        train_limit=48,
        export_onnx=False,
    )
    path = tmp_path / "journey.json"
    path.write_text(json.dumps(base.to_dict()))
    made: dict[str, TrainConfig] = {}

    def capture(recipes, config_for, emit) -> None:
        made.update({name: config_for(name) for name in recipes})

    monkeypatch.setattr(attricam.training.compare, "run_comparison", capture)
    monkeypatch.setattr("attricam.training.preflight.check_train_setup", lambda cfg, resume=False: None)
    assert main(["train", "--compare", "bce,weighted+balanced", "--config", str(path)]) == 0
    assert made["bce"] == replace(base, loss="bce", out=str(tmp_path / "journey" / "bce"), name="attricam-bce")
    assert made["weighted+balanced"] == replace(
        base,
        loss="weighted",
        sampler="balanced",
        out=str(tmp_path / "journey" / "weighted+balanced"),
        name="attricam-weighted+balanced",
    )
