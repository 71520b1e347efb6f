"""MTCNN (Zhang et al., 2016): the three-stage cascade, once, in numpy, over a runner of its three nets.

Zhang, Zhang, Li & Qiao, "Joint Face Detection and Alignment Using Multitask Cascaded
Convolutional Networks", IEEE Signal Processing Letters 23(10), 2016.

The cascade is a port of facenet-pytorch 2.6.0's ``detect_face`` plus ``MTCNN.detect``'s
post-processing, step for step in float32 numpy: an image pyramid through P-Net, proposals, NMS,
box regression and squaring, 24 px crops through R-Net, 48 px crops through O-Net (boxes, scores
and five landmarks). Area resampling is done as separable window means, as torch's
``interpolate(mode='area')`` does; NMS follows torchvision's CPU kernel (stable descending sort, IoU
without the +1, suppress when > t). Its output matches ``facenet_pytorch.MTCNN(keep_all=True).detect``
(tests/test_mtcnn.py) without importing facenet-pytorch or torchvision.

The nets run wherever a :class:`MTCNNRunner` runs them: :class:`attricam.engine.mtcnn_torch.TorchRunner`
(torch, any device) or :class:`attricam.engine.mtcnn_onnx.OnnxRunner` (onnxruntime, no torch import,
~680 MB less RSS). Both take and return numpy, so the cascade, its normalisation and its thresholds
exist once. This module imports neither runtime.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = [
    "DEFAULT_THRESHOLDS",
    "MTCNNCascade",
    "MTCNNRunner",
    "area_resize",
    "nms",
    "nms_min",
    "normalize",
    "pyramid_scales",
]

DEFAULT_THRESHOLDS: tuple[float, float, float] = (0.6, 0.7, 0.7)
"""P-, R- and O-Net score cut-offs (facenet-pytorch's defaults)."""
DEFAULT_FACTOR = 0.709
"""The image pyramid's scale step."""
_NORM_SHIFT = np.float32(127.5)
_NORM_SCALE = np.float32(0.0078125)
_RNET_SIZE, _ONET_SIZE = 24, 48


class MTCNNRunner(Protocol):
    """MTCNN's three nets on some runtime: normalised float32 (n, 3, h, w) in, numpy out."""

    backend: str
    """``"torch"`` or ``"onnx"``: what :class:`attricam.engine.detection.FaceDetector` reports."""

    def run_pnet(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(1, 3, h, w) -> regression (1, 4, h', w'), probs (1, 2, h', w')."""
        ...

    def run_rnet(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, 3, 24, 24) -> regression (n, 4), probs (n, 2)."""
        ...

    def run_onet(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n, 3, 48, 48) -> regression (n, 4), landmarks (n, 10: five x then five y), probs (n, 2)."""
        ...


def normalize(pixels: np.ndarray) -> np.ndarray:
    """Pixel values in [0, 255] -> MTCNN's input range [-1, 1], float32 (any shape)."""
    return (np.asarray(pixels, np.float32) - _NORM_SHIFT) * _NORM_SCALE


def _area_axis(x: np.ndarray, size_out: int, axis: int) -> np.ndarray:
    """Means over windows [floor(i*n/out), ceil((i+1)*n/out)) along ``axis``, as adaptive average pooling does.

    Window sums come from a float64 running sum, so the cost is linear in the input whatever the scale.
    """
    size_in = x.shape[axis]
    i = np.arange(size_out)
    start = (i * size_in) // size_out
    end = -((-(i + 1) * size_in) // size_out)
    shape = list(x.shape)
    shape[axis] = 1
    running = np.concatenate([np.zeros(shape), np.cumsum(x, axis=axis, dtype=np.float64)], axis=axis)
    sums = np.take(running, end, axis=axis) - np.take(running, start, axis=axis)
    counts = (end - start).reshape([-1 if k == axis else 1 for k in range(x.ndim)])
    return np.asarray(sums / counts, np.float32)


def area_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """(3, h, w) float32 -> (3, height, width): torch's ``interpolate(mode='area')``, one axis at a time."""
    return _area_axis(_area_axis(image, height, axis=1), width, axis=2)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy IoU NMS as torchvision's CPU kernel does it: boxes (n, 4), scores (n,) -> kept indices, best first."""
    if len(boxes) == 0:
        return np.empty((0,), np.int64)
    order = np.argsort(-scores, kind="stable")
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    suppressed = np.zeros(len(order), bool)
    keep = []
    for position, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[position + 1 :]
        w = np.maximum(np.float32(0), np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(np.float32(0), np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        overlap = inter / (areas[i] + areas[rest] - inter)
        suppressed[rest[overlap.astype(np.float64) > threshold]] = True
    return np.asarray(keep, np.int64)


def nms_min(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """facenet-pytorch's ``nms_numpy(..., 'Min')``: overlap over the smaller area, pixel-inclusive (+1).

    boxes (n, 4), scores (n,) float32. Returns kept indices (k,), best score first.
    """
    if boxes.size == 0:
        return np.empty((0,), dtype=np.int64)
    x1, y1, x2, y2 = (boxes[:, j].copy() for j in range(4))
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores)  # ascending; the best is last
    keep = []
    while order.size > 0:
        i = order[-1]
        keep.append(i)
        rest = order[:-1]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        overlap = w * h / np.minimum(area[i], area[rest])
        order = rest[overlap <= threshold]
    return np.asarray(keep, dtype=np.int64)


def pyramid_scales(h: int, w: int, min_face_size: float, factor: float) -> list[float]:
    """Image pyramid: the smallest face maps to P-Net's 12 px, then shrink by ``factor`` down to 12 px."""
    m = 12.0 / min_face_size
    min_side = min(h, w) * m
    scales, scale = [], m
    while min_side >= 12:
        scales.append(scale)
        scale *= factor
        min_side *= factor
    return scales


def _proposals(reg: np.ndarray, probs: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """P-Net maps reg (4, h', w'), probs (h', w') -> candidates (n, 9): box, score, 4 offsets."""
    mask = probs >= threshold
    rows, cols = np.nonzero(mask)
    xy = np.stack([cols, rows], axis=1).astype(np.float32)  # (n, 2)
    q1 = np.floor((2 * xy + 1) / np.float32(scale))
    q2 = np.floor((2 * xy + 12) / np.float32(scale))
    return np.concatenate([q1, q2, probs[mask][:, None], reg[:, mask].T], axis=1).astype(np.float32)


def _bbreg(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """Regression offsets (n, 4) applied to boxes (n, >= 4), pixel-inclusive widths; a new array."""
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    boxes = boxes.copy()
    boxes[:, :4] = np.stack(
        [
            boxes[:, 0] + reg[:, 0] * w,
            boxes[:, 1] + reg[:, 1] * h,
            boxes[:, 2] + reg[:, 2] * w,
            boxes[:, 3] + reg[:, 3] * h,
        ],
        axis=1,
    )
    return boxes


def _rerec(boxes: np.ndarray) -> np.ndarray:
    """Boxes (n, >= 4) squared around their centres; a new array."""
    boxes = boxes.copy()
    h = boxes[:, 3] - boxes[:, 1]
    w = boxes[:, 2] - boxes[:, 0]
    side = np.maximum(w, h)
    boxes[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    boxes[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    boxes[:, 2:4] = boxes[:, :2] + side[:, None]
    return boxes


def _crops(image: np.ndarray, boxes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Crops of boxes from image (3, h, w) -> (m, 3, size, size) normalised, and which boxes (m,).

    facenet-pytorch's 1-based clipping (``pad``). A box wholly outside the image has no crop; facenet-pytorch
    then fails on mismatched shapes, here the box is dropped.
    """
    h, w = image.shape[1:3]
    corners = np.trunc(boxes[:, :4]).astype(np.int64)
    x, y = np.maximum(corners[:, 0], 1), np.maximum(corners[:, 1], 1)
    ex, ey = np.minimum(corners[:, 2], w), np.minimum(corners[:, 3], h)
    valid = np.flatnonzero((ey > y - 1) & (ex > x - 1))
    patches = [area_resize(image[:, y[k] - 1 : ey[k], x[k] - 1 : ex[k]], size, size) for k in valid]
    if not patches:
        return np.zeros((0, 3, size, size), np.float32), valid
    return normalize(np.stack(patches)), valid


def _apply_proposal_regression(boxes: np.ndarray) -> np.ndarray:
    """P-Net candidates (n, 9: box, score, regression) -> boxes moved by their regression (n, 5), as facenet-pytorch."""
    w_reg = boxes[:, 2] - boxes[:, 0]
    h_reg = boxes[:, 3] - boxes[:, 1]
    return np.stack(
        [
            boxes[:, 0] + boxes[:, 5] * w_reg,
            boxes[:, 1] + boxes[:, 6] * h_reg,
            boxes[:, 2] + boxes[:, 7] * w_reg,
            boxes[:, 3] + boxes[:, 8] * h_reg,
            boxes[:, 4],
        ],
        axis=1,
    )  # (n, 5)


def _landmarks_in_image(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """O-Net's landmarks (n, 10: five x then five y, relative to the box) -> pixels (n, 5, 2) float32."""
    w_i = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
    h_i = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
    points_x = w_i * points[:, :5] + boxes[:, 0:1] - 1
    points_y = h_i * points[:, 5:] + boxes[:, 1:2] - 1
    return np.stack([points_x, points_y], axis=2).astype(np.float32)


class MTCNNCascade:
    """The three-stage MTCNN on one RGB image; ``detect`` matches ``facenet_pytorch.MTCNN(keep_all=True).detect``.

    ``runner`` runs the three nets (:class:`MTCNNRunner`). ``min_face_size`` (pixels) and ``thresholds``
    (P, R, O score cut-offs) may be changed between calls, as on facenet-pytorch's ``MTCNN``.
    """

    def __init__(
        self,
        runner: MTCNNRunner,
        min_face_size: int = 20,
        thresholds: tuple[float, float, float] = DEFAULT_THRESHOLDS,
        factor: float = DEFAULT_FACTOR,
    ) -> None:
        self.runner = runner
        self.min_face_size = min_face_size
        self.thresholds: tuple[float, ...] = tuple(thresholds)
        self.factor = factor

    @property
    def backend(self) -> str:
        """The runtime of the nets: ``"torch"`` or ``"onnx"``."""
        return self.runner.backend

    def run_onet(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n, 3, 48, 48) normalised -> regression (n, 4), landmarks (n, 10), probs (n, 2)."""
        return self.runner.run_onet(np.ascontiguousarray(patches, np.float32))

    def _cascade(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (h, w, 3) -> boxes (n, 5: x1, y1, x2, y2, score), landmarks (n, 5, 2)."""
        image = np.ascontiguousarray(rgb.transpose(2, 0, 1), np.float32)  # (3, h, w)
        empty = (np.zeros((0, 5), np.float32), np.zeros((0, 5, 2), np.float32))
        boxes = self._pnet_proposals(image)
        if len(boxes) == 0:
            return empty
        boxes = _rerec(_apply_proposal_regression(boxes))
        data, valid = _crops(image, boxes, _RNET_SIZE)
        if len(valid) == 0:
            return empty
        boxes = self._rnet_refine(boxes[valid], data)
        if len(boxes) == 0:
            return empty
        data, valid = _crops(image, boxes, _ONET_SIZE)
        if len(valid) == 0:
            return empty
        return self._onet_output(boxes[valid], data)

    def _pnet_proposals(self, image: np.ndarray) -> np.ndarray:
        """(3, h, w) -> P-Net's candidates over the pyramid (n, 9: box, score, regression), NMS within and across
        scales; (0, 9) when the image is smaller than the smallest face."""
        h, w = image.shape[1:3]
        per_scale: list[np.ndarray] = []
        for scale in pyramid_scales(h, w, self.min_face_size, self.factor):
            scaled = normalize(area_resize(image, int(h * scale + 1), int(w * scale + 1)))
            reg, probs = self.runner.run_pnet(scaled[None])
            found = _proposals(reg[0], probs[0, 1], scale, self.thresholds[0])
            per_scale.append(found[nms(found[:, :4], found[:, 4], 0.5)])
        if not per_scale:
            return np.zeros((0, 9), np.float32)
        boxes = np.concatenate(per_scale)
        kept: np.ndarray = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
        return kept

    def _rnet_refine(self, boxes: np.ndarray, data: np.ndarray) -> np.ndarray:
        """R-Net on the (n, 3, 24, 24) crops of ``boxes``: the survivors, regressed and squared (m, 5)."""
        reg, probs = self.runner.run_rnet(data)  # (n, 4), (n, 2)
        score = probs[:, 1]
        passed = score > self.thresholds[1]
        boxes = np.concatenate([boxes[passed, :4], score[passed, None]], axis=1)
        reg = reg[passed]
        pick = nms(boxes[:, :4], boxes[:, 4], 0.7)
        return _rerec(_bbreg(boxes[pick], reg[pick]))

    def _onet_output(self, boxes: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """O-Net on the (n, 3, 48, 48) crops of ``boxes``: final boxes (m, 5) and landmarks (m, 5, 2) in pixels."""
        reg, points, probs = self.runner.run_onet(data)  # (n, 4), (n, 10), (n, 2)
        score = probs[:, 1]
        passed = score > self.thresholds[2]
        boxes = np.concatenate([boxes[passed, :4], score[passed, None]], axis=1)
        points = _landmarks_in_image(points[passed], boxes)
        boxes = _bbreg(boxes, reg[passed])
        pick = nms_min(boxes[:, :4], boxes[:, 4], 0.7)
        return boxes[pick], points[pick]

    def detect(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | tuple[None, None, None]:
        """RGB uint8 (h, w, 3) -> boxes (n, 4) x1, y1, x2, y2; probs (n,); landmarks (n, 5, 2); float32.

        Largest box first (facenet-pytorch's default ``select_largest=True`` order); ``(None, None, None)`` when
        no face is found.
        """
        boxes, points = self._cascade(rgb)
        if len(boxes) == 0:
            return None, None, None
        order = np.argsort((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))[::-1]
        boxes, points = boxes[order].astype(np.float32), points[order]
        return np.ascontiguousarray(boxes[:, :4]), np.ascontiguousarray(boxes[:, 4]), np.ascontiguousarray(points)
