"""Per-attribute decision thresholds calibrated on the validation split.

A single 0.5 cut-off is wrong for almost every attribute of an imbalance-aware
model: weighted losses shift the rare attributes' probabilities upward, and
the common ones sit wherever their prior puts them. Each attribute therefore
gets its own threshold, chosen on val under one stated policy:

- ``accuracy``: maximise accuracy. Best mean accuracy, but rare attributes fall back towards "never".
- ``balanced_accuracy``: maximise (recall + specificity) / 2. Best balanced accuracy; many false
  positives on rare attributes, which costs accuracy and F1.
- ``f1``: maximise F1 of the positive class. Rewards finding rare positives without flooding them.
- ``mean_acc_balacc``: maximise (accuracy + balanced accuracy) / 2, i.e. weigh the product's two mean
  targets equally on every attribute.
- ``hybrid``: F1 for rare attributes (train rate below ``attricam.engine.attributes.RARE_CUTOFF``, the product's rare-F1 target), balanced accuracy
  for the rest; ``hybrid_acc_balacc``: F1 for the rare ones, (accuracy + balanced accuracy) / 2 for the rest.

:func:`policy_tradeoff` measures each policy honestly with two-fold cross-calibration on val
(calibrate on one half, score the other). The default, ``auto``, is the stated rule for picking
among them: :func:`choose_policy` takes the policy whose cross-calibrated metrics fall least short of the
product targets (:data:`PRODUCT_TARGETS`: mean accuracy, mean balanced accuracy, rare mean F1), summing
the shortfalls; the chosen policy is then calibrated on all of val. ``assets/MODEL_CARD.md`` shows the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from attricam.engine.attributes import ATTRIBUTES, RARE_CUTOFF

from .config import DEFAULT_THRESHOLD_POLICY, THRESHOLD_POLICIES
from .metrics import evaluate_predictions

__all__ = [
    "DEFAULT_FIT_POLICY",
    "DEFAULT_POLICY",
    "POLICIES",
    "PRODUCT_TARGETS",
    "ThresholdCalibration",
    "best_threshold",
    "calibrate_thresholds",
    "choose_policy",
    "objective_for",
    "policy_tradeoff",
    "resolve_policy",
]

_OBJECTIVES = ("accuracy", "balanced_accuracy", "mean_acc_balacc", "f1")
POLICIES = THRESHOLD_POLICIES
DEFAULT_POLICY = DEFAULT_THRESHOLD_POLICY
DEFAULT_FIT_POLICY = "hybrid_acc_balacc"
"""What ``auto`` resolves to when there are too few faces (< 4) to compare the policies."""
PRODUCT_TARGETS = {"mean_auc": 0.93, "mean_accuracy": 0.905, "mean_balanced_accuracy": 0.86, "rare_mean_f1": 0.55}
"""The honest val targets of the shipped model (cross-fitted figures), the one place they are written."""


@dataclass(frozen=True)
class ThresholdCalibration:
    policy: str
    thresholds: tuple[float, ...]
    objectives: tuple[float, ...]
    """The value of the policy's objective at each chosen threshold (on the calibration data)."""

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "thresholds": list(self.thresholds), "objectives": list(self.objectives)}


