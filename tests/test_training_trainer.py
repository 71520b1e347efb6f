"""Stuck-model diagnosis, checkpoint resume and a one-epoch smoke training on real faces."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from attricam.engine.attributes import ATTRIBUTE_NAMES
from attricam.engine.bundle import ModelBundle
from attricam.training.config import CHECKPOINT_NAME, TrainConfig
from attricam.training.data import FaceArrays
from attricam.training.diagnosis import DiagnosisConfig, StuckDiagnosis, apply_emergency_fixes
from attricam.training.evaluation import predict
from attricam.training.events import FixEvent, StepEvent, StuckEvent
from attricam.training.trainer import build_training, load_checkpoint, main

TINY_MODEL = {
    "stem_width": 8,
    "stage_widths": [16, 32],
    "stage_blocks": [1, 1],
    "dim": 32,
    "heads": 2,
    "dim_head": 16,
    "layers": 1,
}


def _faces(n: int, seed: int) -> FaceArrays:
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 40, 32, 3), dtype=torch.uint8, generator=g)
    labels = (torch.rand(n, 40, generator=g) < 0.3).float()
    return FaceArrays(images, labels, tuple(f"{i:06d}.jpg" for i in range(n)), ("synthetic",) * n)


def _config(out, **kw) -> TrainConfig:
    base = {
        "data": ("synthetic",),
        "out": str(out),
        "loss": "weighted",
        "epochs": 2,
        "batch_size": 16,
        "lr": 1e-3,
        "image_height": 32,
        "image_width": 24,
        "margin": 4,
        "model": TINY_MODEL,
        "export_onnx": False,
        "num_threads": 1,
    }
    return TrainConfig(**{**base, **kw})


def test_stuck_detection_flags_a_collapsed_model_and_applies_fixes():
    cfg = _config("unused")
    model, loss, optimizer, scheduler = build_training(
        cfg, steps_per_epoch=10, num_train=100, device=torch.device("cpu")
    )
    with torch.no_grad():
        model.head_bias.fill_(-20.0)  # the all-negative trap
    val = _faces(64, seed=1)
    probs, _ = predict(model, val.images, 32, 24)
    predicted_rate = (probs >= 0.5).mean(0)
    assert predicted_rate.max() == 0.0
    true_rate = np.full(40, 0.01)
    true_rate[:5] = 0.3  # only these are really present (>= 2 %)
    diagnosis = StuckDiagnosis(DiagnosisConfig(patience_epochs=3))
    assert diagnosis.update(0, predicted_rate, true_rate) == []  # too early
    assert diagnosis.update(1, predicted_rate, true_rate) == []
    flags = diagnosis.update(2, predicted_rate, true_rate)
    assert [f.attribute for f in flags] == list(ATTRIBUTE_NAMES[:5])
    assert all(isinstance(f, StuckEvent) and f.predicted_positive_rate == 0.0 for f in flags)

    lr_before = optimizer.param_groups[0]["lr"]
    weights_before = loss.pos_weight.clone()
    fixes = apply_emergency_fixes(2, flags, loss, optimizer, scheduler, lr_boosts_done=0)
    assert [f.action for f in fixes] == ["raise_lr", "boost_pos_weight", "raise_gamma", "enable_diversity"]
    assert all(isinstance(f, FixEvent) for f in fixes)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(2 * lr_before)
    assert scheduler.base_lrs[0] == pytest.approx(2 * cfg.lr)
    assert torch.allclose(loss.pos_weight[:5], torch.clamp(weights_before[:5] * 2, max=100))
    assert torch.equal(loss.pos_weight[5:], weights_before[5:])
    assert loss.gamma == 1.0 and loss.diversity_weight > 0
    # The learning rate is doubled at most max_lr_boosts times.
    again = apply_emergency_fixes(3, flags, loss, optimizer, scheduler, lr_boosts_done=2)
    assert "raise_lr" not in [f.action for f in again]
    # A healthy rate (or a rare attribute predicted at its own prevalence) is not flagged.
    assert diagnosis.update(3, np.maximum(true_rate, 0.06), true_rate) == []
    assert StuckDiagnosis().update(5, np.full(40, 0.03), np.full(40, 0.03)) == []
    assert StuckDiagnosis().update(5, np.full(40, 0.033), np.full(40, 0.049)) == []  # under, but not collapsed
    assert len(StuckDiagnosis().update(5, np.full(40, 0.01), np.full(40, 0.049))) == 40


def test_resume_reproduces_the_next_epoch_exactly(tmp_path):
    train, val = _faces(64, seed=0), _faces(32, seed=1)

    def steps_of(events):
        return [(e.epoch, e.step, e.loss) for e in events if isinstance(e, StepEvent)]

    full: list = []
    result_full = main(_config(tmp_path / "full"), full.append, faces=(train, val))
    first: list = []
    paused = main(_config(tmp_path / "split"), first.append, faces=(train, val), max_epochs_this_run=1)
    assert paused["finished"] is False and paused["epochs_done"] == 1
    checkpoint = load_checkpoint(tmp_path / "split" / CHECKPOINT_NAME)  # weights_only=True
    assert checkpoint["epoch"] == 0 and isinstance(checkpoint["config"], dict)
    assert {"model", "optimizer", "scheduler", "rng", "loss_state", "history"} <= set(checkpoint)
    with pytest.raises(FileExistsError, match="--resume"):
        main(_config(tmp_path / "split"), faces=(train, val))
    second: list = []
    result_resumed = main(_config(tmp_path / "split"), second.append, faces=(train, val), resume=True)

    assert steps_of(second)[0][:2] == (1, 1)  # restarts at the next epoch, first step
    assert steps_of(first) + steps_of(second) == steps_of(full)
    a = ModelBundle.load(result_full["bundle"]).state_dict
    b = ModelBundle.load(result_resumed["bundle"]).state_dict
    assert all(np.array_equal(a[k], b[k]) for k in a)
    kinds = [e.kind for e in full]
    assert kinds[0] == "started" and kinds[-1] == "finished" and kinds.count("epoch") == 2


@pytest.mark.slow
def test_one_epoch_smoke_training_on_real_faces(celeba_root, tmp_path):
    events: list = []
    cfg = TrainConfig(
        data=(str(celeba_root),),
        out=str(tmp_path / "run"),
        loss="focal",
        epochs=1,
        batch_size=16,
        train_limit=32,
        val_limit=16,
        cache_dir=str(tmp_path / "cache"),
        export_onnx=False,
    )
    result = main(cfg, events.append)
    bundle = ModelBundle.load(result["bundle"])
    assert bundle.trained and len(bundle.thresholds) == 40
    assert bundle.metadata["recipe"]["loss"] == "focal"
    faces = {row["root"]: row for row in bundle.metadata["data"] if row["partition"] == "train"}
    assert faces[str(celeba_root)]["faces"] >= 28  # the detector finds nearly all of 32 faces
    report = json.loads((tmp_path / "run" / "val_report.json").read_text())
    assert len(report["attributes"]) == 40 and "shifted_val" in report
    assert report["metadata"]["val_note"].startswith("cross-fitted")
    rule = bundle.decision_rule
    assert not rule.is_identity and ((rule.thresholds >= 0.05) & (rule.thresholds <= 0.95)).all()
    assert (tmp_path / "run" / "plots" / "roc_by_frequency.png").is_file()
    step = next(e for e in events if isinstance(e, StepEvent))
    assert np.isfinite(step.loss) and step.images_per_s > 0


def test_stuck_detection_flags_all_positive_and_only_lowers_its_positive_weight():
    cfg = _config("unused")
    _, loss, optimizer, scheduler = build_training(cfg, steps_per_epoch=10, num_train=100, device=torch.device("cpu"))
    predicted, true = np.full(40, 0.3), np.full(40, 0.3)
    predicted[0], true[0] = 0.97, 0.02  # 5 o'Clock shadow on nearly every face
    predicted[1], true[1] = 0.97, 0.60  # common enough to be predicted often: not stuck
    predicted[2], true[2] = 0.0, 0.30  # the classic all-negative trap, same epoch
    flags = StuckDiagnosis().update(2, predicted, true)
    assert [(f.attribute, f.direction) for f in flags] == [
        (ATTRIBUTE_NAMES[0], "all-positive"),
        (ATTRIBUTE_NAMES[2], "all-negative"),
    ]
    lr_before, weights_before = optimizer.param_groups[0]["lr"], loss.pos_weight.clone()
    fixes = apply_emergency_fixes(3, flags[:1], loss, optimizer, scheduler, lr_boosts_done=0)
    assert [f.action for f in fixes] == ["lower_pos_weight"]
    assert loss.pos_weight[0] == pytest.approx(max(0.5 * float(weights_before[0]), 0.25))
    assert torch.equal(loss.pos_weight[1:], weights_before[1:])
    assert optimizer.param_groups[0]["lr"] == lr_before and loss.gamma == 0.0  # nothing pushed further
    for _ in range(10):  # repeated flags never take the weight below the floor
        apply_emergency_fixes(4, flags[:1], loss, optimizer, scheduler, lr_boosts_done=0)
    assert loss.pos_weight[0] == pytest.approx(0.25)
    both = apply_emergency_fixes(5, flags, loss, optimizer, scheduler, lr_boosts_done=0)
    assert both[0].action == "lower_pos_weight" and "boost_pos_weight" in [f.action for f in both]


def test_no_fix_is_applied_after_the_last_epoch(tmp_path, monkeypatch):
    cfg = _config("unused")
    _, loss, optimizer, scheduler = build_training(cfg, steps_per_epoch=10, num_train=100, device=torch.device("cpu"))
    flag = [StuckEvent(4, ATTRIBUTE_NAMES[0], 0.0, 0.3)]
    weights = loss.pos_weight.clone()
    assert apply_emergency_fixes(4, flag, loss, optimizer, scheduler, lr_boosts_done=0, epochs=5) == []
    assert torch.equal(loss.pos_weight, weights) and loss.gamma == 0.0
    assert apply_emergency_fixes(3, flag, loss, optimizer, scheduler, lr_boosts_done=0, epochs=5)

    # In a run: an attribute flagged every epoch is fixed after epoch 1 of 2, only flagged after epoch 2.
    def always_stuck(self, epoch, predicted_rate, true_rate):
        return [StuckEvent(epoch, "Bald", 0.99, 0.02, "all-positive")]

    monkeypatch.setattr(StuckDiagnosis, "update", always_stuck)
    events: list = []
    main(_config(tmp_path / "run", sampler="curriculum"), events.append, faces=(_faces(64, 0), _faces(32, 1)))
    assert [(e.epoch, e.action) for e in events if isinstance(e, FixEvent)] == [(0, "lower_pos_weight")]
    assert [e.epoch for e in events if isinstance(e, StuckEvent)] == [0, 1]
    history = load_checkpoint(tmp_path / "run" / CHECKPOINT_NAME)["history"]
    assert [bool(h["fixes"]) for h in history] == [True, False] and history[-1]["stuck"] == ["Bald"]


def test_init_from_starts_at_a_bundles_weights_and_refuses_another_architecture(tmp_path, random_bundle_path):
    bundle = ModelBundle.load(random_bundle_path)  # the default model size and input
    shape = {"image_height": 96, "image_width": 80, "model": {}}
    cfg = _config(tmp_path, init_from=str(random_bundle_path), **shape)
    model = build_training(cfg, steps_per_epoch=1, num_train=10, device=torch.device("cpu"))[0]
    for name, value in model.state_dict().items():
        assert np.array_equal(value.numpy(), np.asarray(bundle.state_dict[name])), name
    wider = _config(tmp_path, init_from=str(random_bundle_path), **{**shape, "model": {"stem_width": 8}})
    with pytest.raises(ValueError, match="differs from this run"):
        build_training(wider, steps_per_epoch=1, num_train=10, device=torch.device("cpu"))
