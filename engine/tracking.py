"""Stable face ids across frames (greedy IoU matching) and per-face EMA smoothing.

Bars that jump every frame are unreadable; freezing the prediction (as
deepface's stream mode does) hides real change. An exponential moving average
per tracked face is the middle ground (OpenVINO's demos use IoU > 0.55 + EMA).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Track", "FaceTracker", "iou_matrix"]


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between boxes a (n, 4) and b (m, 4) as x1, y1, x2, y2 -> (n, m)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-6)


@dataclass
class Track:
    face_id: int
    box: np.ndarray
    smoothed: np.ndarray | None = None
    missed: int = 0
    age: int = 0


class FaceTracker:
    def __init__(self, *, iou_threshold: float = 0.3, ema_alpha: float = 0.4, max_missed: int = 5) -> None:
        """``ema_alpha`` is the weight of the newest frame (1.0 = no smoothing)."""
        self.iou_threshold = iou_threshold
        self.ema_alpha = ema_alpha
        self.max_missed = max_missed
        self.tracks: list[Track] = []
        self._next_id = 0

    def reset(self) -> None:
        self.tracks.clear()
        self._next_id = 0

    @property
    def boxes(self) -> np.ndarray:
        return np.array([t.box for t in self.tracks], np.float32).reshape(-1, 4)

    def assign(self, boxes: np.ndarray) -> list[int]:
        """Match this frame's boxes to tracks; returns a face id per box, creating tracks as needed.

        Tracks left unmatched age by one frame and are dropped after ``max_missed``.
        """
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        ious = iou_matrix(boxes, self.boxes)
        ids = [-1] * len(boxes)
        used: set[int] = set()
        # Greedy by descending IoU: optimal enough for the handful of faces in a frame.
        for flat in np.argsort(-ious, axis=None):
            i, j = divmod(int(flat), ious.shape[1])
            if ious[i, j] < self.iou_threshold:
                break
            if ids[i] != -1 or j in used:
                continue
            ids[i] = self.tracks[j].face_id
            used.add(j)
            self.tracks[j].box, self.tracks[j].missed = boxes[i], 0
            self.tracks[j].age += 1
        for j, track in enumerate(self.tracks):
            if j not in used:
                track.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        for i, face_id in enumerate(ids):
            if face_id == -1:
                ids[i] = self._next_id
                self.tracks.append(Track(self._next_id, boxes[i]))
                self._next_id += 1
        return ids

    def smooth(self, face_id: int, probabilities: np.ndarray) -> np.ndarray:
        """EMA of a face's probabilities; the first frame of a track passes through unchanged."""
        track = next(t for t in self.tracks if t.face_id == face_id)
        if track.smoothed is None:
            track.smoothed = probabilities.astype(np.float32).copy()
        else:
            track.smoothed = self.ema_alpha * probabilities + (1 - self.ema_alpha) * track.smoothed
        return track.smoothed.copy()

    def drop_unseen(self, seen_ids: set[int]) -> None:
        """Forget tracks not confirmed this frame (used after a full detection)."""
        for track in self.tracks:
            if track.face_id not in seen_ids:
                track.missed = self.max_missed + 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
