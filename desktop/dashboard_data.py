"""Numbers behind the dashboard, Qt-free, read from what training wrote: no metric is computed here.

Two sources, one shape (:class:`attricam.training.events.EvaluationReport`): a stored val
report (beside a trained bundle) gives the per-attribute metrics; an ``attricam evaluate``
report adds ROC points per attribute, and its arrays file the mean attention maps and the
mean face. The loss weights shown are the ones the model was trained with, as recorded in
the bundle or the evaluation report; nothing re-derives them from a recipe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from attricam.engine.attributes import ATTRIBUTES, TRAIN_POSITIVE_RATE
from attricam.engine.bundle import ModelBundle
from attricam.training.events import AttributeMetrics, EvaluationReport

__all__ = ["DashboardData", "LossWeights", "find_report", "imbalance_rows"]

_REPORT_NAMES = ("val_report.json", "{stem}.val_report.json", "{stem}_report.json", "{stem}.report.json")


@dataclass(frozen=True)
class LossWeights:
    """The per-attribute weights a model's loss applied (``attricam.training.losses.AttributeLoss.applied_weights``)."""

    loss: str
    pos_weight: np.ndarray
    """(40,) multiplier of the positive term."""
    source: str
    """``trained`` (recorded at the end of training) or how else they were obtained."""

    @classmethod
    def from_dict(cls, data: object) -> LossWeights | None:
        if not isinstance(data, Mapping) or len(data.get("pos_weight") or []) != len(ATTRIBUTES):
            return None
        return cls(str(data.get("loss", "")), np.asarray(data["pos_weight"], np.float64), str(data.get("source", "")))

    @classmethod
    def of_bundle(cls, bundle: ModelBundle | None) -> LossWeights | None:
        return cls.from_dict(bundle.metadata.get("loss_weights")) if bundle is not None else None


def imbalance_rows() -> list[tuple[str, str, float, float]]:
    """(attribute, tier, training frequency, all-negative accuracy) per attribute, official order."""
    return [(a.name, a.tier.label, a.frequency, 1.0 - a.frequency) for a in ATTRIBUTES]


def find_report(bundle: ModelBundle) -> Path | None:
    """The per-attribute val report written beside a bundle by the trainer, if any."""
    if isinstance(bundle.metadata.get("val_report_path"), str) and Path(bundle.metadata["val_report_path"]).is_file():
        return Path(bundle.metadata["val_report_path"])
    if bundle.path is None:
        return None
    for pattern in _REPORT_NAMES:
        candidate = bundle.path.parent / pattern.format(stem=bundle.path.stem)
        if candidate.is_file():
            return candidate
    return None


@dataclass
class DashboardData:
    source: str
    """Where the numbers come from, for the caption."""
    metrics: tuple[AttributeMetrics, ...]
    """Per attribute, official order."""
    count: int = 0
    roc: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Attribute index -> (fpr, tpr) points, from an evaluation report."""
    weights: LossWeights | None = None
    attention: np.ndarray | None = None
    """(layers, 40, gh, gw) mean attention over evaluated faces."""
    mean_face: np.ndarray | None = None
    """(H, W, 3) uint8 mean aligned crop, the backdrop of the attention maps."""

    @classmethod
    def from_report(cls, report: EvaluationReport, source: str) -> DashboardData:
        """A trainer's ``val_report.json`` or an ``attricam evaluate`` report."""
        by_name = {a.name: a for a in report.attributes}
        metrics = tuple(by_name[a.name] for a in ATTRIBUTES if a.name in by_name)
        if len(metrics) != len(ATTRIBUTES):
            raise ValueError(f"{source}: report lacks per-attribute rows for some of the 40 attributes")
        roc = {
            j: (np.asarray(report.roc[a.name][0], np.float64), np.asarray(report.roc[a.name][1], np.float64))
            for j, a in enumerate(ATTRIBUTES)
            if a.name in report.roc
        }
        return cls(
            source=source,
            metrics=metrics,
            count=report.summary.count,
            roc=roc,
            weights=LossWeights.from_dict(report.loss_weights),
        )

    @classmethod
    def from_report_file(cls, path: str | Path, source: str | None = None) -> DashboardData:
        """A report file; the arrays file it names (mean attention, mean face) is read when present beside it."""
        path = Path(path)
        report = EvaluationReport.read(path)
        data = cls.from_report(report, source or str(path))
        arrays = path.parent / report.arrays if report.arrays else None
        if arrays is not None and arrays.is_file():
            with np.load(arrays) as loaded:
                if "attention" in loaded.files and loaded["attention"].ndim == 4:
                    data.attention = loaded["attention"]
                if "mean_face" in loaded.files:
                    data.mean_face = loaded["mean_face"]
        return data

    def column(self, value: Callable[[AttributeMetrics], float]) -> np.ndarray:
        """(40,) ``value`` of each attribute's metrics, e.g. ``column(lambda m: m.f1)`` (typed: a renamed metric
        is a type error, not a silent NaN)."""
        return np.array([float(value(m)) for m in self.metrics])

    @property
    def frequencies(self) -> np.ndarray:
        return np.asarray(TRAIN_POSITIVE_RATE)

    @property
    def gain(self) -> np.ndarray:
        return self.column(lambda m: m.gain_over_baseline)
