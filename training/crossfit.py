"""Honest figures: never score a face that chose the checkpoint or fitted the decision rule.

The trainer selects its checkpoint on the calibration slice of train (``C``),
never on val. The decision rule is fitted on ``C`` (clean and camera-shifted
copies) plus one half of val, and val's other half is scored; then the halves
swap, and the two scored halves are pooled. Val's halves are split by identity,
as CelebA's partitions are. The shipped rule is fitted on everything (``C`` and
all of val); the figures reported for it are the cross-fitted ones.

The same is done on *shifted val*: the val faces after
:func:`attricam.training.augment.shifted_val_inputs` (pose, framing, JPEG, blur,
noise, low resolution, lighting and colour casts), scored with rules fitted
without those faces.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from attricam.engine.decision import DecisionRule

from .calibration import CalibrationFit, fit_decision_rule
from .metrics import EvaluationResult, evaluate_predictions, roc_auc

__all__ = ["HeldOutPredictions", "CrossFitReport", "cross_fit", "score_rule", "with_floors"]


@dataclass(frozen=True)
class HeldOutPredictions:
    """Raw network probabilities of one face set, on clean and on camera-shifted inputs."""

    labels: np.ndarray  # (n, 40) 0/1
    clean: np.ndarray  # (n, 40)
    shifted: np.ndarray  # (n, 40)

    def subset(self, index: np.ndarray) -> HeldOutPredictions:
        return HeldOutPredictions(self.labels[index], self.clean[index], self.shifted[index])

    def fitting_set(self) -> tuple[np.ndarray, np.ndarray]:
        """Clean and shifted predictions stacked: the rule should hold for studio photos and webcams alike."""
        return np.concatenate([self.clean, self.shifted]), np.concatenate([self.labels, self.labels])


def _stack(*parts: HeldOutPredictions) -> tuple[np.ndarray, np.ndarray]:
    probs, labels = zip(*(p.fitting_set() for p in parts))
    return np.concatenate(probs), np.concatenate(labels)


def score_rule(rule: DecisionRule, raw: np.ndarray, labels: np.ndarray) -> EvaluationResult:
    """Metrics of the rule's decisions; AUC from the calibrated probabilities (same ranking as raw)."""
    return evaluate_predictions(rule.calibrate(raw), labels, rule.thresholds)


def _pooled(rules: list[DecisionRule], raws: list[np.ndarray], labels: list[np.ndarray]) -> EvaluationResult:
    """Score halves decided by different rules as one set: margins ``p - t + 0.5`` against 0.5.

    The margin keeps every decision exactly; per-attribute AUC is then recomputed from the raw
    network outputs, which one monotone calibration per half cannot change in rank within a half.
    """
    margins = np.concatenate([r.calibrate(x) - r.thresholds + 0.5 for r, x in zip(rules, raws)])
    y = np.concatenate(labels)
    result = evaluate_predictions(np.clip(margins, 0.0, 1.0), y, 0.5)
    raw = np.concatenate(raws)
    aucs = [roc_auc(raw[:, j], y[:, j]) for j in range(raw.shape[1])]
    attributes = tuple(replace(a, auc=auc, threshold=float("nan")) for a, auc in zip(result.attributes, aucs))
    return replace(result, attributes=attributes)


@dataclass(frozen=True)
class CrossFitReport:
    shipped: CalibrationFit
    """Fitted on the calibration slice and all of val: what the bundle carries."""
    val_crossfit: EvaluationResult
    shifted_val_crossfit: EvaluationResult
    val_slice_only: EvaluationResult
    """Rule fitted on the calibration slice alone; val untouched by any choice."""


def with_floors(rule: DecisionRule, floors: np.ndarray | None) -> DecisionRule:
    """The rule with each threshold raised to at least its floor (None: unchanged)."""
    return rule if floors is None else DecisionRule(rule.scale, rule.bias, np.maximum(rule.thresholds, floors))


def cross_fit(
    calibration: HeldOutPredictions,
    val: HeldOutPredictions,
    val_fold: np.ndarray,
    policy: str,
    floors: np.ndarray | None = None,
) -> CrossFitReport:
    """``val_fold`` (n_val,) bool splits val in two (by identity); see the module docstring.

    ``floors`` (40,), when given, raises each fitted threshold to at least its floor: what a stricter
    rule for some attributes would score, measured the same honest way.
    """
    halves = (np.nonzero(val_fold)[0], np.nonzero(~val_fold)[0])
    rules = []
    for fit_half in halves:
        probs, labels = _stack(calibration, val.subset(fit_half))
        rules.append(with_floors(fit_decision_rule(probs, labels, policy).rule, floors))
    scored = (halves[1], halves[0])  # rule 0 was fitted with half 0, so it scores half 1
    clean = _pooled(rules, [val.clean[i] for i in scored], [val.labels[i] for i in scored])
    shifted = _pooled(rules, [val.shifted[i] for i in scored], [val.labels[i] for i in scored])
    slice_rule = with_floors(fit_decision_rule(*_stack(calibration), policy).rule, floors)
    slice_only = score_rule(slice_rule, val.clean, val.labels)
    shipped = fit_decision_rule(*_stack(calibration, val), policy)
    if floors is not None:
        shipped = replace(shipped, rule=with_floors(shipped.rule, floors))
    return CrossFitReport(shipped, clean, shifted, slice_only)
