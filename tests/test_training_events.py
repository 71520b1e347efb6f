"""The job protocol: every event kind round-trips through JSON, one reader cuts streams, and ``attricam train`` /
``attricam evaluate`` report what happened (stopped, evaluated, error) as events a GUI can read."""

from __future__ import annotations

import io
import json
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np
import pytest

from attricam.training.events import (
    EVENT_TYPES,
    EpochEvent,
    ErrorEvent,
    EvaluatedEvent,
    EventKind,
    EventStream,
    FinishedEvent,
    FixAction,
    FixEvent,
    JsonLinesWriter,
    LogEvent,
    ProgressEvent,
    StartedEvent,
    StepEvent,
    StoppedEvent,
    StuckEvent,
    ValSummary,
    event_to_json,
    parse_event,
)

SUMMARY = ValSummary(
    count=40,
    mean_accuracy=0.9,
    mean_balanced_accuracy=0.7,
    mean_f1=0.5,
    mean_auc=0.61,
    rare_mean_f1=0.2,
    common_mean_f1=0.6,
    rare_predicted_positive_rate=0.05,
)

EXAMPLES = [
    StartedEvent(run="r", epochs=3, start_epoch=1, steps_per_epoch=10, train_images=160, val_images=40),
    StepEvent(epoch=0, step=1, steps_per_epoch=10, loss=0.5, lr=1e-3, images_per_s=200.0),
    StuckEvent(epoch=0, attribute="Bald", predicted_positive_rate=0.0, true_positive_rate=0.02),
    FixEvent(epoch=0, action=FixAction.RAISE_LR, detail="x2"),
    EpochEvent(
        epoch=0,
        epochs=3,
        train_loss=0.4,
        lr=1e-3,
        seconds=10.0,
        images_per_s=210.0,
        predicted_positive_rate=[0.1] * 40,
        val=SUMMARY,
        stuck=["Bald"],
        fixes=["raise_lr: x2"],
        best_epoch=0,
    ),
    FinishedEvent(bundle="m.pt", report="r.json", best_epoch=2, val=SUMMARY),
    StoppedEvent(checkpoint="ckpt.pt", epochs_done=1),
    ProgressEvent(done=64, total=400),
    EvaluatedEvent(bundle="m.pt", report="val_report.json", arrays="val_arrays.npz", count=400),
    LogEvent(message="reading faces"),
    ErrorEvent(message="boom"),
]
OLD_LOG = Path(__file__).parent / "fixtures" / "events_before_enums.jsonl"
"""Every kind as ``--json-events`` wrote it while kinds and fix actions were plain strings (``kind`` a field)."""


def test_every_kind_has_an_example_and_round_trips():
    assert {e.kind for e in EXAMPLES} == set(EVENT_TYPES)
    for event in EXAMPLES:
        line = event_to_json(event)
        back = parse_event(line)
        assert type(back) is type(event) and parse_event(json.loads(line)) == back
        assert json.dumps({**asdict(back), "kind": back.kind}, allow_nan=True) == line  # kind last, as ever
    started = StartedEvent(run="r", epochs=1, start_epoch=0, steps_per_epoch=1, train_images=1, val_images=0)
    nan = parse_event(event_to_json(started).replace('"epochs": 1', '"epochs": 1, "x": NaN'))
    assert nan.epochs == 1  # a NaN anywhere in a line does not make it unreadable


def test_an_event_log_written_before_kinds_were_enums_reads_and_writes_back_the_same():
    lines = OLD_LOG.read_text(encoding="utf-8").splitlines()
    events = [parse_event(line) for line in lines]
    assert {e.kind for e in events} == set(EVENT_TYPES)
    assert [event_to_json(e) for e in events] == lines  # the wire format did not move
    fixes = [e for e in events if isinstance(e, FixEvent)]
    assert [f.action for f in fixes] == [FixAction.RAISE_LR, FixAction.LOWER_POS_WEIGHT]
    assert [e.direction for e in events if isinstance(e, StuckEvent)] == ["all-negative", "all-positive"]
    assert [e.kind for e in events if isinstance(e, EpochEvent)] == [EventKind.EPOCH] * 2


