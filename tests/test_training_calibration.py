"""Fitting the decision rule on held-out faces, and honest (cross-fitted) scoring."""

import numpy as np
import pytest

from attricam.engine.attributes import ATTRIBUTES, attribute_index
from attricam.training.calibration import RARE_MIN_THRESHOLD, fit_decision_rule, fit_platt
from attricam.training.crossfit import HeldOutPredictions, cross_fit
from attricam.training.splits import calibration_mask


def _synthetic(n: int, seed: int, scale: float = 0.5, bias: float = 1.0):
    """Labels drawn from a known logistic model of the network's logit: Platt must recover it."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 3, (n, 40))
    true_p = 1 / (1 + np.exp(-(scale * z + bias)))
    labels = (rng.random((n, 40)) < true_p).astype(np.uint8)
    raw = 1 / (1 + np.exp(-z))
    return raw, labels


def test_platt_recovers_a_known_calibration():
    raw, labels = _synthetic(8000, 0)
    a, b = fit_platt(raw, labels)
    assert np.median(a) == pytest.approx(0.5, abs=0.05)
    assert np.median(b) == pytest.approx(1.0, abs=0.1)


def test_few_positives_cannot_push_a_rare_threshold_to_nothing():
    """Bald with 3 positives among 780 faces once gave a threshold of 0.0032."""
    rng = np.random.default_rng(1)
    raw = rng.random((780, 40)) * 0.2
    labels = np.zeros((780, 40), np.uint8)
    bald = attribute_index("Bald")
    labels[:3, bald] = 1
    raw[:3, bald] = 0.05  # positives scored low: the F1-optimal cut alone would sit near zero
    fit = fit_decision_rule(raw, labels)
    assert fit.rule.thresholds[bald] >= RARE_MIN_THRESHOLD
    assert fit.positives[bald] == 3
    for info in ATTRIBUTES:
        if info.is_rare:
            assert fit.rule.thresholds[info.index] >= RARE_MIN_THRESHOLD


def test_rule_fitted_on_calibrated_data_predicts_near_the_true_rate():
    raw, labels = _synthetic(3000, 2)
    fit = fit_decision_rule(raw[:2000], labels[:2000])
    _, decisions = fit.rule.apply(raw[2000:])
    true_rate, predicted = labels[2000:].mean(0), decisions.mean(0)
    ratio = predicted / np.maximum(true_rate, 1e-9)
    assert np.median(ratio) == pytest.approx(1.0, abs=0.35)


def test_cross_fit_never_scores_a_face_its_rule_was_fitted_on(monkeypatch):
    import attricam.training.crossfit as crossfit

    raw, labels = _synthetic(600, 3)
    held = HeldOutPredictions(labels[:400], raw[:400], raw[:400])
    val = HeldOutPredictions(labels[400:], raw[400:], raw[400:])
    fold = np.arange(200) % 2 == 0
    fitted_on: list[set] = []
    original = crossfit.fit_decision_rule

    def spy(probs, labels, policy):
        fitted_on.append({row.tobytes() for row in probs})
        return original(probs, labels, policy)

    monkeypatch.setattr(crossfit, "fit_decision_rule", spy)
    report = cross_fit(held, val, fold, "hybrid_acc_balacc")
    halves = [val.clean[fold], val.clean[~fold]]
    # rule 0 (fitted with half 0) scores half 1 and vice versa
    assert not ({r.tobytes() for r in halves[1]} & fitted_on[0])
    assert not ({r.tobytes() for r in halves[0]} & fitted_on[1])
    assert not ({r.tobytes() for r in val.clean} & fitted_on[2])  # calibration slice only
    assert report.val_crossfit.count == 200 and report.shipped.faces == 2 * 600


def test_cross_fit_floors_only_make_the_floored_attributes_stricter():
    raw, labels = _synthetic(600, 3)
    held = HeldOutPredictions(labels[:400], raw[:400], raw[:400])
    val = HeldOutPredictions(labels[400:], raw[400:], raw[400:])
    fold = np.arange(200) % 2 == 0
    plain = cross_fit(held, val, fold, "hybrid_acc_balacc")
    floors = np.zeros(labels.shape[1])
    floors[0] = 0.9
    strict = cross_fit(held, val, fold, "hybrid_acc_balacc", floors)
    assert strict.shipped.rule.thresholds[0] >= 0.9
    np.testing.assert_array_equal(strict.shipped.rule.thresholds[1:], plain.shipped.rule.thresholds[1:])
    before, after = plain.val_crossfit.attributes, strict.val_crossfit.attributes
    assert after[0].predicted_positive_rate <= before[0].predicted_positive_rate
    assert [a.predicted_positive_rate for a in after[1:]] == [a.predicted_positive_rate for a in before[1:]]


def test_calibration_slice_is_identity_disjoint_and_deterministic():
    files = [f"{i:06d}.jpg" for i in range(3000)]
    identities = {f: i // 5 for i, f in enumerate(files)}  # five images per person
    mask = calibration_mask(files, identities, 0.12)
    assert 0.08 < mask.mean() < 0.16
    np.testing.assert_array_equal(mask, calibration_mask(files, identities, 0.12))
    for person in range(600):
        assert len(set(mask[person * 5 : person * 5 + 5])) == 1


def test_platt_stays_put_when_the_network_nearly_separates_the_classes():
    """A full Newton step overshot on Blond_Hair of the calibration slice (scale -3e5, every face 'blond')."""
    import numpy as np

    from attricam.training.calibration import fit_platt

    rng = np.random.default_rng(0)
    y = (rng.random((1700, 1)) < 0.12).astype(np.uint8)
    z = np.where(y > 0, rng.normal(6.0, 2.0, y.shape), rng.normal(-7.0, 2.0, y.shape))
    z[y[:, 0] > 0][:3] = -9.0  # a few labelled positives the network is sure are negative
    raw = 1 / (1 + np.exp(-z))
    scale, bias = fit_platt(raw, y)
    assert np.isfinite(scale).all() and 0.05 < scale[0] < 5 and abs(bias[0]) < 20
    p = 1 / (1 + np.exp(-(scale * np.log(raw / (1 - raw)) + bias)))
    assert abs(p.mean() - y.mean()) < 0.02  # calibrated: the mean probability is the positive rate
