"""Frame in, faces with attributes out.

``FacePipeline.process`` is the live path: full MTCNN every
``full_detect_every`` frames (or as soon as a track is lost), O-Net refinement
of the tracked boxes in between, alignment, one batched model call, tracking
and EMA smoothing. With ``background_detection`` the full cascade runs on its
own thread (:mod:`attricam.engine.background_detection`) and its answers are merged when
they arrive, so no frame waits ~45 ms for it; only the first frame after a
reset or a scene cut searches synchronously, so a new shot shows its faces at
once. A scene cut (:class:`attricam.engine.scene_change.CutDetector`) or a face that
suddenly looks different ends the track, so no id or EMA crosses to another
person. ``FacePipeline.analyze_image`` is the still-image path: the full
cascade with the occlusion retry, no tracking, no smoothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

from .alignment import align_face
from .background_detection import BackgroundDetector
from .bundle import ModelBundle, load_default_bundle
from .detection import Detection, DetectorSettings, FaceDetector
from .face_descriptor import FaceDescriptor, descriptor_unavailable_reason, load_face_descriptor
from .live_descriptors import LiveDescriptors
from .reliability import ModelReliability
from .results import FaceResult, FrameResult, StageTimings
from .runtime import AttributeClassifier, load_classifier, resolve_device
from .scene_change import CutDetector, appearance_distance, appearance_signature
from .second_opinion import SecondOpinion
from .tracking import FaceTracker, iou_matrix

__all__ = ["PipelineSettings", "FacePipeline"]

log = logging.getLogger(__name__)
_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """A missing optional package is said once per process, not once per pipeline or frame."""
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


@dataclass(frozen=True)
class PipelineSettings:
    backend: str = "auto"
    """torch, onnx, or auto: onnxruntime when the bundle has its ONNX twin (faster at batch 1 on CPU)."""
    device: str = "auto"
    detector_backend: str = "auto"
    """MTCNN on onnx (no torch import), torch, or auto: onnx on CPU when onnxruntime is installed."""
    threads: int | None = None
    """CPU threads for torch and onnxruntime; None keeps their defaults. 1 is best beside a busy process."""
    opencv_threads: int | None = 1
    """OpenCV's thread pool (process-wide): a live frame's resizes, warps and blends are small, and on 2 cores
    beside the detection thread their hand-offs cost more than they save (measured on the real clip's frame p95,
    ``benchmarks/bench_live.py --real``). None keeps OpenCV's default."""
    full_detect_every: int = 10
    """Run the full cascade every N frames; O-Net refines tracked faces in between."""
    min_face_size: int = 60
    """Smallest face the live path searches for, in frame pixels (a webcam face at 2 m is ~80 px at 640x480)."""
    detect_max_side: int = 320
    """Live frames are downscaled to this long side for the full cascade."""
    still_min_face_size: int = 20
    still_min_score: float = 0.90
    """Stills (the GUI's images, ``analyze``, exports) show no detection below this MTCNN score as a person. On
    CelebA val every face scored >= 0.963 and on ``../shared/real-photos`` every real face >= 0.976, while the
    false faces seen (jacket-cuff buttons 0.84, a background patch in bald_guys.jpg 0.74) scored lower."""
    still_max_side: int = 1600
    max_faces: int = 8
    """Largest faces kept per live frame (each costs a classification every frame)."""
    still_max_faces: int = 64
    """Largest faces kept in a still image: group photos and collages hold far more than a webcam frame."""
    ema_alpha: float = 0.4
    iou_threshold: float = 0.3
    background_detection: bool = False
    """Run the full cascade on its own thread (live video); False keeps every frame's result deterministic
    (offline analysis, tests)."""
    background_nice: int = 0
    """Niceness added to the background detection thread (Linux): the app raises it so that on a busy machine
    the search yields the cores to the frame path and the GUI thread."""
    cut_threshold: float = 0.35
    """Frame-histogram distance above which a frame starts a new shot and every track ends; 0 disables."""
    max_appearance_change: float = 0.6
    """Look change (``appearance_distance``) above which a face does not continue the track it overlaps."""
    hold_frames: int = 3
    """Live video (``background_detection``): a tracked face that O-Net loses for a frame is shown as on the frame
    before, marked ``held``, for up to this many frames while its place still looks the same. A face turned to
    profile or half out of the picture scored just under O-Net's bar every other frame and blinked between "no
    face" and the face when stepped through (real photos: gaps of 1-3 frames). 0 turns it off; offline analysis
    (no background detection) reports detected faces only."""
    second_opinion: bool = True
    """Fuse the bundle's face-descriptor probes (:mod:`attricam.engine.second_opinion`) when it has them and the
    optional descriptor packages are installed; False uses the attribute model alone."""
    descriptor_async: bool = False
    """Live video: compute each track's descriptor in a separate process (:mod:`attricam.engine.descriptor_worker`),
    so no frame waits for it (~5 ms; ~80 ms with dlib's own network); a track shows the model's own answer until
    its descriptor arrives. False computes due descriptors inside ``process`` (deterministic: ``analyze`` and tests)."""
    descriptor_refresh_s: float = 1.0
    """A live track's descriptor is recomputed after this many seconds (async) ..."""
    descriptor_refresh_frames: int = 30
    """... or after this many frames (synchronous video analysis)."""


