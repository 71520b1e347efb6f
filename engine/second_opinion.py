"""A second opinion from a pretrained face network, fused into the attribute model's logits before calibration.

Per attribute ``k``, a logistic probe reads the face descriptor (:mod:`attricam.engine.face_descriptor`)::

    z_probe[k] = weight[k] · (descriptor - mean) / std + bias[k]

and the fused network output is ``sigmoid(z_model[k] + blend[k] * z_probe[k])``. The fused output then goes
through its own :class:`~attricam.engine.decision.DecisionRule` (Platt calibration and thresholds fitted on
the fused outputs of held-out faces), so a bundle with a second opinion carries two rules: the fused one, and
the model's own for faces without a descriptor (optional package missing, or a live track whose descriptor is
still being computed). ``blend[k] = 0`` leaves an attribute to the model alone.

Why a blend and not a retrain: the probes learn from the same labels, but the descriptor brings what ~3 M
faces taught dlib's network about face shape, age and build, which the 14,600 CelebA faces here cannot;
``docs/model-limits.md`` measures what it adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .attributes import NUM_ATTRIBUTES
from .decision import DecisionRule, logit
from .face_descriptor import DESCRIPTOR_SIZES

__all__ = ["SecondOpinion"]


def _array(value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    array = np.asarray(value, np.float32)
    if array.shape != shape:
        raise ValueError(f"second opinion {name}: expected shape {shape}, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"second opinion {name}: contains non-finite values")
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class SecondOpinion:
    descriptor: str
    """:data:`attricam.engine.face_descriptor.DESCRIPTOR_NAME` of the network the probes were fitted on."""
    mean: np.ndarray  # (d,), d = DESCRIPTOR_SIZES[descriptor]
    std: np.ndarray  # (d,)
    weight: np.ndarray  # (40, d)
    bias: np.ndarray  # (40,)
    blend: np.ndarray  # (40,)
    rule: DecisionRule
    """Calibration and thresholds of the fused outputs."""

    def __post_init__(self) -> None:
        if self.descriptor not in DESCRIPTOR_SIZES:
            known = ", ".join(DESCRIPTOR_SIZES)
            raise ValueError(f"second opinion descriptor {self.descriptor!r}: this version knows {known}")
        d, q = DESCRIPTOR_SIZES[self.descriptor], NUM_ATTRIBUTES
        for name, shape in (("mean", (d,)), ("std", (d,)), ("weight", (q, d)), ("bias", (q,)), ("blend", (q,))):
            object.__setattr__(self, name, _array(getattr(self, name), shape, name))
        if (self.std <= 0).any():
            raise ValueError("second opinion std: must be positive")

    def probe_logits(self, descriptors: np.ndarray) -> np.ndarray:
        """(n, d) descriptors -> (n, 40) probe logits."""
        x = (np.asarray(descriptors, np.float32) - self.mean) / self.std
        return np.asarray(x @ self.weight.T + self.bias, np.float32)

    def fuse(self, raw_probabilities: np.ndarray, descriptors: np.ndarray) -> np.ndarray:
        """(n, 40) network probabilities and (n, d) descriptors -> (n, 40) fused network probabilities."""
        z = logit(raw_probabilities) + self.blend * self.probe_logits(descriptors)
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))), np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {
            "descriptor": self.descriptor,
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "weight": self.weight.tolist(),
            "bias": self.bias.tolist(),
            "blend": self.blend.tolist(),
            "calibration": self.rule.calibration_dict(),
            "thresholds": self.rule.thresholds.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SecondOpinion:
        if not isinstance(data, dict):
            raise ValueError("second opinion: expected a dict")
        rule = DecisionRule.from_dict(data["calibration"], data["thresholds"])
        return cls(
            str(data["descriptor"]), data["mean"], data["std"], data["weight"], data["bias"], data["blend"], rule
        )
