"""Five-point similarity alignment to AttriCam's canonical face frame.

The canonical frame is CelebA's own: 178 x 218 pixels, face centred with hair,
ears, neck and collar in view (what Wearing_Hat, Wearing_Necktie or
Receding_Hairline need). The landmark template is the mean MTCNN landmark
position over 381 CelebA train images (measured with ``FaceDetector.detect``),
made left-right symmetric so that a horizontally flipped crop is again a valid
crop. Training and live inference both call :func:`align_face`, so the model
always sees the same framing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["ALIGNER_VERSION", "CANONICAL_FRAME", "CANONICAL_LANDMARKS", "AlignedFace", "align_face", "template_for"]

ALIGNER_VERSION = 1
"""Bump when the template or warp changes: training caches are keyed by it."""

CANONICAL_FRAME = (178.0, 218.0)  # width, height
CANONICAL_LANDMARKS = np.array(
    [
        [69.64, 112.15],  # left eye (image left)
        [108.36, 112.15],  # right eye
        [89.00, 136.38],  # nose tip
        [71.81, 153.55],  # mouth left
        [106.19, 153.55],  # mouth right
    ],
    dtype=np.float32,
)


@dataclass(frozen=True)
class AlignedFace:
    image: np.ndarray  # (height + 2*margin, width + 2*margin, 3) uint8 RGB
    matrix: np.ndarray  # (2, 3) float32: frame pixel -> crop pixel


def template_for(width: int, height: int, margin: int = 0) -> np.ndarray:
    """Canonical landmarks scaled into a width x height crop (plus a margin on every side)."""
    scale = width / CANONICAL_FRAME[0]
    offset_y = (CANONICAL_FRAME[1] * scale - height) / 2
    return CANONICAL_LANDMARKS * scale - np.array([0.0, offset_y], dtype=np.float32) + margin


def align_face(image: np.ndarray, landmarks: np.ndarray, *, width: int, height: int, margin: int = 0) -> AlignedFace:
    """Warp ``image`` (h, w, 3) so that ``landmarks`` (5, 2) land on the template.

    With ``margin > 0`` the crop keeps that many extra pixels on each side (for
    training-time random crops); its centre ``width x height`` window equals
    the crop made with ``margin=0``.
    """
    template = template_for(width, height, margin)
    # Least squares over all five points: deterministic, unlike OpenCV's robust estimators.
    matrix = _umeyama(np.asarray(landmarks, dtype=np.float64), template.astype(np.float64)).astype(np.float32)
    size = (width + 2 * margin, height + 2 * margin)
    crop = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return AlignedFace(image=crop, matrix=matrix)


def _umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (Umeyama, 1991) as a (2, 3) matrix."""
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rotation = u @ np.diag(d) @ vt
    var = src_c.var(0).sum()
    scale = (s * d).sum() / var if var > 1e-12 else 1.0
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])
