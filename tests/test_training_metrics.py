"""Metrics, threshold calibration, augmentation and event plumbing on hand-made data."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

from attricam.training.augment import AugmentConfig, augment_batch, center_crop
from attricam.training.events import EpochEvent, StepEvent, event_to_json
from attricam.training.metrics import evaluate_predictions, roc_auc, roc_curve, roc_curves
from attricam.training.thresholds import POLICIES, best_threshold, calibrate_thresholds, choose_policy, policy_tradeoff


def test_roc_auc_known_values():
    y = np.array([0, 0, 1, 1])
    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), y) == 1.0
    assert roc_auc(np.array([0.9, 0.8, 0.2, 0.1]), y) == 0.0
    assert roc_auc(np.full(4, 0.5), y) == 0.5  # ties count half
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), y) == 0.75
    assert np.isnan(roc_auc(np.array([0.1, 0.2]), np.array([0, 0])))


def test_roc_auc_matches_pairwise_definition():
    rng = np.random.default_rng(1)
    y = rng.random(300) < 0.1
    s = np.round(rng.random(300) + 0.4 * y, 2)
    pos, neg = s[y], s[~y]
    pairwise = (pos[:, None] > neg[None]).mean() + 0.5 * (pos[:, None] == neg[None]).mean()
    assert roc_auc(s, y) == pytest.approx(pairwise)


def test_per_attribute_metrics_on_a_hand_example():
    labels = np.zeros((10, 40), np.uint8)
    labels[:2, 0] = 1  # attribute 0: 2 positives of 10
    probs = np.full((10, 40), 0.1)
    probs[0, 0], probs[2, 0] = 0.9, 0.8  # one TP, one FP, one FN
    result = evaluate_predictions(probs, labels, 0.5)
    a = result.attributes[0]
    assert (a.accuracy, a.precision, a.recall, a.f1) == (0.8, 0.5, 0.5, 0.5)
    assert a.balanced_accuracy == pytest.approx((0.5 + 7 / 8) / 2)
    assert a.predicted_positive_rate == 0.2 and a.true_positive_rate == 0.2
    assert a.baseline_accuracy == 0.8 and a.gain_over_baseline == pytest.approx(0.0)
    stuck = result.attributes[1]  # no positives, none predicted: all-negative baseline
    assert stuck.accuracy == 1.0 and stuck.f1 == 0.0
    json.dumps(result.to_dict())
    assert set(result.summary()) >= {"mean_accuracy", "mean_balanced_accuracy", "rare_mean_f1"}


def test_best_threshold_finds_the_separating_cut():
    scores = np.array([0.05, 0.1, 0.2, 0.6, 0.7, 0.9])
    labels = np.array([0, 0, 0, 1, 1, 1])
    for objective in ("accuracy", "balanced_accuracy", "f1"):
        t, value = best_threshold(scores, labels, objective)
        assert 0.2 < t < 0.6 and value == pytest.approx(1.0)
    with pytest.raises(ValueError, match="valid"):
        best_threshold(scores, labels, "youden")


def test_calibration_policies_and_tradeoff():
    rng = np.random.default_rng(0)
    labels = (rng.random((400, 40)) < np.linspace(0.03, 0.8, 40)).astype(np.uint8)
    probs = np.clip(0.3 * labels + rng.random((400, 40)) * 0.7, 0, 1)
    for policy in POLICIES:
        cal = calibrate_thresholds(probs, labels, policy)
        assert len(cal.thresholds) == 40 and cal.policy == policy
    bal = evaluate_predictions(
        probs, labels, np.array(calibrate_thresholds(probs, labels, "balanced_accuracy").thresholds)
    )
    acc = evaluate_predictions(probs, labels, np.array(calibrate_thresholds(probs, labels, "accuracy").thresholds))
    assert bal.mean_balanced_accuracy >= acc.mean_balanced_accuracy
    assert acc.mean_accuracy >= bal.mean_accuracy
    table = policy_tradeoff(probs, labels)
    assert set(table) == {"fixed-0.5", *POLICIES}
    with pytest.raises(ValueError, match="valid"):
        calibrate_thresholds(probs, labels, "max")
    assert choose_policy(table) in POLICIES
    assert calibrate_thresholds(probs, labels).policy in POLICIES  # the default, "auto", resolves to one of them


def test_choose_policy_minimises_shortfall_to_targets():
    table = {
        "fixed-0.5": {"mean_accuracy": 0.99, "mean_balanced_accuracy": 0.99, "rare_mean_f1": 0.99},  # never chosen
        "accuracy": {"mean_accuracy": 0.91, "mean_balanced_accuracy": 0.70, "rare_mean_f1": 0.40},  # short 0.31
        "f1": {"mean_accuracy": 0.88, "mean_balanced_accuracy": 0.80, "rare_mean_f1": 0.53},  # short 0.11
    }
    assert choose_policy(table) == "f1"


def _crops(n: int = 4) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, 112, 96, 3), dtype=torch.uint8, generator=g)


def test_augment_identity_equals_center_crop_and_flip_mirrors():
    crops = _crops()
    still = AugmentConfig(
        flip=0.0,
        max_shift=0.0,
        scale=(1.0, 1.0),
        rotation_deg=0.0,
        brightness=0.0,
        contrast=0.0,
        lowres=0.0,
        camera_shift=False,
    )
    centre = center_crop(crops, 96, 80)
    assert centre.shape == (4, 3, 96, 80)
    assert torch.allclose(augment_batch(crops, 96, 80, still), centre, atol=1e-5)
    flipped = augment_batch(crops, 96, 80, AugmentConfig(**{**still.__dict__, "flip": 1.0}))
    assert torch.allclose(flipped, centre.flip(-1), atol=1e-5)


def test_augment_is_seeded_bounded_and_keeps_hue():
    crops = _crops()
    a = augment_batch(crops, 96, 80, AugmentConfig(), torch.Generator().manual_seed(3))
    b = augment_batch(crops, 96, 80, AugmentConfig(), torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.min() >= 0 and a.max() <= 1
    grey = torch.full((2, 112, 96, 3), 128, dtype=torch.uint8)
    out = augment_batch(grey, 96, 80, AugmentConfig(brightness=0.3, contrast=0.3, camera_shift=False))
    assert torch.allclose(out[:, 0], out[:, 1]) and torch.allclose(out[:, 1], out[:, 2])  # no colour shift


def test_events_are_picklable_and_json():
    events = [
        StepEvent(epoch=0, step=1, steps_per_epoch=10, loss=0.5, lr=1e-3, images_per_s=200.0),
        EpochEvent(
            epoch=0,
            epochs=3,
            train_loss=0.4,
            lr=1e-3,
            seconds=10.0,
            images_per_s=210.0,
            predicted_positive_rate=[0.1] * 40,
            stuck=["Bald"],
            fixes=["raise_lr: x2"],
        ),
    ]
    for e in events:
        assert pickle.loads(pickle.dumps(e)) == e
        assert json.loads(event_to_json(e))["kind"] == e.kind


def test_attention_region_shares_follow_the_template():
    from attricam.engine.attributes import attribute_index
    from attricam.training.evaluation import attention_region_shares, face_regions

    regions = face_regions(80, 96, (12, 10))
    assert all(mask.any() for mask in regions.values())
    eyes, mouth = np.argwhere(regions["eyes"]), np.argwhere(regions["mouth"])
    assert eyes[:, 0].max() < mouth[:, 0].min()  # eyes above the mouth
    assert np.argwhere(regions["top_of_head"])[:, 0].max() < eyes[:, 0].min()
    uniform = np.full((2, 40, 12, 10), 1 / 120)
    for row in attention_region_shares(uniform, 80, 96):
        assert row["share"] == pytest.approx(row["area"]) and row["lift"] == pytest.approx(1.0)
    focused = uniform.copy()
    focused[-1, attribute_index("Eyeglasses")] = regions["eyes"] / regions["eyes"].sum()
    rows = {r["attribute"]: r for r in attention_region_shares(focused, 80, 96)}
    assert rows["Eyeglasses"]["share"] == pytest.approx(1.0)


def test_roc_curves_cover_the_columns_with_both_classes():
    rng = np.random.default_rng(3)
    scores = rng.random((200, 3))
    labels = np.stack([rng.random(200) < 0.3, np.zeros(200, bool), rng.random(200) < 0.05], axis=1)
    curves = roc_curves(scores, labels)
    assert sorted(curves) == [0, 2]  # column 1 has no positive: no curve
    for j, (fpr, tpr) in curves.items():
        expected_fpr, expected_tpr = roc_curve(scores[:, j], labels[:, j])
        np.testing.assert_array_equal(fpr, expected_fpr)
        np.testing.assert_array_equal(tpr, expected_tpr)


def test_auto_policy_resolves_in_both_fitting_paths():
    """``auto`` (the config's default) is a choice among the policies, never an objective that raises."""
    from attricam.training.calibration import fit_decision_rule

    rng = np.random.default_rng(1)
    labels = (rng.random((200, 40)) < np.linspace(0.03, 0.8, 40)).astype(np.uint8)
    probs = np.clip(0.3 * labels + rng.random((200, 40)) * 0.7, 0.01, 0.99)
    assert calibrate_thresholds(probs, labels, "auto").policy in POLICIES
    fit = fit_decision_rule(probs, labels, "auto")
    assert fit.policy in POLICIES and len(fit.rule.thresholds) == 40
    with pytest.raises(ValueError, match="no faces"):
        calibrate_thresholds(probs[:0], labels[:0])


def test_common_mean_f1_and_roc_points():
    from attricam.engine.attributes import ATTRIBUTES
    from attricam.training.metrics import roc_curve, roc_points

    labels = np.zeros((4, 40), np.uint8)
    labels[:2] = 1
    probs = labels.astype(np.float64)  # perfect on every attribute
    probs[:, [a.index for a in ATTRIBUTES if a.is_common]] = 1 - probs[:, [a.index for a in ATTRIBUTES if a.is_common]]
    summary = evaluate_predictions(probs, labels, 0.5).summary()
    assert summary["common_mean_f1"] == 0.0 and summary["rare_mean_f1"] == 1.0  # the common ones all wrong
    rng = np.random.default_rng(2)
    y = rng.random(500) < 0.2
    scores = rng.random(500) + y
    fpr, tpr = roc_points(scores, y, points=11)
    full_fpr, full_tpr = roc_curve(scores, y)
    assert fpr.tolist() == pytest.approx(np.linspace(0, 1, 11).tolist()) and tpr[-1] == 1.0
    assert all(t == full_tpr[full_fpr <= f].max() for f, t in zip(fpr, tpr))  # the best tpr at each fpr
    assert len(roc_points(scores, np.zeros(500, bool))[0]) == 0
