"""Scene cuts and face swaps: when a track must not carry its id and smoothed bars any further.

IoU matching alone hands a face id to whoever stands where the last person
stood: after a hard cut in edited video, or when one person replaces another
in the same spot, the new face inherits the old id and the EMA blends the two
people's attributes. Two cheap checks prevent that:

* :class:`CutDetector` compares each frame's colour histogram with the previous
  frame's (a classic shot-boundary test). A cut ends every track.
* :func:`appearance_signature` / :func:`appearance_distance` compare a face's
  look with the same track's look in the previous frame. A large jump ends that
  one track, which catches a swap on an unchanged background.

Both work on tiny images (a 64 x 36 frame, a 16 x 16 face), costing well under a
millisecond per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["CutDetector", "appearance_signature", "appearance_distance"]

_FRAME_THUMB = (64, 36)
_FACE_THUMB = 16


@dataclass
class CutDetector:
    """Flags a frame whose hue/saturation/value histogram differs sharply from the previous frame's.

    ``threshold`` is a Hellinger (Bhattacharyya) distance in [0, 1]: pans, zooms and people moving
    stay below ~0.2 on real footage; cuts between different shots are usually above 0.4.
    """

    threshold: float = 0.35
    _previous: np.ndarray | None = None

    def reset(self) -> None:
        self._previous = None

    def distance(self, frame: np.ndarray) -> float:
        """Histogram distance of this RGB frame (h, w, 3) to the previous one (0.0 for the first frame)."""
        small = cv2.resize(frame, _FRAME_THUMB, interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        hist = cv2.calcHist([hsv], [0, 1, 2], None, [12, 4, 4], [0, 180, 0, 256, 0, 256]).astype(np.float32)
        hist /= max(float(hist.sum()), 1.0)
        previous, self._previous = self._previous, hist
        if previous is None:
            return 0.0
        return float(cv2.compareHist(previous, hist, cv2.HISTCMP_BHATTACHARYYA))

    def is_cut(self, frame: np.ndarray) -> bool:
        return self.distance(frame) > self.threshold


def appearance_signature(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """A face's look as a (3, 16, 16) float32 array: the box's pixels in Lab, downscaled.

    Lab keeps skin tone and hair colour (a and b) apart from lighting (L), so the distance below can
    weigh them. A box partly outside the frame is clipped; an empty box gives zeros.
    """
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = (round(v) for v in box)
    x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return np.zeros((3, _FACE_THUMB, _FACE_THUMB), np.float32)
    crop = cv2.resize(frame[y1:y2, x1:x2], (_FACE_THUMB, _FACE_THUMB), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    return np.ascontiguousarray(lab.transpose(2, 0, 1))


def appearance_distance(a: np.ndarray, b: np.ndarray) -> float:
    """How different two signatures look, 0 (same) to ~1+ (different people).

    The mean of 1 - correlation of the lightness pattern (face layout, hair line, glasses) and the
    mean absolute colour difference of the a/b channels (scaled so ~25 levels count as 1).
    """
    la, lb = a[0].ravel() - a[0].mean(), b[0].ravel() - b[0].mean()
    denominator = float(np.linalg.norm(la) * np.linalg.norm(lb))
    correlation = float(la @ lb) / denominator if denominator > 1e-6 else 0.0
    colour = float(np.abs(a[1:] - b[1:]).mean()) / 25.0
    return 0.5 * (1.0 - correlation) + 0.5 * colour
