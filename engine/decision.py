"""The one decision rule: calibrated probabilities and per-attribute thresholds.

The network's sigmoid outputs are not probabilities a user can read: imbalance-
aware losses push rare attributes' scores up, and the amount differs per
attribute. A bundle therefore carries per-attribute Platt parameters (Platt,
1999), fitted on held-out faces, that map the network's logit ``z`` to a
calibrated probability ``sigmoid(scale * z + bias)``, and a threshold on that
calibrated probability. Every consumer (the CSV, the live bars, the exported
PNG) calls :meth:`DecisionRule.apply`, so they can never disagree.

Thresholds are bounded to ``[MIN_THRESHOLD, MAX_THRESHOLD]``: a probability
that reads "0.00" on screen can never be called a positive, and no attribute
can be forced on for every face.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .attributes import NUM_ATTRIBUTES

__all__ = ["MAX_THRESHOLD", "MIN_THRESHOLD", "DecisionRule", "logit"]

MIN_THRESHOLD = 0.05
MAX_THRESHOLD = 0.95
_EPS = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), _EPS, 1 - _EPS)
    return np.asarray(np.log(p) - np.log1p(-p))


@dataclass(frozen=True)
class DecisionRule:
    """Per attribute: calibrated logit = ``scale * logit(raw) + bias``; positive when calibrated p >= threshold."""

    scale: np.ndarray  # (40,) float32
    bias: np.ndarray  # (40,) float32
    thresholds: np.ndarray  # (40,) float32, on the calibrated probability, within the bounds

    def __post_init__(self) -> None:
        for name in ("scale", "bias", "thresholds"):
            value = np.asarray(getattr(self, name), np.float32).reshape(-1)
            if value.shape != (NUM_ATTRIBUTES,):
                raise ValueError(f"decision rule {name}: expected {NUM_ATTRIBUTES} values, got {value.size}")
            if not np.isfinite(value).all():
                raise ValueError(f"decision rule {name}: contains non-finite values")
            if name == "thresholds":
                value = np.clip(value, MIN_THRESHOLD, MAX_THRESHOLD)
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @classmethod
    def uncalibrated(cls, thresholds: ArrayLike | None = None) -> DecisionRule:
        """Identity calibration (bundles written before calibration existed)."""
        t = np.full(NUM_ATTRIBUTES, 0.5, np.float32) if thresholds is None else np.asarray(thresholds, np.float32)
        return cls(np.ones(NUM_ATTRIBUTES, np.float32), np.zeros(NUM_ATTRIBUTES, np.float32), t)

    @classmethod
    def from_dict(cls, calibration: dict[str, Any] | None, thresholds: ArrayLike) -> DecisionRule:
        if not calibration:
            return cls.uncalibrated(thresholds)
        return cls(np.asarray(calibration["scale"]), np.asarray(calibration["bias"]), np.asarray(thresholds))

    def calibration_dict(self) -> dict[str, Any]:
        return {"method": "platt", "scale": self.scale.tolist(), "bias": self.bias.tolist()}

    @property
    def is_identity(self) -> bool:
        return bool(np.all(self.scale == 1) and np.all(self.bias == 0))

    def calibrate(self, raw_probabilities: np.ndarray) -> np.ndarray:
        """(..., 40) network probabilities -> calibrated probabilities, float32."""
        if self.is_identity:
            return np.asarray(raw_probabilities, np.float32)
        z = logit(raw_probabilities) * self.scale + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))), np.float32)

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """(..., 40) calibrated probabilities -> bool decisions."""
        return np.asarray(probabilities) >= self.thresholds

    def apply(self, raw_probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (calibrated probabilities, decisions) in one call."""
        p = self.calibrate(raw_probabilities)
        return p, self.decide(p)
