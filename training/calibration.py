"""Fit the bundle's :class:`attricam.engine.decision.DecisionRule` on held-out faces.

Two steps, both per attribute:

1. **Platt scaling** (Platt, 1999): a logistic regression on the network's logit, with Platt's
   smoothed targets ``(N+ + 1) / (N+ + 2)`` and ``1 / (N- + 2)`` so that a handful of positives
   cannot drive the fit to certainty. Afterwards ``p = 0.3`` means about 30 % of such faces are
   positive, which the stronger loss weights of rare attributes had broken.
2. **Thresholds** on the calibrated probability, under a policy of :mod:`attricam.training.thresholds`,
   estimated robustly: the median over bootstrap resamples of the policy's optimal cut, shrunk
   towards 0.5 (the accuracy-optimal cut of a calibrated probability) by ``k / (N+ + k)``, so an
   attribute with few positives falls back towards "positive when more likely than not". Rare
   attributes (train rate < 10 %) must in addition reach ``RARE_MIN_THRESHOLD``: the evidence a
   rare finding needs before the app shows it. :class:`~attricam.engine.decision.DecisionRule` finally
   bounds every threshold to [0.05, 0.95].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from attricam.engine.attributes import ATTRIBUTES
from attricam.engine.decision import DecisionRule, logit

from .thresholds import DEFAULT_POLICY, best_threshold, objective_for, resolve_policy

__all__ = ["RARE_MIN_THRESHOLD", "CalibrationFit", "fit_decision_rule", "fit_platt"]

RARE_MIN_THRESHOLD = 0.3
"""At 0.15 the F1-optimal cuts of the wider model let Chubby fire on 22 and Double_Chin on 15 of the 43
faces in ``../shared/real-photos`` (ordinary group-photo faces); at 0.3 cross-fitted val loses 0.006 of
balanced accuracy and 0.007 of rare F1 and gains 0.001 of accuracy (``experiments/real_photos.py``,
``experiments/flip_tta.py``). At 0.5, rare F1 falls by 0.10."""
SHRINK_K = 20.0
BOOTSTRAPS = 25


@dataclass(frozen=True)
class CalibrationFit:
    rule: DecisionRule
    policy: str
    positives: tuple[int, ...]
    """Positives per attribute among the fitting faces (how much evidence each threshold rests on)."""
    faces: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "faces": self.faces,
            "positives": list(self.positives),
            "thresholds": self.rule.thresholds.tolist(),
            **self.rule.calibration_dict(),
        }


def fit_platt(raw_probabilities: np.ndarray, labels: np.ndarray, iterations: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(n, 40) network probabilities and 0/1 labels -> Platt (scale, bias) per attribute, by Newton's method."""
    z = logit(raw_probabilities)  # (n, q)
    y = np.asarray(labels, np.float64)
    n_pos, n_neg = y.sum(0), (1 - y).sum(0)
    target = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))  # (n, q)
    a, b = np.ones(z.shape[1]), np.zeros(z.shape[1])
    ridge = 1e-3  # keeps the 2x2 systems solvable when an attribute has no positives

    def loss(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        s = a * z + b  # cross-entropy against the smoothed targets, computed stably from the logit
        total: np.ndarray = (np.logaddexp(0.0, s) - target * s).sum(0) + 0.5 * ridge * ((a - 1) ** 2 + b**2)  # (q,)
        return total

    current = loss(a, b)
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(a * z + b, -40, 40)))
        r = p - target
        w = p * (1 - p)
        g_a, g_b = (r * z).sum(0) + ridge * (a - 1), r.sum(0) + ridge * b
        h_aa, h_ab, h_bb = (w * z * z).sum(0) + ridge, (w * z).sum(0), w.sum(0) + ridge
        det = h_aa * h_bb - h_ab**2
        step_a = (h_bb * g_a - h_ab * g_b) / det
        step_b = (h_aa * g_b - h_ab * g_a) / det
        # Damped Newton: halve an attribute's step until its loss does not rise. A full step can overshoot
        # when the network's logits nearly separate the classes (seen: Blond_Hair's scale ran to -3e5).
        scale = np.ones_like(a)
        for _ in range(30):
            trial = loss(a - scale * step_a, b - scale * step_b)
            worse = trial > current + 1e-12
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        a, b = a - scale * step_a, b - scale * step_b
        current = loss(a, b)
        if max(np.abs(scale * step_a).max(), np.abs(scale * step_b).max()) < 1e-7:
            break
    return a.astype(np.float32), b.astype(np.float32)


def _robust_threshold(
    p: np.ndarray, y: np.ndarray, objective: str, rng: np.random.Generator, bootstraps: int = BOOTSTRAPS
) -> float:
    cuts = []
    for _ in range(bootstraps):
        idx = rng.integers(0, len(y), len(y))
        if y[idx].any() and not y[idx].all():
            cuts.append(best_threshold(p[idx], y[idx], objective)[0])
    if not cuts:
        return 0.5
    return float(np.median(cuts))


def fit_decision_rule(
    raw_probabilities: np.ndarray,
    labels: np.ndarray,
    policy: str = DEFAULT_POLICY,
    seed: int = 0,
    bootstraps: int = BOOTSTRAPS,
) -> CalibrationFit:
    """Platt calibration + robust, shrunk, bounded thresholds fitted on (n, 40) held-out predictions.

    ``auto`` is resolved on the calibrated probabilities (:func:`attricam.training.thresholds.resolve_policy`);
    the fit records the policy it used.
    """
    scale, bias = fit_platt(raw_probabilities, labels)
    calibrated = DecisionRule(scale, bias, np.full(len(scale), 0.5)).calibrate(raw_probabilities)
    policy = resolve_policy(policy, calibrated, labels)
    y = np.asarray(labels).astype(bool)
    rng = np.random.default_rng(seed)
    thresholds, positives = [], []
    for j, info in enumerate(ATTRIBUTES):
        n_pos = int(y[:, j].sum())
        cut = _robust_threshold(calibrated[:, j], y[:, j], objective_for(policy, info.frequency), rng, bootstraps)
        weight = SHRINK_K / (n_pos + SHRINK_K)
        cut = (1 - weight) * cut + weight * 0.5
        if info.is_rare:
            cut = max(cut, RARE_MIN_THRESHOLD)
        thresholds.append(cut)
        positives.append(n_pos)
    return CalibrationFit(DecisionRule(scale, bias, np.asarray(thresholds)), policy, tuple(positives), len(y))