def test_an_unknown_fix_action_is_a_malformed_event():
    with pytest.raises(ValueError, match="malformed 'fix'"):
        parse_event({"kind": "fix", "epoch": 0, "action": "reboot", "detail": ""})


@pytest.mark.parametrize(
    "line, match",
    [
        ("not json", "not a JSON"),
        ("[1]", "JSON object"),
        ('{"kind": "bogus"}', "unknown event kind"),
        ('{"kind": "step", "epoch": 0}', "malformed 'step'"),
    ],
)
def test_parse_event_names_what_is_wrong(line, match):
    with pytest.raises(ValueError, match=match):
        parse_event(line)


def test_parse_event_ignores_fields_it_does_not_know():
    assert parse_event({"kind": "log", "message": "m", "added_later": 1}) == LogEvent(message="m")


def test_the_stream_reader_splits_events_log_lines_and_partial_lines():
    stream = EventStream()
    text = "".join(event_to_json(e) + "\n" for e in EXAMPLES[:3]) + "plain log\n" + event_to_json(EXAMPLES[3])
    data = text.encode()
    items = stream.feed(data[:50]) + stream.feed(data[50:])  # cut inside the first event
    assert items == [*EXAMPLES[:3], "plain log"]
    assert stream.flush() == [EXAMPLES[3]]  # the last line had no newline yet


def test_json_lines_writer_streams_events_the_reader_reads():
    buffer = io.StringIO()
    writer = JsonLinesWriter(buffer)
    for event in EXAMPLES:
        writer(event)
    assert EventStream().feed(buffer.getvalue().encode()) == EXAMPLES


def test_every_event_field_is_json_typed():
    """Plain numbers, strings, lists and dicts only, a val summary of plain numbers (a JSON object on the wire), a
    fix action or a stuck direction (strings on the wire), each typed again by ``parse_event``: what
    ``--json-events`` can carry."""
    for cls in EVENT_TYPES.values():
        for f in fields(cls):
            typed = {
                "val": "ValSummary | None",
                "action": "FixAction",
                "direction": "StuckDirection",
            }  # str on the wire
            allowed = {"int", "float", "str", "list", "dict", typed.get(f.name)}
            assert str(f.type).split("[")[0] in allowed, (cls.__name__, f.name, f.type)
    assert {str(f.type) for f in fields(ValSummary)} == {"int", "float"}


def _tiny(monkeypatch):
    from dataclasses import replace

    import attricam.training.trainer
    from tests.test_training_trainer import TINY_MODEL, _faces

    real_main = attricam.training.trainer.main
    faces = (_faces(48, 0), _faces(24, 1))

    def tiny_main(cfg, callback=None, **kw):  # synthetic faces and a tiny model instead of CelebA
        return real_main(replace(cfg, model=TINY_MODEL, margin=4, num_threads=1), callback, faces=faces, **kw)

    monkeypatch.setattr(attricam.training.trainer, "main", tiny_main)
    monkeypatch.setattr("attricam.training.preflight.check_train_setup", lambda cfg, resume=False: None)


