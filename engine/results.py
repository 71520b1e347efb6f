"""Plain, frozen results of the engine. No Qt, no tensors: numpy arrays and numbers only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .attributes import ATTRIBUTE_NAMES
from .reliability import ModelReliability

__all__ = ["FaceResult", "FrameResult", "StageTimings"]


@dataclass(frozen=True)
class StageTimings:
    """Milliseconds spent per stage of one frame."""

    detect_ms: float = 0.0
    align_ms: float = 0.0
    classify_ms: float = 0.0
    track_ms: float = 0.0
    total_ms: float = 0.0
    full_detection: bool = False
    """True when the full MTCNN cascade ran on this frame (else only O-Net refinement or nothing)."""

    def as_dict(self) -> dict[str, float | bool]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FaceResult:
    face_id: int
    """Stable across frames while the tracker keeps the face."""
    box: np.ndarray  # (4,) float32: x1, y1, x2, y2 in frame pixels
    score: float  # detector confidence
    landmarks: np.ndarray  # (5, 2) float32 frame pixels
    probabilities: np.ndarray  # (40,) float32 calibrated probabilities, EMA-smoothed across frames for a tracked face
    raw_probabilities: np.ndarray  # (40,) float32 calibrated probabilities of this frame only (no smoothing)
    decisions: np.ndarray  # (40,) bool: the bundle's DecisionRule applied to ``probabilities``
    thresholds: np.ndarray  # (40,) float32: the rule's bounded per-attribute thresholds
    attention: np.ndarray  # (layers, heads, 40, grid_h, grid_w) float32, rows sum to 1 over the grid
    aligned: np.ndarray  # (H, W, 3) uint8: the crop the model saw
    align_matrix: np.ndarray  # (2, 3) float32: frame pixel -> crop pixel
    second_opinion: bool = False
    """True when the face descriptor's probes were fused in (:mod:`attricam.engine.second_opinion`)."""
    reliability: ModelReliability | None = None
    """Held-out figures of the answer this face got (fused or model alone); None when the bundle has none."""
    held: bool = False
    """Live video: the detector missed this tracked face on this frame, so it is shown as on the frame before
    (box, bars and attention unchanged) for a frame or two instead of blinking out (``PipelineSettings.hold_frames``)."""

    @property
    def reliable(self) -> np.ndarray:
        """(40,) bool: attributes measured at or above the reliability bar (all True when unmeasured)."""
        if self.reliability is None:
            return np.ones(len(ATTRIBUTE_NAMES), bool)
        return self.reliability.reliable

    @property
    def shown_positive(self) -> np.ndarray:
        """(40,) bool: decisions a view highlights by default, i.e. positive and reliable."""
        return np.asarray(np.asarray(self.decisions, bool) & self.reliable, bool)

    def attention_map(self, attribute: int, layer: int = -1, head: int | None = None) -> np.ndarray:
        """(grid_h, grid_w) map for one attribute; ``head=None`` averages the heads."""
        maps = self.attention[layer, :, attribute] if head is None else self.attention[layer, head, attribute][None]
        return np.asarray(maps.mean(axis=0))

    @property
    def attention_maps(self) -> np.ndarray:
        """(40, grid_h, grid_w): the default view the app shows, last layer averaged over heads.

        Each map sums to 1 over the grid and is the model's own attention for that attribute's query.
        """
        return np.asarray(self.attention[-1].mean(axis=0))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no image data)."""
        x1, y1, x2, y2 = (float(v) for v in self.box)
        return {
            "face": self.face_id,
            "box": {"x": x1, "y": y1, "w": x2 - x1, "h": y2 - y1},
            "score": self.score,
            "landmarks": self.landmarks.round(2).tolist(),
            "probabilities": {n: round(float(p), 5) for n, p in zip(ATTRIBUTE_NAMES, self.probabilities)},
            "decisions": {n: bool(d) for n, d in zip(ATTRIBUTE_NAMES, self.decisions)},
            "second_opinion": self.second_opinion,
            "held": self.held,
            "unreliable": [n for n, ok in zip(ATTRIBUTE_NAMES, self.reliable) if not ok],
        }


@dataclass(frozen=True)
class FrameResult:
    frame_index: int
    frame_size: tuple[int, int]  # width, height
    faces: tuple[FaceResult, ...]
    timings: StageTimings = field(default_factory=StageTimings)
    model_trained: bool = True
    model_name: str = ""

    def face(self, face_id: int) -> FaceResult | None:
        return next((f for f in self.faces if f.face_id == face_id), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "frame_index": self.frame_index,
            "frame_size": list(self.frame_size),
            "model": self.model_name,
            "model_trained": self.model_trained,
            "timings_ms": self.timings.as_dict(),
            "faces": [f.as_dict() for f in self.faces],
        }

    def reliability_dict(self) -> dict[str, Any]:
        """The held-out figures behind this frame's answers, keyed ``fused`` / ``model_only`` (snapshot sidecars;
        ``analyze --json`` states them once in its header instead of once per frame)."""
        return {
            ("fused" if f.second_opinion else "model_only"): f.reliability.to_dict()
            for f in self.faces
            if f.reliability is not None
        }
