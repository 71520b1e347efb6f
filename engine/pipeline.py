"""Frame in, faces with attributes out.

``FacePipeline.process`` is the live path: full MTCNN every
``full_detect_every`` frames (or as soon as a track is lost), O-Net refinement
of the tracked boxes in between, alignment, one batched model call, tracking
and EMA smoothing. ``FacePipeline.analyze_image`` is the still-image path: the
full cascade with the occlusion retry, no tracking, no smoothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np

from .alignment import align_face
from .bundle import ModelBundle, load_default_bundle
from .detection import Detection, DetectorSettings, FaceDetector
from .results import FaceResult, FrameResult, StageTimings
from .runtime import AttributeClassifier, load_classifier, resolve_device
from .tracking import FaceTracker

__all__ = ["PipelineSettings", "FacePipeline"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineSettings:
    backend: str = "auto"
    """torch, onnx, or auto: onnxruntime when the bundle has its ONNX twin (faster at batch 1 on CPU)."""
    device: str = "auto"
    threads: int | None = None
    """CPU threads for torch and onnxruntime; None keeps their defaults. 1 is best beside a busy process."""
    full_detect_every: int = 10
    """Run the full cascade every N frames; O-Net refines tracked faces in between."""
    min_face_size: int = 60
    """Smallest face the live path searches for, in frame pixels (a webcam face at 2 m is ~80 px at 640x480)."""
    detect_max_side: int = 320
    """Live frames are downscaled to this long side for the full cascade."""
    still_min_face_size: int = 20
    still_max_side: int = 1600
    max_faces: int = 8
    ema_alpha: float = 0.4
    iou_threshold: float = 0.3


def _box_area(detection: Detection) -> float:
    x1, y1, x2, y2 = detection.box
    return float((x2 - x1) * (y2 - y1))


def _largest_first(detections: list[Detection], limit: int) -> list[Detection]:
    return sorted(detections, key=_box_area, reverse=True)[:limit]


class FacePipeline:
    def __init__(self, bundle: ModelBundle | None = None, settings: PipelineSettings | None = None) -> None:
        self.settings = settings or PipelineSettings()
        self.device = resolve_device(self.settings.device)
        self.detector = FaceDetector(self._live_detector_settings(), device=self.device)
        self.tracker = FaceTracker(iou_threshold=self.settings.iou_threshold, ema_alpha=self.settings.ema_alpha)
        self._frame_index = -1
        self._force_full = True
        self.set_bundle(bundle or load_default_bundle())

    # --- configuration -------------------------------------------------------------------
    def _live_detector_settings(self) -> DetectorSettings:
        s = self.settings
        return DetectorSettings(min_face_size=s.min_face_size, detect_max_side=s.detect_max_side, occlusion_retry=False)

    def _still_detector_settings(self) -> DetectorSettings:
        s = self.settings
        return DetectorSettings(min_face_size=s.still_min_face_size, detect_max_side=s.still_max_side, occlusion_retry=True)

    def set_bundle(self, bundle: ModelBundle) -> None:
        """Swap the model (e.g. a freshly trained bundle); tracks restart so no EMA mixes two models."""
        classifier: AttributeClassifier = load_classifier(bundle, self.settings.backend, self.device, self.settings.threads)
        self.bundle, self.classifier = bundle, classifier
        self._rule = bundle.decision_rule
        self.reset()
        if not bundle.trained:
            log.warning("model %s is UNTRAINED (random weights): its probabilities are meaningless", bundle.name)

    def update_settings(self, **changes) -> None:
        """Change cadence, face size or smoothing live (backend/device changes need a new pipeline)."""
        self.settings = replace(self.settings, **changes)
        self.detector.with_settings(self._live_detector_settings())
        self.tracker.ema_alpha = self.settings.ema_alpha
        self.tracker.iou_threshold = self.settings.iou_threshold

    def reset(self) -> None:
        """Forget tracks: call when the source changes."""
        self.tracker.reset()
        self._frame_index = -1
        self._force_full = True

    # --- processing ----------------------------------------------------------------------
    def process(self, frame: np.ndarray) -> FrameResult:
        """Live path for consecutive video frames (RGB uint8, h x w x 3)."""
        start = time.perf_counter()
        self._frame_index += 1
        full = self._force_full or not self.tracker.tracks or self._frame_index % self.settings.full_detect_every == 0
        if full:
            detections = _largest_first(self.detector.detect(frame), self.settings.max_faces)
            self._force_full = False
        else:
            refined = self.detector.refine(frame, self.tracker.boxes)
            detections = [d for d in refined if d is not None]
            self._force_full = len(detections) < len(refined)  # a face was lost: search the whole frame next
        detect_done = time.perf_counter()

        t0 = time.perf_counter()
        ids = self.tracker.assign(np.array([d.box for d in detections], np.float32))
        if full:
            self.tracker.drop_unseen(set(ids))
        track_ms = (time.perf_counter() - t0) * 1000
        return self._classify(frame, detections, ids, start, detect_done, full, track_ms, smooth=True)

    def analyze_image(self, image: np.ndarray) -> FrameResult:
        """Still-image path: every face, no tracking or smoothing; face ids are 0..n-1, largest first."""
        start = time.perf_counter()
        self.detector.with_settings(self._still_detector_settings())
        try:
            detections = _largest_first(self.detector.detect(image), self.settings.max_faces)
        finally:
            self.detector.with_settings(self._live_detector_settings())
        detect_done = time.perf_counter()
        return self._classify(image, detections, list(range(len(detections))), start, detect_done, True, 0.0, smooth=False)

    def _classify(
        self,
        frame: np.ndarray,
        detections: list[Detection],
        ids: list[int],
        start: float,
        detect_done: float,
        full: bool,
        track_ms: float,
        *,
        smooth: bool,
    ) -> FrameResult:
        c = self.bundle.config
        aligned = [align_face(frame, d.landmarks, width=c.image_width, height=c.image_height) for d in detections]
        align_done = time.perf_counter()
        crops = np.stack([a.image for a in aligned]) if aligned else np.zeros((0, c.image_height, c.image_width, 3), np.uint8)
        output = self.classifier.predict(crops)
        classify_done = time.perf_counter()

        calibrated = self._rule.calibrate(output.probabilities)
        faces = []
        for i, (det, face_id, crop) in enumerate(zip(detections, ids, aligned)):
            raw = calibrated[i]
            probabilities = self.tracker.smooth(face_id, raw) if smooth else raw.copy()
            faces.append(
                FaceResult(
                    face_id=face_id,
                    box=det.box,
                    score=det.score,
                    landmarks=det.landmarks,
                    probabilities=probabilities,
                    raw_probabilities=raw,
                    decisions=self._rule.decide(probabilities),
                    thresholds=self._rule.thresholds,
                    attention=output.attention[i],
                    aligned=crop.image,
                    align_matrix=crop.matrix,
                )
            )
        end = time.perf_counter()
        timings = StageTimings(
            detect_ms=(detect_done - start) * 1000,
            align_ms=(align_done - detect_done) * 1000,
            classify_ms=(classify_done - align_done) * 1000,
            track_ms=track_ms,
            total_ms=(end - start) * 1000,
            full_detection=full,
        )
        height, width = frame.shape[:2]
        return FrameResult(
            frame_index=max(self._frame_index, 0),
            frame_size=(width, height),
            faces=tuple(faces),
            timings=timings,
            model_trained=self.bundle.trained,
            model_name=self.bundle.name,
        )