def test_train_from_a_config_file_reports_a_stop_and_resumes_at_the_next_epoch(tmp_path, monkeypatch, capsys):
    from attricam.training.cli import main
    from attricam.training.config import TrainConfig

    _tiny(monkeypatch)
    config = TrainConfig(
        data=(str(tmp_path),),
        out=str(tmp_path / "run"),
        loss="focal",
        epochs=2,
        batch_size=16,
        image_height=32,
        image_width=24,
        export_onnx=False,
    )
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert main(["train", "--config", str(path), "--json-events", "--max-epochs-this-run", "1"]) == 0
    events = EventStream().feed(capsys.readouterr().out.encode())
    assert [e.kind for e in events if not isinstance(e, StepEvent)][-2:] == ["epoch", "stopped"]
    assert events[-1] == StoppedEvent(str(tmp_path / "run" / "checkpoint.pt"), 1)
    assert main(["train", "--config", str(path), "--json-events", "--resume"]) == 0
    events = [e for e in EventStream().feed(capsys.readouterr().out.encode()) if not isinstance(e, StepEvent)]
    assert isinstance(events[0], StartedEvent) and events[0].start_epoch == 1
    assert [e.epoch for e in events if isinstance(e, EpochEvent)] == [1]
    finished = events[-1]
    assert isinstance(finished, FinishedEvent)
    from attricam.engine.bundle import ModelBundle

    weights = ModelBundle.load(finished.bundle).metadata["loss_weights"]
    assert weights["loss"] == "focal" and weights["source"] == "trained"
    assert weights["pos_weight"] == [1.0] * 40  # focal applies no positive weight; the bundle says so


def test_a_failing_run_ends_with_an_error_event(tmp_path, monkeypatch, capsys):
    import attricam.training.trainer
    from attricam.training.cli import main

    def broken(cfg, callback=None, **kw):
        raise RuntimeError("no training faces found under /nowhere")

    monkeypatch.setattr(attricam.training.trainer, "main", broken)
    monkeypatch.setattr("attricam.training.preflight.check_train_setup", lambda cfg, resume=False: None)
    with pytest.raises(RuntimeError):
        main(["train", "--out", str(tmp_path / "run"), "--json-events"])
    events = EventStream().feed(capsys.readouterr().out.encode())
    assert events == [ErrorEvent("RuntimeError: no training faces found under /nowhere")]


def test_evaluate_writes_everything_the_dashboard_shows(tmp_path, monkeypatch, capsys):
    import attricam.training.evaluate_cmd
    from attricam.engine.bundle import random_bundle
    from attricam.training.cli import main
    from attricam.training.data import DataSummary
    from tests.test_training_trainer import _faces

    faces = _faces(40, 3)
    bundle = random_bundle(seed=0)
    bundle.metadata["recipe"] = {"loss": "weighted", "weight_cap": 20.0}
    bundle.save(tmp_path / "model.pt")
    c = bundle.config
    images = np.random.default_rng(0).integers(0, 256, (40, c.image_height + 16, c.image_width + 16, 3), np.uint8)
    import torch

    faces = type(faces)(torch.from_numpy(images), faces.labels, faces.filenames, faces.sources)
    monkeypatch.setattr(attricam.training.evaluate_cmd, "load_face_arrays", lambda *a, **k: (faces, DataSummary(())))
    monkeypatch.setattr("attricam.training.preflight.check_data_root", lambda root: None)  # synthetic faces, no root
    out = tmp_path / "eval"
    argv = [
        "evaluate",
        "--model",
        str(tmp_path / "model.pt"),
        "--data",
        str(tmp_path),
        "--out",
        str(out),
        "--no-shifted",
        "--no-plots",
        "--json-events",
    ]
    assert main(argv) == 0
    events = EventStream().feed(capsys.readouterr().out.encode())
    progress = [e for e in events if isinstance(e, ProgressEvent)]
    assert progress[0] == ProgressEvent(0, 40) and progress[-1] == ProgressEvent(40, 40)
    evaluated = events[-1]
    assert isinstance(evaluated, EvaluatedEvent) and evaluated.count == 40
    report = json.loads(Path(evaluated.report).read_text())
    assert len(report["attributes"]) == 40 and "common_mean_f1" in report["summary"]
    assert set(report["roc"]) <= {a["name"] for a in report["attributes"]} and report["roc"]
    assert max(report["loss_weights"]["pos_weight"]) == 20.0  # the recipe's cap, not a copy of a default
    assert report["loss_weights"]["source"].startswith("recipe")
    with np.load(evaluated.arrays) as arrays:
        assert arrays["attention"].shape[1] == 40 and arrays["mean_face"].shape == (c.image_height, c.image_width, 3)