def best_threshold(scores: np.ndarray, labels: np.ndarray, objective: str) -> tuple[float, float]:
    """Threshold on ``scores`` maximising ``objective`` for one attribute -> (threshold, objective value).

    Candidates are midpoints between consecutive distinct scores (plus both ends), so the
    chosen cut does not sit exactly on a validation example.
    """
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    order = np.argsort(-scores, kind="mergesort")
    s, ys = scores[order], y[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # last index of each run of equal scores
    tp = np.r_[0.0, np.cumsum(ys)[last]]  # predicting positive for the top k (k = 0 .. n)
    fp = np.r_[0.0, (last + 1) - np.cumsum(ys)[last]]
    pos, neg = float(y.sum()), float((~y).sum())
    fn, tn = pos - tp, neg - fp
    n = len(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        if objective == "accuracy":
            value = (tp + tn) / n
        elif objective == "balanced_accuracy":
            value = 0.5 * (np.where(pos > 0, tp / max(pos, 1), 1) + np.where(neg > 0, tn / max(neg, 1), 1))
        elif objective == "mean_acc_balacc":
            bal = 0.5 * (np.where(pos > 0, tp / max(pos, 1), 1) + np.where(neg > 0, tn / max(neg, 1), 1))
            value = 0.5 * ((tp + tn) / n + bal)
        elif objective == "f1":
            value = np.where(tp > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        else:
            raise ValueError(f"unknown objective {objective!r}; valid: {', '.join(_OBJECTIVES)}")
    k = int(np.argmax(value))  # first (highest-threshold) optimum: the most conservative
    distinct = s[last]
    if k == 0:
        threshold = min(1.0, float(distinct[0]) + 1e-6)
    elif k == len(distinct):
        threshold = float(distinct[-1])
    else:
        threshold = float((distinct[k - 1] + distinct[k]) / 2)
    return threshold, float(value[k])


def objective_for(policy: str, frequency: float) -> str:
    """The per-attribute objective a policy optimises for an attribute of training rate ``frequency``."""
    if policy not in POLICIES:
        raise ValueError(f"unknown threshold policy {policy!r}; valid: {', '.join(POLICIES)} (resolve 'auto' first)")
    if policy == "hybrid":
        return "f1" if frequency < RARE_CUTOFF else "balanced_accuracy"
    if policy == "hybrid_acc_balacc":
        return "f1" if frequency < RARE_CUTOFF else "mean_acc_balacc"
    return policy


def resolve_policy(policy: str, probabilities: np.ndarray, labels: np.ndarray) -> str:
    """``auto`` -> the policy :func:`choose_policy` picks on these (n, 40) predictions; any other name as is."""
    if policy != DEFAULT_POLICY:
        if policy not in POLICIES:
            raise ValueError(f"unknown threshold policy {policy!r}; valid: {DEFAULT_POLICY}, {', '.join(POLICIES)}")
        return policy
    if len(labels) < 4:
        return DEFAULT_FIT_POLICY
    return choose_policy(policy_tradeoff(probabilities, labels))


def calibrate_thresholds(
    probabilities: np.ndarray, labels: np.ndarray, policy: str = DEFAULT_POLICY
) -> ThresholdCalibration:
    """probabilities, labels (n >= 1, 40) -> one threshold per attribute under ``policy``."""
    if len(labels) == 0:
        raise ValueError("no faces to calibrate thresholds on")
    policy = resolve_policy(policy, probabilities, labels)
    thresholds, objectives = [], []
    for j, info in enumerate(ATTRIBUTES[: probabilities.shape[1]]):
        t, v = best_threshold(probabilities[:, j], labels[:, j], objective_for(policy, info.frequency))
        thresholds.append(t)
        objectives.append(v)
    return ThresholdCalibration(policy, tuple(thresholds), tuple(objectives))


def choose_policy(tradeoff: dict[str, dict[str, float]], targets: dict[str, float] = PRODUCT_TARGETS) -> str:
    """The calibrated policy (not ``fixed-0.5``) with the smallest summed shortfall below ``targets``."""

    def shortfall(metrics: dict[str, float]) -> float:
        # ROC-AUC does not depend on thresholds: only the targets a policy can move count here
        return sum(max(0.0, goal - metrics[key]) for key, goal in targets.items() if key in metrics)

    return min((p for p in tradeoff if p in POLICIES), key=lambda p: shortfall(tradeoff[p]))


def policy_tradeoff(probabilities: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, dict[str, float]]:
    """Two-fold cross-calibrated summary metrics of every policy (and of the fixed 0.5 cut)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    halves = (order[: len(order) // 2], order[len(order) // 2 :])
    table: dict[str, dict[str, float]] = {}
    for policy in ("fixed-0.5", *POLICIES):
        summaries = []
        for fit, score in (halves, halves[::-1]):
            if policy == "fixed-0.5":
                thresholds = np.full(probabilities.shape[1], 0.5)
            else:
                thresholds = np.array(calibrate_thresholds(probabilities[fit], labels[fit], policy).thresholds)
            summaries.append(evaluate_predictions(probabilities[score], labels[score], thresholds).summary())
        table[policy] = {k: float(np.mean([s[k] for s in summaries])) for k in summaries[0] if k != "count"}
    return table
