"""What the renderer's drawings share: :class:`RenderOptions`, the colour tables and the labelled text.

Split from :mod:`attricam.engine.render`, which re-exports the public names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from .attributes import ATTRIBUTES, RarityTier
from .results import FaceResult

__all__ = [
    "BOX_COLOR",
    "COLORMAPS",
    "COMPARE_COLORS",
    "FONT",
    "HELD_COLOR",
    "SELECTED_COLOR",
    "TIER_COLORS",
    "RenderOptions",
    "draw_label",
    "label_width",
]

COLORMAPS: dict[str, int] = {
    "jet": cv2.COLORMAP_JET,
    "inferno": cv2.COLORMAP_INFERNO,
    "viridis": cv2.COLORMAP_VIRIDIS,
    "magma": cv2.COLORMAP_MAGMA,
    "turbo": cv2.COLORMAP_TURBO,
    "hot": cv2.COLORMAP_HOT,
}

TIER_COLORS: dict[RarityTier, tuple[int, int, int]] = {  # RGB
    RarityTier.ULTRA_RARE: (230, 60, 200),
    RarityTier.RARE: (240, 130, 40),
    RarityTier.UNCOMMON: (70, 160, 240),
    RarityTier.COMMON: (150, 150, 150),
}
COMPARE_COLORS: tuple[tuple[int, int, int], tuple[int, int, int]] = ((80, 170, 255), (255, 150, 40))  # RGB: A, B
BOX_COLOR = (40, 220, 120)
HELD_COLOR = (150, 150, 150)
"""A face the detector missed on this frame, shown where it was a moment ago (``FaceResult.held``)."""
SELECTED_COLOR = (255, 210, 0)
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class RenderOptions:
    attribute: int | None = None
    """Attribute whose attention is blended over each face; None draws no heatmap."""
    layer: int = -1
    head: int | None = None
    """Attention head, or None for the mean over heads."""
    opacity: float = 0.5
    colormap: str = "jet"
    show_boxes: bool = True
    show_landmarks: bool = False
    show_bars: bool = True
    top_k: int = 6
    selected_face: int | None = None
    fps: float | None = None
    show_hud: bool = True
    show_unreliable: bool = False
    """Also list positives of attributes under the reliability bar (:mod:`attricam.engine.reliability`), marked "?"."""

    def shown_positive(self, face: FaceResult) -> np.ndarray:
        """(40,) bool: the positives a view highlights: reliable ones, or all with ``show_unreliable``."""
        return np.asarray(face.decisions, bool) if self.show_unreliable else face.shown_positive

    def overlay_settings(self) -> dict[str, Any]:
        """What the heatmap shows, in the words the GUI uses (layers and heads 1-based): for export sidecars."""
        return {
            "attribute": None if self.attribute is None else ATTRIBUTES[self.attribute].name,
            "layer": "last" if self.layer == -1 else self.layer + 1,
            "head": "mean" if self.head is None else self.head + 1,
            "opacity": round(float(self.opacity), 3),
            "colormap": self.colormap,
            "show_unreliable": self.show_unreliable,
        }


def draw_label(
    canvas: np.ndarray, text: str, origin: tuple[int, int], color: tuple[int, int, int], scale: float = 0.45
) -> None:
    x, y = origin
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    cv2.rectangle(canvas, (x, y - th - base - 2), (x + tw + 4, y + 2), (0, 0, 0), -1)
    cv2.putText(canvas, text, (x + 2, y - base + 1), FONT, scale, color, 1, cv2.LINE_AA)


def label_width(text: str, scale: float = 0.45) -> int:
    return cv2.getTextSize(text, FONT, scale, 1)[0][0] + 4
