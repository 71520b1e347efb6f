"""How far each attribute's answer can be trusted, measured on faces no weight saw.

A bar for Smiling (AUC 0.98) and one for Big_Lips (AUC near 0.5 on held-back faces) look alike, yet one is
read off the face and the other is close to a coin toss. A bundle therefore carries, per attribute, its AUC
and the precision and recall of its decision rule on held-out faces (``metadata["reliability"]``, written by
:mod:`attricam.training.second_opinion_fit`), one set for the fused model and one for the model alone. Every
view reads them from here.

Why :data:`RELIABLE_AUC` = 0.80: AUC is the chance that a random face with the attribute scores above a
random face without it. Below 0.8 one pair in five or more is ranked the wrong way round, and for the
attributes that sit there (Big_Lips, Pointy_Nose, Narrow_Eyes, Blurry, Wearing_Necklace on our held-out
faces) the decision rule's precision is about 0.3–0.5: most "positives" a user would see are wrong. Those
attributes are dimmed and never highlighted as positive unless the user asks to see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .attributes import ATTRIBUTE_NAMES, NUM_ATTRIBUTES

__all__ = ["RELIABLE_AUC", "AttributeReliability", "ModelReliability"]

RELIABLE_AUC = 0.80


def _number(values: Any, i: int) -> float | None:
    try:
        value = values[i]
    except (IndexError, KeyError, TypeError):
        return None
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None


@dataclass(frozen=True)
class AttributeReliability:
    name: str
    auc: float | None
    precision: float | None
    recall: float | None
    positives: int | None = None
    """Positives among the measuring faces: how much evidence the figures rest on."""

    @property
    def reliable(self) -> bool:
        """True when measured at or above :data:`RELIABLE_AUC` (an unmeasured attribute is not dimmed)."""
        return self.auc is None or self.auc >= RELIABLE_AUC

    def tooltip(self) -> str:
        def fmt(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.2f}"

        verdict = "reliable" if self.reliable else f"UNRELIABLE (AUC under {RELIABLE_AUC:.2f})"
        evidence = f", {self.positives} positives" if self.positives is not None else ""
        return (
            f"{self.name}: {verdict}\nAUC {fmt(self.auc)} · precision {fmt(self.precision)} · "
            f"recall {fmt(self.recall)} on held-out faces{evidence}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "auc": self.auc,
            "precision": self.precision,
            "recall": self.recall,
            "positives": self.positives,
            "reliable": self.reliable,
        }


@dataclass(frozen=True)
class ModelReliability:
    attributes: tuple[AttributeReliability, ...]
    source: str
    faces: int

    @property
    def reliable(self) -> np.ndarray:
        """(40,) bool."""
        return np.array([a.reliable for a in self.attributes], bool)

    @property
    def unreliable_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes if not a.reliable)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "faces": self.faces,
            "bar_auc": RELIABLE_AUC,
            "attributes": {a.name: a.to_dict() for a in self.attributes},
        }

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any], *, fused: bool) -> ModelReliability | None:
        """The bundle's figures for the fused model (``fused``) or the model alone; None when it has none."""
        section = metadata.get("reliability")
        if not isinstance(section, dict):
            return None
        data = section.get("fused" if fused else "model_only") or section.get("model_only")
        if not isinstance(data, dict) or not isinstance(data.get("auc"), list) or len(data["auc"]) != NUM_ATTRIBUTES:
            return None
        positives = data.get("positives")
        attributes = tuple(
            AttributeReliability(
                name,
                _number(data["auc"], i),
                _number(data.get("precision"), i),
                _number(data.get("recall"), i),
                int(positives[i]) if isinstance(positives, list) and len(positives) == NUM_ATTRIBUTES else None,
            )
            for i, name in enumerate(ATTRIBUTE_NAMES)
        )
        return cls(attributes, str(data.get("source", "")), int(data.get("faces", 0)))