def _box_area(detection: Detection) -> float:
    x1, y1, x2, y2 = detection.box
    return float((x2 - x1) * (y2 - y1))


def _largest_first(detections: list[Detection], limit: int) -> list[Detection]:
    return sorted(detections, key=_box_area, reverse=True)[:limit]


class FacePipeline:
    def __init__(self, bundle: ModelBundle | None = None, settings: PipelineSettings | None = None) -> None:
        self.settings = settings or PipelineSettings()
        if self.settings.opencv_threads is not None:
            cv2.setNumThreads(self.settings.opencv_threads)
        self.device = resolve_device(self.settings.device)
        self.detector = FaceDetector(
            self._live_detector_settings(), device=self.device, backend=self.settings.detector_backend
        )
        self.tracker = FaceTracker(
            iou_threshold=self.settings.iou_threshold,
            ema_alpha=self.settings.ema_alpha,
            max_appearance_change=self.settings.max_appearance_change,
        )
        self._cuts = CutDetector(self.settings.cut_threshold)
        self._background: BackgroundDetector | None = None
        self._background_detector: FaceDetector | None = None
        self._last_submit = -(10**9)
        self._submitted_ids: set[int] = set()
        self._frame_index = -1
        self._force_full = True
        self._shown: dict[int, FaceResult] = {}
        self._live_descriptors: LiveDescriptors | None = None
        self._described_stills = 0
        self.set_bundle(bundle or load_default_bundle())

    # --- configuration -------------------------------------------------------------------
    def _live_detector_settings(self) -> DetectorSettings:
        s = self.settings
        return DetectorSettings(min_face_size=s.min_face_size, detect_max_side=s.detect_max_side, occlusion_retry=False)

    def _still_detector_settings(self) -> DetectorSettings:
        s = self.settings
        return DetectorSettings(
            min_face_size=s.still_min_face_size, detect_max_side=s.still_max_side, occlusion_retry=True
        )

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
        self.detector.with_settings(self._live_detector_settings())
        if self._background_detector is not None:
            self._background_detector.with_settings(self._live_detector_settings())
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
        if self._background is not None:
            self._background.discard()
        self._frame_index = -1
        self._force_full = True
        self._shown = {}

    def close(self) -> None:
        """Stop and join the background detection thread (if one was started). The pipeline stays usable
        for still images; a later ``process`` with background detection starts a new thread."""
        if self._background is not None:
            self._background.close()
            self._background = None
        if self._live_descriptors is not None:
            self._live_descriptors.close()

    def wait_for_detection(self, timeout: float | None = None) -> bool:
        """Block until the background search in flight (if any) is done; for tests and benchmarks."""
        return self._background is None or self._background.wait_idle(timeout)

    # --- processing ----------------------------------------------------------------------
    def process(self, frame: np.ndarray) -> FrameResult:
        """Live path for consecutive video frames (RGB uint8, h x w x 3)."""
        start = time.perf_counter()
        self._frame_index += 1
        if self._cuts.threshold > 0 and self._cuts.is_cut(frame):
            self._end_shot()
        background = self.settings.background_detection
        if background and not self._force_full:
            detections, full = self._refine_and_merge(frame)
            if not detections and any(t.missed == 0 for t in self.tracker.tracks):
                # Everyone on screen a frame ago is lost at once: most likely a cut the histogram missed (a jump
                # to another part of the same picture). Search this frame now, as after a detected cut, rather
                # than show a frame without faces until the background answer arrives.
                self._force_full = True
                detections, full = self._detect_in_frame(frame)
        else:
            detections, full = self._detect_in_frame(frame)
        detect_done = time.perf_counter()

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

    def _end_shot(self) -> None:
        """A scene cut: nobody keeps an id, a search in flight is stale, and this frame searches in full."""
        self.tracker.end_all()
        if self._background is not None:
            self._background.discard()
        self._force_full = True

    def _detect_in_frame(self, frame: np.ndarray) -> tuple[list[Detection], bool]:
        """Full cascade on this frame when due (or forced), else O-Net refinement of the tracked boxes."""
        full = self._force_full or not self.tracker.tracks or self._frame_index % self.settings.full_detect_every == 0
        if full:
            detections = _largest_first(self.detector.detect(frame), self.settings.max_faces)
            self._force_full = False
            if self.settings.background_detection:
                self._last_submit = self._frame_index  # this frame's search counts as the last one
            return detections, True
        refined = self.detector.refine(frame, self.tracker.boxes)
        detections = [d for d in refined if d is not None]
        self._force_full = len(detections) < len(refined)  # a face was lost: search the whole frame next
        return detections, False

    def _refine_and_merge(self, frame: np.ndarray) -> tuple[list[Detection], bool]:
        """O-Net on tracked boxes plus any faces the background search found; hand it a frame when due.

        Returns the detections and whether a background answer was merged on this frame.
        """
        answer = self._background.take() if self._background is not None else None
        if answer is not None:
            self._merge_answer(_largest_first(answer.detections, self.settings.max_faces))
        boxes = self.tracker.boxes
        if answer is not None:
            found = np.array([d.box for d in answer.detections], np.float32).reshape(-1, 4)
            overlap = iou_matrix(found, boxes).max(axis=1, initial=0.0)
            boxes = np.concatenate([boxes, found[overlap < self.settings.iou_threshold]])[: self.settings.max_faces]
        refined = self.detector.refine(frame, boxes)
        detections = [d for d in refined if d is not None]
        lost = len(detections) < len(refined)
        due = self._frame_index - self._last_submit >= self.settings.full_detect_every
        if lost or due:
            self._submit(frame)
        return detections, answer is not None

    def _merge_answer(self, detections: list[Detection]) -> None:
        """End tracks that the search saw in its frame's place but found no face in (O-Net drifted onto a non-face).

        A face near the smallest size the search looks for is found by one search and missed by the next (real
        photos: 35x44 and 54x72 px faces with ``min_face_size`` 60), so a miss proves nothing there: such a track
        ends only when O-Net's last score on it was not sure either. Otherwise it blinked out for ten frames and
        came back under a new id."""
        found = np.array([d.box for d in detections], np.float32).reshape(-1, 4)
        overlap = iou_matrix(self.tracker.boxes, found).max(axis=1, initial=0.0)
        stale = {
            t.face_id
            for t, o in zip(self.tracker.tracks, overlap)
            if t.face_id in self._submitted_ids and o < 0.1 and not self._below_search(t.face_id, t.box)
        }
        if stale:
            self.tracker.drop_unseen({t.face_id for t in self.tracker.tracks} - stale)

    def _below_search(self, face_id: int, box: np.ndarray) -> bool:
        """A sure face (last O-Net score >= 0.9) too small for the search to be sure of finding it."""
        last = self._shown.get(face_id)
        side = float(max(box[2] - box[0], box[3] - box[1]))
        return last is not None and last.score >= 0.9 and side < 1.25 * self.settings.min_face_size

    def _submit(self, frame: np.ndarray) -> None:
        if self._background is None:
            self._background_detector = FaceDetector(
                self._live_detector_settings(), device=self.device, backend=self.settings.detector_backend
            )
            detector = self._background_detector
            self._background = BackgroundDetector(
                lambda image: _largest_first(detector.detect(image), self.settings.max_faces),
                nice=self.settings.background_nice,
            )
        if self._background.submit(self._frame_index, frame):
            self._last_submit = self._frame_index
            self._submitted_ids = {t.face_id for t in self.tracker.tracks}

    def analyze_image(self, image: np.ndarray) -> FrameResult:
        """Still-image path: every face, no tracking or smoothing; face ids are 0..n-1, largest first."""
        start = time.perf_counter()
        found = self.detector.detect(image, self._still_detector_settings())
        detections = _largest_first(
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

        faces = []
        for i, (det, face_id, crop) in enumerate(zip(detections, ids, aligned)):
            descriptor = descriptors[i] if descriptors else None
            rule, network = self._rule, output.probabilities[i : i + 1]
            if descriptor is not None and self._opinion is not None:
                rule, network = self._opinion.rule, self._opinion.fuse(network, descriptor[None])
            raw = rule.calibrate(network)[0]
            probabilities = self.tracker.smooth(face_id, raw) if smooth else raw.copy()
            faces.append(
                FaceResult(
                    face_id=face_id,
                    box=det.box,
                    score=det.score,
                    landmarks=det.landmarks,
                    probabilities=probabilities,
                    raw_probabilities=raw,
                    decisions=rule.decide(probabilities),
                    thresholds=rule.thresholds,
                    attention=output.attention[i],
                    aligned=crop.image,
                    align_matrix=crop.matrix,
                    second_opinion=descriptor is not None,
                    reliability=self._reliability[descriptor is not None],
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
