"""Per-attribute classification metrics in numpy (no scikit-learn dependency).

Means alone hide the all-negative trap (the course's 68.7 % "accuracy doing
nothing"), so every result keeps per-attribute values, the predicted vs true
positive rate, and the gain over always answering "no".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from attricam.engine.attributes import ATTRIBUTE_NAMES, ATTRIBUTES, RARE_ATTRIBUTES

from .events import VAL_METRICS, AttributeMetrics, ValSummary

__all__ = [
    "AttributeMetrics",
    "EvaluationResult",
    "evaluate_predictions",
    "roc_auc",
    "roc_curve",
    "roc_curves",
    "roc_points",
]


def roc_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr) over all distinct thresholds, starting at (0, 0); ties share one point."""
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], labels[order].astype(np.float64)
    distinct = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    pos, neg = y.sum(), len(y) - y.sum()
    tpr = np.r_[0.0, tps / pos] if pos else np.r_[0.0, np.zeros_like(tps)]
    fpr = np.r_[0.0, fps / neg] if neg else np.r_[0.0, np.zeros_like(fps)]
    return fpr, tpr


def roc_curves(probabilities: np.ndarray, labels: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """(n, k) scores and 0/1 labels -> {column: (fpr, tpr)} for every column with both classes present."""
    curves = {}
    for j in range(labels.shape[1]):
        y = np.asarray(labels[:, j]).astype(bool)
        if y.any() and not y.all():
            curves[j] = roc_curve(np.asarray(probabilities[:, j], np.float64), y)
    return curves


def roc_points(scores: np.ndarray, labels: np.ndarray, points: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """The ROC curve at ``points`` evenly spaced false positive rates (the best tpr reached at each): small
    enough to store per attribute in a report, whatever the number of faces. Empty arrays for one class only."""
    labels = np.asarray(labels).astype(bool)
    if labels.all() or not labels.any():
        return np.zeros(0), np.zeros(0)
    fpr, tpr = roc_curve(np.asarray(scores, dtype=np.float64), labels)
    grid = np.linspace(0.0, 1.0, points)
    at = np.searchsorted(fpr, grid, side="right") - 1  # last curve point with fpr <= grid value
    return grid, tpr[at]


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (trapezoid, ties counted half); NaN when only one class is present."""
    labels = np.asarray(labels).astype(bool)
    if labels.all() or not labels.any():
        return float("nan")
    fpr, tpr = roc_curve(np.asarray(scores, dtype=np.float64), labels)
    return float(np.trapezoid(tpr, fpr))


@dataclass(frozen=True)
class EvaluationResult:
    attributes: tuple[AttributeMetrics, ...]
    count: int

    @property
    def mean_accuracy(self) -> float:
        return float(np.mean([a.accuracy for a in self.attributes]))

    @property
    def mean_balanced_accuracy(self) -> float:
        return float(np.mean([a.balanced_accuracy for a in self.attributes]))

    @property
    def mean_f1(self) -> float:
        return float(np.mean([a.f1 for a in self.attributes]))

    @property
    def mean_auc(self) -> float:
        return float(np.nanmean([a.auc for a in self.attributes]))

    @property
    def rare_mean_f1(self) -> float:
        """Mean F1 over :data:`attricam.engine.attributes.RARE_ATTRIBUTES` (rarer than ``RARE_CUTOFF`` in training)."""
        rare = {a.name for a in RARE_ATTRIBUTES}
        return float(np.mean([a.f1 for a in self.attributes if a.name in rare]))

    @property
    def common_mean_f1(self) -> float:
        """Mean F1 over the attributes at least 30 % frequent in training (the other end of the imbalance)."""
        common = {a.name for a in ATTRIBUTES if a.is_common}
        return float(np.mean([a.f1 for a in self.attributes if a.name in common]))

    @property
    def rare_predicted_positive_rate(self) -> float:
        rare = {a.name for a in RARE_ATTRIBUTES}
        return float(np.mean([a.predicted_positive_rate for a in self.attributes if a.name in rare]))

    def val_summary(self) -> ValSummary:
        """The summary the desktop reads (a report's ``summary``, an epoch's ``val``): each metric named once,
        in :class:`attricam.training.events.ValSummary`."""
        return ValSummary(count=self.count, **{name: getattr(self, name) for name in VAL_METRICS})

    def summary(self) -> dict[str, float]:
        """:meth:`val_summary` as JSON holds it."""
        return asdict(self.val_summary())

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "attributes": [a.to_dict() for a in self.attributes]}


def _safe_div(a: float, b: float) -> float:
    return float(a / b) if b else 0.0


def evaluate_predictions(
    probabilities: np.ndarray, labels: np.ndarray, thresholds: np.ndarray | float = 0.5
) -> EvaluationResult:
    """probabilities (n, 40) float, labels (n, 40) in {0, 1}, thresholds scalar or (40,)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    thresholds = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (probabilities.shape[1],))
    results = []
    for j, info in enumerate(ATTRIBUTES[: probabilities.shape[1]]):
        y, p = labels[:, j], probabilities[:, j]
        pred = p >= thresholds[j]
        tp = float(np.sum(pred & y))
        fp = float(np.sum(pred & ~y))
        fn = float(np.sum(~pred & y))
        tn = float(np.sum(~pred & ~y))
        pos, neg = tp + fn, tn + fp
        recall = _safe_div(tp, pos)
        specificity = _safe_div(tn, neg)
        precision = _safe_div(tp, tp + fp)
        n = len(y)
        results.append(
            AttributeMetrics(
                name=ATTRIBUTE_NAMES[j],
                frequency=info.frequency,
                threshold=float(thresholds[j]),
                accuracy=_safe_div(tp + tn, n),
                balanced_accuracy=(recall + specificity) / 2 if pos and neg else _safe_div(tp + tn, n),
                precision=precision,
                recall=recall,
                f1=_safe_div(2 * precision * recall, precision + recall),
                auc=roc_auc(p, y),
                predicted_positive_rate=_safe_div(tp + fp, n),
                true_positive_rate=_safe_div(pos, n),
                baseline_accuracy=_safe_div(neg, n),
            )
        )
    return EvaluationResult(tuple(results), len(labels))
