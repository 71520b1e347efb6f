"""The Training tab's per-attribute report: one row per attribute of a run's val report, and how to show it."""

from __future__ import annotations

import math

from attricam.training.events import EvaluationReport

from .metrics_table import Cell

__all__ = ["REPORT_FORMATS", "REPORT_HEADERS", "report_rows"]

REPORT_HEADERS = (
    "attribute",
    "train freq",
    "threshold (shipped)",
    "accuracy",
    "all-neg acc",
    "gain",
    "bal. acc",
    "precision",
    "recall",
    "F1",
    "AUC",
    "pred. pos",
    "true pos",
)
REPORT_FORMATS = (
    "{}",
    "{:.1%}",
    "{:.2f}",
    "{:.3f}",
    "{:.3f}",
    "{:+.3f}",
    "{:.3f}",
    "{:.3f}",
    "{:.3f}",
    "{:.3f}",
    "{:.3f}",
    "{:.1%}",
    "{:.1%}",
)


def report_rows(report: EvaluationReport) -> list[tuple[Cell, ...]]:
    """Per-attribute rows of a val report, in :data:`REPORT_HEADERS` order.

    A training run's report is cross-fitted (each half of val decided by a rule fitted without it), so its
    rows carry no single threshold (NaN); the threshold shown is then the shipped bundle's
    (:attr:`EvaluationReport.shipped_thresholds`, on the calibrated probability).
    """
    shipped = report.shipped_thresholds
    rows: list[tuple[Cell, ...]] = []
    for i, a in enumerate(report.attributes):
        threshold = a.threshold if math.isfinite(a.threshold) or i >= len(shipped) else shipped[i]
        row: tuple[Cell, ...] = (
            a.name,
            a.frequency,
            threshold,
            a.accuracy,
            a.baseline_accuracy,
            a.gain_over_baseline,
            a.balanced_accuracy,
            a.precision,
            a.recall,
            a.f1,
            a.auc,
            a.predicted_positive_rate,
            a.true_positive_rate,
        )
        rows.append(row)
    return rows
