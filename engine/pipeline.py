"""Frame in, faces with attributes out.

``FacePipeline.process`` is the live path: full MTCNN every
``full_detect_every`` frames (or as soon as a track is lost), O-Net refinement
of the tracked boxes in between, alignment, one batched model call, tracking
and EMA smoothing. With ``background_detection`` the full cascade runs on its
own thread and its answers are merged when they arrive, so no frame waits
~45 ms for it (:mod:`attricam.engine.live_detection`); only the first frame
after a reset or a scene cut searches synchronously, so a new shot shows its
faces at once. A scene cut (:class:`attricam.engine.scene_change.CutDetector`) or a face that
suddenly looks different ends the track, so no id or EMA crosses to another
person. ``FacePipeline.analyze_image`` is the still-image path: the full
cascade with the occlusion retry, no tracking, no smoothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from .alignment import AlignedFace, align_face
from .bundle import ModelBundle, load_default_bundle
from .detection import Detection, FaceDetector, largest_first
from .face_descriptor import FaceDescriptor, descriptor_unavailable_reason, load_face_descriptor
from .live_descriptors import LiveDescriptors
from .live_detection import LiveDetection
from .pipeline_settings import PipelineSettings, live_detector_settings, still_detector_settings
from .reliability import ModelReliability
from .results import FaceResult, FrameResult, StageTimings
from .runtime import AttributeClassifier, ClassifierOutput, load_classifier, resolve_device
from .scene_change import CutDetector, appearance_distance, appearance_signature
from .second_opinion import SecondOpinion
from .tracking import FaceTracker

__all__ = ["PipelineSettings", "FacePipeline"]

log = logging.getLogger(__name__)
_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """A missing optional package is said once per process, not once per pipeline or frame."""
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


class FacePipeline:
    """One model's faces in frames (``process``, tracked) and stills (``analyze_image``); ``close()`` when done."""

    def __init__(self, bundle: ModelBundle | None = None, settings: PipelineSettings | None = None) -> None:
        self.settings = settings or PipelineSettings()
        if self.settings.opencv_threads is not None:
            cv2.setNumThreads(self.settings.opencv_threads)
        self.device = resolve_device(self.settings.device)
        self.detector = FaceDetector(
            live_detector_settings(self.settings), device=self.device, backend=self.settings.detector_backend
        )
        self.tracker = FaceTracker(
            iou_threshold=self.settings.iou_threshold,
            ema_alpha=self.settings.ema_alpha,
            max_appearance_change=self.settings.max_appearance_change,
        )
        self._cuts = CutDetector(self.settings.cut_threshold)
        self._live = LiveDetection(self.settings, self.detector, self.tracker, device=self.device)
        self._frame_index = -1
        self._shown: dict[int, FaceResult] = {}
        self._live_descriptors: LiveDescriptors | None = None
        self._described_stills = 0
        self.set_bundle(bundle or load_default_bundle())

    # --- configuration -------------------------------------------------------------------
    def set_bundle(self, bundle: ModelBundle) -> None:
        """Swap the model (e.g. a freshly trained bundle); tracks restart so no EMA mixes two models."""
        classifier: AttributeClassifier = load_classifier(
            bundle, self.settings.backend, self.device, self.settings.threads
        )
        self.bundle, self.classifier = bundle, classifier
        self._rule = bundle.decision_rule
        self._opinion, self._describer = self._second_opinion_for(bundle)
        if self._live_descriptors is not None:
            self._live_descriptors.close()  # it computes the previous model's descriptor
        self._live_descriptors = (
            None
            if self._opinion is None
            else LiveDescriptors(
                self._opinion.descriptor,
                describer=self._describer,
                asynchronous=self.settings.descriptor_async,
                refresh_s=self.settings.descriptor_refresh_s,
                refresh_frames=self.settings.descriptor_refresh_frames,
            )
        )
        self._reliability = {
            fused: ModelReliability.from_metadata(bundle.metadata, fused=fused) for fused in (False, True)
        }
        self.reset()
        if not bundle.trained:
            log.warning("model %s is UNTRAINED (random weights): its probabilities are meaningless", bundle.name)

    def _second_opinion_for(self, bundle: ModelBundle) -> tuple[SecondOpinion | None, FaceDescriptor | None]:
        """The bundle's second opinion and the descriptor network to feed it, or (None, None) with one log line."""
        opinion = bundle.opinion if self.settings.second_opinion else None
        if opinion is None:
            return None, None
        reason = descriptor_unavailable_reason()
        if reason is not None:
            _warn_once(f"second opinion off: {reason}; using the attribute model alone")
            return None, None
        if self.settings.descriptor_async:
            return opinion, None
        describer = load_face_descriptor(opinion.descriptor)
        if describer is None:
            _warn_once(f"second opinion off: {opinion.descriptor} cannot run here; using the attribute model alone")
            return None, None
        return opinion, describer

    @property
    def descriptors_computed(self) -> int:
        """Face descriptors computed so far, inline and by the live worker (for benchmarks)."""
        live = self._live_descriptors.computed if self._live_descriptors is not None else 0
        return self._described_stills + live

    @property
    def descriptor_name(self) -> str | None:
        """The descriptor kind live tracks get (the bundle's second opinion's), None without one."""
        return self._live_descriptors.name if self._live_descriptors is not None else None

    def wait_for_descriptor(self, timeout: float) -> None:
        """Block until the live descriptor in flight (if any) arrives; for tests and benchmarks."""
        if self._live_descriptors is not None:
            self._live_descriptors.wait(timeout)

    @property
    def second_opinion_active(self) -> bool:
        """True when faces get the fused answer (the bundle has a second opinion and the descriptor can run)."""
        return self._opinion is not None

    def update_settings(self, **changes: Any) -> None:
        """Change cadence, face size or smoothing live (backend/device changes need a new pipeline)."""
        self.settings = replace(self.settings, **changes)
        self.detector.with_settings(live_detector_settings(self.settings))
        self._live.update_settings(self.settings)
        self.tracker.ema_alpha = self.settings.ema_alpha
        self.tracker.iou_threshold = self.settings.iou_threshold
        self.tracker.max_appearance_change = self.settings.max_appearance_change
        self._cuts.threshold = self.settings.cut_threshold
        if self._live_descriptors is not None:
            self._live_descriptors.set_refresh_s(self.settings.descriptor_refresh_s)

    def reset(self) -> None:
        """Forget tracks: call when the source changes."""
        self.tracker.reset()
        if self._live_descriptors is not None:
            self._live_descriptors.clear()
        self._cuts.reset()
        self._live.restart()
        self._frame_index = -1
        self._shown = {}

    def close(self) -> None:
        """Stop and join the background detection thread (if one was started). The pipeline stays usable
        for still images; a later ``process`` with background detection starts a new thread."""
        self._live.close()
        if self._live_descriptors is not None:
            self._live_descriptors.close()

    def wait_for_detection(self, timeout: float | None = None) -> bool:
        """Block until the background search in flight (if any) is done; for tests and benchmarks."""
        return self._live.wait(timeout)

    # --- processing ----------------------------------------------------------------------
    def process(self, frame: np.ndarray) -> FrameResult:
        """Live path for consecutive video frames (RGB uint8, h x w x 3)."""
        start = time.perf_counter()
        self._frame_index += 1
        if self._cuts.threshold > 0 and self._cuts.is_cut(frame):
            self.tracker.end_all()  # a scene cut: nobody keeps an id, and this frame searches in full
            self._live.restart()
        detections, full = self._live.find(frame, self._frame_index, self._shown)
        detect_done = time.perf_counter()

        background = self.settings.background_detection
        t0 = time.perf_counter()
        signatures = [appearance_signature(frame, d.box) for d in detections]
        ids = self.tracker.assign(np.array([d.box for d in detections], np.float32), signatures)
        if full and not background:
            self.tracker.drop_unseen(set(ids))
        held = self._held_faces(frame, set(ids)) if background else []
        track_ms = (time.perf_counter() - t0) * 1000
        descriptors = self._track_descriptors_for(frame, detections, ids)
        result = self._classify(
            frame, detections, ids, start, detect_done, full, track_ms, smooth=True, descriptors=descriptors
        )
        if held:
            result = replace(result, faces=result.faces + tuple(held))
        self._shown = {face.face_id: face for face in result.faces}
        return result

    def _held_faces(self, frame: np.ndarray, seen: set[int]) -> list[FaceResult]:
        """Faces on screen a moment ago that this frame's detection missed, as they were, marked ``held``.

        Only tracks the tracker still keeps (no cut, no swap, no search that looked there and found nothing),
        missed for at most ``hold_frames`` frames, and whose place in this frame still looks like the face did.
        """
        held = []
        for track in self.tracker.tracks:
            last = self._shown.get(track.face_id)
            if track.face_id in seen or last is None or track.missed > self.settings.hold_frames:
                continue
            if track.signature is not None:
                change = appearance_distance(track.signature, appearance_signature(frame, track.box))
                if change > self.settings.max_appearance_change:
                    continue  # the picture under the box changed: the person left, or the shot did
            held.append(replace(last, held=True))
        return held

    def _track_descriptors_for(
        self, frame: np.ndarray, detections: list[Detection], ids: list[int]
    ) -> list[np.ndarray | None]:
        """Each tracked face's newest descriptor (None while it has none), refreshing the ones due."""
        if self._live_descriptors is None:
            return [None] * len(ids)
        boxes = {face_id: d.box for face_id, d in zip(ids, detections)}
        alive = {t.face_id for t in self.tracker.tracks}
        found = self._live_descriptors.for_tracks(frame, boxes, alive, self._frame_index)
        return [found.get(face_id) for face_id in ids]

    def analyze_image(self, image: np.ndarray) -> FrameResult:
        """Still-image path: every face, no tracking or smoothing; face ids are 0..n-1, largest first."""
        start = time.perf_counter()
        found = self.detector.detect(image, still_detector_settings(self.settings))
        detections = largest_first(
            [d for d in found if d.score >= self.settings.still_min_score], self.settings.still_max_faces
        )
        detect_done = time.perf_counter()
        descriptors: list[np.ndarray | None] = [None] * len(detections)
        if self._opinion is not None and self._describer is None:
            self._describer = load_face_descriptor(self._opinion.descriptor)  # an async pipeline analysing a still
        if self._opinion is not None and self._describer is not None and detections:
            descriptors = list(self._describer.describe(image, [d.box for d in detections]))
            self._described_stills += len(detections)
        return self._classify(
            image,
            detections,
            list(range(len(detections))),
            start,
            detect_done,
            True,
            0.0,
            smooth=False,
            descriptors=descriptors,
        )

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
        descriptors: list[np.ndarray | None] | None = None,
    ) -> FrameResult:
        c = self.bundle.config
        aligned = [align_face(frame, d.landmarks, width=c.image_width, height=c.image_height) for d in detections]
        align_done = time.perf_counter()
        crops = (
            np.stack([a.image for a in aligned])
            if aligned
            else np.zeros((0, c.image_height, c.image_width, 3), np.uint8)
        )
        output = self.classifier.predict(crops)
        classify_done = time.perf_counter()

        faces = [
            self._face_result(det, face_id, crop, output, i, descriptors[i] if descriptors else None, smooth=smooth)
            for i, (det, face_id, crop) in enumerate(zip(detections, ids, aligned))
        ]
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

    def _face_result(
        self,
        detection: Detection,
        face_id: int,
        crop: AlignedFace,
        output: ClassifierOutput,
        row: int,
        descriptor: np.ndarray | None,
        *,
        smooth: bool,
    ) -> FaceResult:
        """Face ``row`` of the batch under the bundle's rule, or fused with its descriptor under the second
        opinion's; ``smooth`` runs it through the track's EMA."""
        rule, network = self._rule, output.probabilities[row : row + 1]
        if descriptor is not None and self._opinion is not None:
            rule, network = self._opinion.rule, self._opinion.fuse(network, descriptor[None])
        raw = rule.calibrate(network)[0]
        probabilities = self.tracker.smooth(face_id, raw) if smooth else raw.copy()
        return FaceResult(
            face_id=face_id,
            box=detection.box,
            score=detection.score,
            landmarks=detection.landmarks,
            probabilities=probabilities,
            raw_probabilities=raw,
            decisions=rule.decide(probabilities),
            thresholds=rule.thresholds,
            attention=output.attention[row],
            aligned=crop.image,
            align_matrix=crop.matrix,
            second_opinion=descriptor is not None,
            reliability=self._reliability[descriptor is not None],
        )
