"""The one decision rule: calibration, bounded thresholds, and its round trip through a bundle."""

import numpy as np
import pytest

from attricam.engine.bundle import BundleError, ModelBundle, random_bundle
from attricam.engine.decision import MAX_THRESHOLD, MIN_THRESHOLD, DecisionRule


def test_uncalibrated_rule_is_identity_and_bounds_thresholds():
    rule = DecisionRule.uncalibrated(np.r_[0.0032, np.full(38, 0.5), 0.999])
    p = np.linspace(0.001, 0.999, 40)
    np.testing.assert_array_equal(rule.calibrate(p), p.astype(np.float32))
    assert rule.thresholds[0] == pytest.approx(MIN_THRESHOLD) and rule.thresholds[-1] == pytest.approx(MAX_THRESHOLD)


def test_a_probability_shown_as_zero_is_never_positive():
    """The first shipped bundle's Bald threshold was 0.0032: a bar reading 0.00 was a positive."""
    rule = DecisionRule.uncalibrated(np.full(40, 0.0032))
    shown_as_zero = np.full(40, 0.0049)
    assert not rule.decide(shown_as_zero).any()


def test_platt_parameters_map_logits():
    rule = DecisionRule(np.full(40, 2.0), np.full(40, -1.0), np.full(40, 0.5))
    p = np.full(40, 0.5)  # logit 0 -> 2 * 0 - 1 = -1
    np.testing.assert_allclose(rule.calibrate(p), 1 / (1 + np.exp(1.0)), rtol=1e-5)
    calibrated, decisions = rule.apply(np.full(40, 0.9))
    assert decisions.all() == bool(calibrated[0] >= 0.5)


@pytest.mark.parametrize("bad", [np.full(40, np.nan), np.full(39, 1.0)])
def test_non_finite_or_wrong_length_parameters_are_refused(bad):
    with pytest.raises(ValueError):
        DecisionRule(bad, np.zeros(40), np.full(40, 0.5))


def test_bundle_round_trip_keeps_the_rule(tmp_path):
    bundle = random_bundle()
    rule = DecisionRule(np.linspace(0.5, 2, 40), np.linspace(-1, 1, 40), np.linspace(0.1, 0.9, 40))
    bundle.thresholds = rule.thresholds.tolist()
    bundle.calibration = rule.calibration_dict()
    loaded = ModelBundle.load(bundle.save(tmp_path / "b.pt"))
    np.testing.assert_allclose(loaded.decision_rule.scale, rule.scale)
    np.testing.assert_allclose(loaded.decision_rule.bias, rule.bias)
    np.testing.assert_allclose(loaded.decision_rule.thresholds, rule.thresholds)


def test_bundle_with_a_broken_calibration_is_refused(tmp_path):
    bundle = random_bundle()
    bundle.calibration = {"method": "platt", "scale": [1.0] * 40, "bias": [float("nan")] * 40}
    with pytest.raises(BundleError, match="non-finite"):
        ModelBundle.load(bundle.save(tmp_path / "b.pt"))
    bundle.calibration = {"method": "platt", "scale": [1.0] * 39, "bias": [0.0] * 39}
    with pytest.raises(BundleError, match="inconsistent"):
        ModelBundle.load(bundle.save(tmp_path / "c.pt"))
