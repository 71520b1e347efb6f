"""Numbers behind the dashboard, Qt-free: from a stored val report or from evaluation arrays.

Two sources, one shape: per-attribute metrics always; ROC curves and mean
attention maps only when per-face predictions exist (an evaluation run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.attributes import ATTRIBUTES, TRAIN_POSITIVE_RATE
from engine.bundle import ModelBundle
from training.loss_weights import capped_pos_weights
from training.metrics import evaluate_predictions, roc_curve

__all__ = ["POS_WEIGHT_CAP", "DashboardData", "find_report", "imbalance_rows", "recipe_weight_cap"]

POS_WEIGHT_CAP = 50.0
_REPORT_NAMES = ("val_report.json", "{stem}.val_report.json", "{stem}_report.json", "{stem}.report.json")


def imbalance_rows(cap: float = POS_WEIGHT_CAP) -> list[tuple]:
    """(attribute, tier, frequency, all-negative accuracy, positive weight clip(1/(f+0.001), 1, cap))."""
    weights = capped_pos_weights(np.asarray(TRAIN_POSITIVE_RATE), cap)
    return [(a.name, a.tier.label, a.frequency, 1.0 - a.frequency, float(w)) for a, w in zip(ATTRIBUTES, weights)]


def recipe_weight_cap(bundle: ModelBundle | None) -> float | None:
    """The positive-weight cap the bundle was trained with, when its recipe used capped weights."""
    if bundle is None:
        return None
    recipe = bundle.metadata.get("recipe")
    if not isinstance(recipe, dict) or recipe.get("loss") not in ("weighted", "focal", "aggressive-focal"):
        return None
    if recipe.get("loss") == "focal" and recipe.get("focal_pos_weights") is False:
        return None
    try:
        return float(recipe.get("weight_cap", POS_WEIGHT_CAP))
    except (TypeError, ValueError):
        return None


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
    metrics: list[dict]
    """Per attribute (official order): training.metrics.AttributeMetrics.to_dict() fields."""
    count: int = 0
    roc: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    attention: np.ndarray | None = None
    """(layers, 40, gh, gw) mean attention over evaluated faces."""
    mean_face: np.ndarray | None = None
    """(H, W, 3) uint8 mean aligned crop, the backdrop of the attention maps."""

    @classmethod
    def from_report(cls, report: dict, source: str) -> DashboardData:
        by_name = {a["name"]: a for a in report.get("attributes", [])}
        metrics = [by_name[a.name] for a in ATTRIBUTES if a.name in by_name]
        if len(metrics) != len(ATTRIBUTES):
            raise ValueError(f"{source}: report lacks per-attribute rows for some of the 40 attributes")
        return cls(source=source, metrics=metrics, count=int(report.get("summary", {}).get("count", 0)))

    @classmethod
    def from_report_file(cls, path: str | Path) -> DashboardData:
        return cls.from_report(json.loads(Path(path).read_text()), str(path))

    @classmethod
    def from_arrays(
        cls,
        probabilities: np.ndarray,
        labels: np.ndarray,
        thresholds,
        attention=None,
        mean_face=None,
        source: str = "evaluation",
    ) -> DashboardData:
        """probabilities, labels: (n, 40); thresholds (40,); attention (layers, 40, gh, gw)."""
        result = evaluate_predictions(probabilities, labels, np.asarray(thresholds, np.float64))
        roc = {}
        for j in range(labels.shape[1]):
            y = labels[:, j].astype(bool)
            if y.any() and not y.all():
                roc[j] = roc_curve(probabilities[:, j].astype(np.float64), y)
        return cls(
            source=source,
            metrics=[a.to_dict() for a in result.attributes],
            count=result.count,
            roc=roc,
            attention=attention,
            mean_face=mean_face,
        )

    @classmethod
    def from_npz(cls, path: str | Path, source: str) -> DashboardData:
        with np.load(path) as data:
            mean_face = data["mean_face"] if "mean_face" in data.files else None
            attention = data["attention"] if "attention" in data.files and data["attention"].ndim == 4 else None
            return cls.from_arrays(
                data["probabilities"], data["labels"], data["thresholds"], attention, mean_face, source
            )

    def column(self, key: str) -> np.ndarray:
        return np.array([float(m.get(key, np.nan)) for m in self.metrics])

    @property
    def frequencies(self) -> np.ndarray:
        return np.asarray(TRAIN_POSITIVE_RATE)

    @property
    def pos_weights(self) -> np.ndarray:
        return capped_pos_weights(self.frequencies, POS_WEIGHT_CAP)

    def pos_weights_capped(self, cap: float) -> np.ndarray:
        return capped_pos_weights(self.frequencies, cap)

    @property
    def gain(self) -> np.ndarray:
        return self.column("accuracy") - self.column("baseline_accuracy")
