"""Face detection with MTCNN (Zhang et al., 2016), facenet-pytorch's weights and cascade.

Two entry points:

* :meth:`FaceDetector.detect` — the full three-stage cascade. Its P-Net image
  pyramid dominates the cost, so large frames are first downscaled to
  ``detect_max_side`` (faces smaller than ``min_face_size`` are not searched).
* :meth:`FaceDetector.refine` — O-Net alone on crops around known boxes. It
  returns a fresh box, score and five landmarks for each tracked face at a
  fraction of the cost; the live pipeline uses it between full detections.

MTCNN's weights are facenet-pytorch's, shipped in ``assets/mtcnn/``; nothing is downloaded. The cascade itself
is :class:`attricam.engine.mtcnn.MTCNNCascade`, a torchvision-free port that gives the same boxes, scores and
landmarks as ``facenet_pytorch.MTCNN``, with its nets on onnxruntime (:mod:`attricam.engine.mtcnn_onnx`, which
lets the live app run without importing torch, ~680 MB RSS) or torch (:mod:`attricam.engine.mtcnn_torch`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .mtcnn import DEFAULT_THRESHOLDS, MTCNNCascade, MTCNNRunner, normalize

__all__ = ["Detection", "DetectorSettings", "FaceDetector", "largest_first", "make_cascade"]


@dataclass(frozen=True)
class Detection:
    """One face in frame pixel coordinates."""

    box: np.ndarray  # (4,) float32: x1, y1, x2, y2
    score: float
    landmarks: np.ndarray  # (5, 2) float32: left eye, right eye, nose, mouth left, mouth right


def largest_first(detections: list[Detection], limit: int) -> list[Detection]:
    """The ``limit`` largest faces, largest first: each face kept costs a classification."""
    return sorted(detections, key=_box_area, reverse=True)[:limit]


def _box_area(detection: Detection) -> float:
    x1, y1, x2, y2 = detection.box
    return float((x2 - x1) * (y2 - y1))


@dataclass(frozen=True)
class DetectorSettings:
    min_face_size: int = 40
    """Smallest face searched by the full detector, in frame pixels."""
    detect_max_side: int = 320
    """Frames whose long side exceeds this are downscaled before the P-Net pyramid."""
    thresholds: tuple[float, float, float] = DEFAULT_THRESHOLDS
    refine_threshold: float = 0.6
    """O-Net score below which a tracked face counts as lost."""
    refine_margin: float = 0.05
    """Each tracked box grows by this fraction before O-Net sees it, so a moving face stays inside.
    O-Net was trained on tight boxes: at 0.15 its score on a clean face dropped to 0.45, at 0.05 it stays > 0.9."""
    occlusion_retry: bool = True
    """When nothing is found, paint over solid black blocks (privacy bars, as in parts of CelebA) and retry
    with relaxed thresholds. Costs time only on frames without a face; the live pipeline turns it off."""


_ONET_SIZE = 48
_RELAXED_THRESHOLDS = (0.5, 0.6, 0.6)


def _solid_black_blocks(image: np.ndarray) -> np.ndarray:
    """uint8 mask of near-black areas at least 9 x 9 pixels wide, slightly grown."""
    dark = (image.max(axis=2) < 24).astype(np.uint8)
    blocks = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((9, 9), np.uint8))
    return cv2.dilate(blocks, np.ones((5, 5), np.uint8))


def _onnx_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def make_cascade(backend: str = "auto", device: str = "cpu", threads: int | None = None) -> MTCNNCascade:
    """MTCNN with its nets on ``backend``: 'onnx' (onnxruntime, no torch import), 'torch', or 'auto' (onnx on CPU
    when installed).

    The ONNX nets are exported from the shipped weights on first use (that one time imports torch).
    """
    if backend == "auto":
        backend = "onnx" if str(device) == "cpu" and _onnx_available() else "torch"
    runner: MTCNNRunner
    if backend == "onnx":
        from .mtcnn_onnx import OnnxRunner

        runner = OnnxRunner(threads=threads)
    elif backend == "torch":
        from .mtcnn_torch import TorchRunner

        runner = TorchRunner(device=device)
    else:
        raise ValueError(f"unknown detector backend {backend!r}; choose torch, onnx or auto")
    return MTCNNCascade(runner)


def _square(boxes: np.ndarray, grow: float = 0.0) -> np.ndarray:
    """Square boxes around their centres (MTCNN's ``rerec``), optionally enlarged."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h) * (1.0 + grow)
    cx = boxes[:, 0] + w / 2
    cy = boxes[:, 1] + h / 2
    return np.stack([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], axis=1)


def _crop_patch(image: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """Crop ``box`` (may leave the image; outside is black) and resize to size x size."""
    x1, y1, x2, _ = box
    scale = size / max(x2 - x1, 1e-3)
    matrix = np.array([[scale, 0, -x1 * scale], [0, scale, -y1 * scale]], dtype=np.float32)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(image, matrix, (size, size), flags=interpolation, borderMode=cv2.BORDER_CONSTANT)


class FaceDetector:
    def __init__(
        self,
        settings: DetectorSettings | None = None,
        device: str = "cpu",
        backend: str = "auto",
        threads: int | None = None,
    ) -> None:
        self.settings = settings or DetectorSettings()
        self.device = str(device)
        self._mtcnn = make_cascade(backend, self.device, threads)
        self.backend = self._mtcnn.backend

    def with_settings(self, settings: DetectorSettings) -> FaceDetector:
        self.settings = settings
        return self

    def detect(self, image: np.ndarray, settings: DetectorSettings | None = None) -> list[Detection]:
        """Full cascade on an RGB uint8 image (h, w, 3), with the occlusion retry when enabled.

        ``settings`` apply to this call only (stills look for smaller faces and retry occlusions); the detector's
        own settings are left as they are."""
        s = settings or self.settings
        found = self._detect(image, s, s.thresholds)
        if found or not s.occlusion_retry:
            return found
        mask = _solid_black_blocks(image)
        if not mask.any():
            return []
        repaired = cv2.inpaint(image, mask, 3, cv2.INPAINT_TELEA)
        return self._detect(repaired, s, _RELAXED_THRESHOLDS)

    def _detect(
        self, image: np.ndarray, s: DetectorSettings, thresholds: tuple[float, float, float]
    ) -> list[Detection]:
        self._mtcnn.thresholds = tuple(thresholds)
        h, w = image.shape[:2]
        # Downscale so that the smallest wanted face maps to MTCNN's 20 px and the long side fits.
        scale = min(1.0, 20.0 / max(s.min_face_size, 1), s.detect_max_side / max(h, w))
        small = image
        if scale < 1.0:
            small = cv2.resize(
                image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
            )
        self._mtcnn.min_face_size = max(12, round(s.min_face_size * scale))
        boxes, scores, points = self._mtcnn.detect(np.ascontiguousarray(small))
        if boxes is None or scores is None or points is None:
            return []
        sx = w / small.shape[1]
        sy = h / small.shape[0]
        factor = np.array([sx, sy, sx, sy], dtype=np.float32)
        return [
            Detection(
                box=(np.asarray(b, dtype=np.float32) * factor),
                score=float(p),
                landmarks=(np.asarray(lm, dtype=np.float32) * np.array([sx, sy], dtype=np.float32)),
            )
            for b, p, lm in zip(boxes, scores, points)
        ]

    def refine(self, image: np.ndarray, boxes: np.ndarray) -> list[Detection | None]:
        """O-Net on known boxes (n, 4); ``None`` where the face was lost."""
        if len(boxes) == 0:
            return []
        squares = _square(np.asarray(boxes, dtype=np.float32), grow=self.settings.refine_margin)
        patches = np.stack([_crop_patch(image, sq, _ONET_SIZE) for sq in squares])
        regression, points, probs = self._mtcnn.run_onet(normalize(patches.transpose(0, 3, 1, 2)))
        scores = probs[:, 1]
        results: list[Detection | None] = []
        for sq, reg, pts, score in zip(squares, regression, points, scores):
            if score < self.settings.refine_threshold:
                results.append(None)
                continue
            side = sq[2] - sq[0]
            box = sq + reg * side
            landmarks = np.stack([sq[0] + pts[:5] * side, sq[1] + pts[5:] * side], axis=1)
            results.append(
                Detection(box=box.astype(np.float32), score=float(score), landmarks=landmarks.astype(np.float32))
            )
        return results
