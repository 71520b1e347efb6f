"""A second model on the faces the live pipeline found: two models side by side on the same face.

:class:`SecondModel` runs another bundle on the detections of a :class:`FrameResult` (same face ids,
boxes and landmarks; each bundle aligns the face at its own crop size and applies its own decision rule),
with the same per-face EMA as the live tracker on video. :class:`ModelComparison` pairs the two frame
results and ranks where they disagree: attributes one model calls positive and the other does not,
rare ones first (they are what the two recipes of the imbalance journey differ on), then by how far the
probabilities are apart. No Qt; the desktop's worker runs it on its thread, exports draw and write it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .alignment import align_face
from .attributes import ATTRIBUTE_NAMES, ATTRIBUTES, NUM_ATTRIBUTES
from .bundle import ModelBundle
from .reliability import ModelReliability
from .results import FaceResult, FrameResult
from .runtime import load_classifier, resolve_device

__all__ = ["ModelComparison", "SecondModel", "disagreement_order"]


class SecondModel:
    """``bundle`` applied to the faces another model's pipeline found (network alone, no second opinion).

    ``ema_alpha`` is the weight of the newest frame on video (the live tracker's 0.4), so both models'
    bars are smoothed alike; :meth:`reset` forgets it (a new source, a seek, a model swap).
    """

    def __init__(
        self,
        bundle: ModelBundle,
        *,
        label: str = "",
        backend: str = "auto",
        device: str = "auto",
        threads: int | None = None,
        ema_alpha: float = 0.4,
    ) -> None:
        self.bundle = bundle
        self.label = label or bundle.name
        self.classifier = load_classifier(bundle, backend, resolve_device(device), threads)
        self._rule = bundle.decision_rule
        self._reliability = ModelReliability.from_metadata(bundle.metadata, fused=False)
        self._ema_alpha = ema_alpha
        self._smoothed: dict[int, np.ndarray] = {}

    def reset(self) -> None:
        self._smoothed.clear()

    def analyze(self, frame: np.ndarray, result: FrameResult, *, smooth: bool) -> FrameResult:
        """This model's answer for every face of ``result`` (found on ``frame``, RGB uint8 (h, w, 3))."""
        c = self.bundle.config
        aligned = [align_face(frame, f.landmarks, width=c.image_width, height=c.image_height) for f in result.faces]
        crops = (
            np.stack([a.image for a in aligned])
            if aligned
            else np.zeros((0, c.image_height, c.image_width, 3), np.uint8)
        )  # (n, H, W, 3)
        output = self.classifier.predict(crops)
        raw = self._rule.calibrate(output.probabilities) if len(crops) else np.zeros((0, NUM_ATTRIBUTES), np.float32)
        if smooth:
            self._smoothed = {k: v for k, v in self._smoothed.items() if result.face(k) is not None}
        faces = []
        for i, (face, crop) in enumerate(zip(result.faces, aligned)):
            probabilities = raw[i].astype(np.float32)
            if smooth:
                before = self._smoothed.get(face.face_id)
                if before is not None:
                    probabilities = self._ema_alpha * probabilities + (1 - self._ema_alpha) * before
                self._smoothed[face.face_id] = probabilities
            faces.append(
                FaceResult(
                    face_id=face.face_id,
                    box=face.box,
                    score=face.score,
                    landmarks=face.landmarks,
                    probabilities=probabilities.copy(),
                    raw_probabilities=raw[i].astype(np.float32),
                    decisions=self._rule.decide(probabilities),
                    thresholds=self._rule.thresholds,
                    attention=output.attention[i],
                    aligned=crop.image,
                    align_matrix=crop.matrix,
                    reliability=self._reliability,
                )
            )
        return FrameResult(
            frame_index=result.frame_index,
            frame_size=result.frame_size,
            faces=tuple(faces),
            timings=result.timings,
            model_trained=self.bundle.trained,
            model_name=self.bundle.name,
        )


def disagreement_order(first: FaceResult, second: FaceResult) -> list[int]:
    """All 40 attributes, those the two answers decide differently first (rarest first), then the rest by how
    far apart their probabilities are."""
    differ = np.asarray(first.decisions, bool) != np.asarray(second.decisions, bool)
    gap = np.abs(np.asarray(first.probabilities, np.float32) - np.asarray(second.probabilities, np.float32))
    disagreeing = sorted(np.flatnonzero(differ).tolist(), key=lambda i: (ATTRIBUTES[i].frequency, -gap[i]))
    rest = sorted(np.flatnonzero(~differ).tolist(), key=lambda i: -gap[i])
    return [int(i) for i in disagreeing + rest]


@dataclass(frozen=True)
class ModelComparison:
    """The live model's result (``first``) and a second model's on the same faces (``second``)."""

    first: FrameResult
    second: FrameResult
    first_label: str
    second_label: str

    def pair(self, face_id: int | None) -> tuple[FaceResult, FaceResult] | None:
        """Both answers for one face; ``None`` picks the first face. None when the face is not in both."""
        if face_id is None:
            face_id = self.first.faces[0].face_id if self.first.faces else None
        a = self.first.face(face_id) if face_id is not None else None
        b = self.second.face(face_id) if face_id is not None else None
        return (a, b) if a is not None and b is not None else None

    def disagreements(self, face_id: int) -> list[int]:
        """Attributes the two models decide differently for this face, rarest first."""
        pair = self.pair(face_id)
        if pair is None:
            return []
        differ = np.asarray(pair[0].decisions, bool) != np.asarray(pair[1].decisions, bool)
        return [i for i in disagreement_order(*pair) if differ[i]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the second model's faces (as ``FaceResult.as_dict``) and, per face, where they disagree."""
        faces = []
        for face in self.second.faces:
            entry = face.as_dict()
            entry["disagreements"] = [
                {
                    "attribute": ATTRIBUTE_NAMES[i],
                    "first": round(float(self.first.face(face.face_id).probabilities[i]), 5),  # type: ignore[union-attr]
                    "second": round(float(face.probabilities[i]), 5),
                }
                for i in self.disagreements(face.face_id)
            ]
            faces.append(entry)
        return {
            "first_model": self.first_label,
            "model": self.second_label,
            "model_name": self.second.model_name,
            "model_trained": self.second.model_trained,
            "faces": faces,
        }
