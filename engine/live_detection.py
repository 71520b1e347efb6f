"""Which faces a live video frame holds: a full search when due, O-Net refinement of the tracked boxes between.

With ``background_detection`` the full cascade runs on its own thread
(:class:`attricam.engine.background_detection.BackgroundDetector`): the frame path refines the tracked faces,
hands a frame to the search now and then, and merges its answer a few frames later (new faces join; a track
the search looked at and found no face in ends). Only the first frame of a shot searches synchronously, so a
new shot shows its faces at once. Without it every ``full_detect_every``-th frame searches in place, which
keeps offline analysis and tests deterministic.

Kept apart from :class:`attricam.engine.pipeline.FacePipeline` so that the pipeline reads as frame in, faces
out; it owns the search thread, when to feed it and how its answers meet the tracker.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .background_detection import BackgroundDetector
from .detection import Detection, FaceDetector, largest_first
from .pipeline_settings import PipelineSettings, live_detector_settings
from .results import FaceResult
from .tracking import FaceTracker, iou_matrix

__all__ = ["LiveDetection"]


class LiveDetection:
    """A live frame's detections for ``tracker``'s faces, searched by ``detector`` or on a background thread.

    ``detector`` and ``tracker`` are the pipeline's own (shared, not copied); the background thread gets its
    own detector on ``device``, made when the first frame is handed to it.
    """

    def __init__(
        self, settings: PipelineSettings, detector: FaceDetector, tracker: FaceTracker, *, device: str
    ) -> None:
        self._settings = settings
        self._detector = detector
        self._tracker = tracker
        self._device = device
        self._background: BackgroundDetector | None = None
        self._background_detector: FaceDetector | None = None
        self._last_submit = -(10**9)
        self._submitted_ids: set[int] = set()
        self._force_full = True

    def update_settings(self, settings: PipelineSettings) -> None:
        """Take the pipeline's new settings; the background thread's detector follows them too."""
        self._settings = settings
        if self._background_detector is not None:
            self._background_detector.with_settings(live_detector_settings(settings))

    def restart(self) -> None:
        """A new source or shot: a search in flight is stale, and the next frame searches in full."""
        if self._background is not None:
            self._background.discard()
        self._force_full = True

    def close(self) -> None:
        """Stop and join the background thread (if one was started); a later search starts a new one."""
        if self._background is not None:
            self._background.close()
            self._background = None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the background search in flight (if any) is done; False on timeout."""
        return self._background is None or self._background.wait_idle(timeout)

    def find(
        self, frame: np.ndarray, frame_index: int, shown: Mapping[int, FaceResult]
    ) -> tuple[list[Detection], bool]:
        """This frame's faces, and whether a full search (here or merged from the background) found them.

        ``shown`` is what the previous frame showed per face id (its O-Net score tells a sure face).
        """
        if not self._settings.background_detection or self._force_full:
            return self._detect_in_frame(frame, frame_index)
        detections, full = self._refine_and_merge(frame, frame_index, shown)
        if not detections and any(t.missed == 0 for t in self._tracker.tracks):
            # Everyone on screen a frame ago is lost at once: most likely a cut the histogram missed (a jump
            # to another part of the same picture). Search this frame now, as after a detected cut, rather
            # than show a frame without faces until the background answer arrives.
            self._force_full = True
            detections, full = self._detect_in_frame(frame, frame_index)
        return detections, full

    def _detect_in_frame(self, frame: np.ndarray, frame_index: int) -> tuple[list[Detection], bool]:
        """Full cascade on this frame when due (or forced), else O-Net refinement of the tracked boxes."""
        s = self._settings
        full = self._force_full or not self._tracker.tracks or frame_index % s.full_detect_every == 0
        if full:
            detections = largest_first(self._detector.detect(frame), s.max_faces)
            self._force_full = False
            if s.background_detection:
                self._last_submit = frame_index  # this frame's search counts as the last one
            return detections, True
        refined = self._detector.refine(frame, self._tracker.boxes)
        detections = [d for d in refined if d is not None]
        self._force_full = len(detections) < len(refined)  # a face was lost: search the whole frame next
        return detections, False

    def _refine_and_merge(
        self, frame: np.ndarray, frame_index: int, shown: Mapping[int, FaceResult]
    ) -> tuple[list[Detection], bool]:
        """O-Net on tracked boxes plus any faces the background search found; hand it a frame when due.

        Returns the detections and whether a background answer was merged on this frame.
        """
        s = self._settings
        answer = self._background.take() if self._background is not None else None
        if answer is not None:
            self._merge_answer(largest_first(answer.detections, s.max_faces), shown)
        boxes = self._tracker.boxes
        if answer is not None:
            found = np.array([d.box for d in answer.detections], np.float32).reshape(-1, 4)
            overlap = iou_matrix(found, boxes).max(axis=1, initial=0.0)
            boxes = np.concatenate([boxes, found[overlap < s.iou_threshold]])[: s.max_faces]
        refined = self._detector.refine(frame, boxes)
        detections = [d for d in refined if d is not None]
        lost = len(detections) < len(refined)
        due = frame_index - self._last_submit >= s.full_detect_every
        if lost or due:
            self._submit(frame, frame_index)
        return detections, answer is not None

    def _merge_answer(self, detections: list[Detection], shown: Mapping[int, FaceResult]) -> None:
        """End tracks that the search saw in its frame's place but found no face in (O-Net drifted onto a non-face).

        A face near the smallest size the search looks for is found by one search and missed by the next (real
        photos: 35x44 and 54x72 px faces with ``min_face_size`` 60), so a miss proves nothing there: such a track
        ends only when O-Net's last score on it was not sure either. Otherwise it blinked out for ten frames and
        came back under a new id."""
        found = np.array([d.box for d in detections], np.float32).reshape(-1, 4)
        overlap = iou_matrix(self._tracker.boxes, found).max(axis=1, initial=0.0)
        stale = {
            t.face_id
            for t, o in zip(self._tracker.tracks, overlap)
            if t.face_id in self._submitted_ids and o < 0.1 and not self._below_search(shown.get(t.face_id), t.box)
        }
        if stale:
            self._tracker.drop_unseen({t.face_id for t in self._tracker.tracks} - stale)

    def _below_search(self, last: FaceResult | None, box: np.ndarray) -> bool:
        """A sure face (last O-Net score >= 0.9) too small for the search to be sure of finding it."""
        side = float(max(box[2] - box[0], box[3] - box[1]))
        return last is not None and last.score >= 0.9 and side < 1.25 * self._settings.min_face_size

    def _submit(self, frame: np.ndarray, frame_index: int) -> None:
        """Hand ``frame`` to the background search (started on first use); a busy search refuses it."""
        if self._background is None:
            self._background_detector = FaceDetector(
                live_detector_settings(self._settings), device=self._device, backend=self._settings.detector_backend
            )
            detector = self._background_detector
            self._background = BackgroundDetector(
                lambda image: largest_first(detector.detect(image), self._settings.max_faces),
                nice=self._settings.background_nice,
            )
        if self._background.submit(frame_index, frame):
            self._last_submit = frame_index
            self._submitted_ids = {t.face_id for t in self._tracker.tracks}
