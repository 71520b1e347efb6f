"""MTCNN (Zhang et al., 2016) without torchvision: a port of facenet-pytorch 2.6.0's cascade.

Zhang, Zhang, Li & Qiao, "Joint Face Detection and Alignment Using Multitask Cascaded
Convolutional Networks", IEEE Signal Processing Letters 23(10), 2016.

Why this exists: importing ``facenet_pytorch`` imports torchvision (for ``batched_nms`` and a
transforms module), and torchvision pulls in ``torch._dynamo``: +1.4 s and +175 MB at launch, for
one NMS call. This module keeps facenet-pytorch's P-, R- and O-Net (same layers, same parameter
names), loads their weights from its ``data/*.pt`` state dicts (shipped in ``assets/mtcnn/``)
without executing the package, and ports ``detect_face`` plus ``MTCNN.detect``'s post-processing
op for op, so its output is the same as ``MTCNN(keep_all=True).detect(img, landmarks=True)``
(tests/test_mtcnn.py checks this on real faces). torchvision's NMS is replaced by :func:`nms`,
which follows its CPU kernel (stable descending sort, IoU without the +1, suppress when > t).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.functional import interpolate

from .assets import mtcnn_weights_dir
from .mtcnn_onnx import nms as greedy_nms
from .mtcnn_onnx import nms_min, pyramid_scales

__all__ = ["MTCNNCascade", "ONet", "PNet", "RNet", "nms", "nms_min", "weights_dir"]

_NORM_SHIFT = 127.5
_NORM_SCALE = 0.0078125
_TORCHVISION_VANILLA_NUMEL = 4000  # torchvision's batched_nms switches strategy (and tie order) above this on CPU


class PNet(nn.Module):
    """Proposal net: fully convolutional, 12 x 12 receptive field, stride 2."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, kernel_size=3)
        self.prelu1 = nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(10, 16, kernel_size=3)
        self.prelu2 = nn.PReLU(16)
        self.conv3 = nn.Conv2d(16, 32, kernel_size=3)
        self.prelu3 = nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, kernel_size=1)
        self.softmax4_1 = nn.Softmax(dim=1)
        self.conv4_2 = nn.Conv2d(32, 4, kernel_size=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(b, 3, h, w) in [-1, 1] -> regression (b, 4, h', w'), probs (b, 2, h', w')."""
        x = self.prelu1(self.conv1(x))
        x = self.pool1(x)
        x = self.prelu2(self.conv2(x))
        x = self.prelu3(self.conv3(x))
        return self.conv4_2(x), self.softmax4_1(self.conv4_1(x))


class RNet(nn.Module):
    """Refine net on 24 x 24 crops."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 28, kernel_size=3)
        self.prelu1 = nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(28, 48, kernel_size=3)
        self.prelu2 = nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(48, 64, kernel_size=2)
        self.prelu3 = nn.PReLU(64)
        self.dense4 = nn.Linear(576, 128)
        self.prelu4 = nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.softmax5_1 = nn.Softmax(dim=1)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(n, 3, 24, 24) -> regression (n, 4), probs (n, 2)."""
        x = self.pool1(self.prelu1(self.conv1(x)))  # (n, 28, 11, 11)
        x = self.pool2(self.prelu2(self.conv2(x)))  # (n, 48, 4, 4)
        x = self.prelu3(self.conv3(x))  # (n, 64, 3, 3)
        x = x.permute(0, 3, 2, 1).contiguous()  # the Caffe weights expect (w, h, c) flattening
        x = self.prelu4(self.dense4(x.view(x.shape[0], -1)))  # (n, 128)
        return self.dense5_2(x), self.softmax5_1(self.dense5_1(x))


class ONet(nn.Module):
    """Output net on 48 x 48 crops: box regression, five landmarks, face probability."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3)
        self.prelu1 = nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)
        self.prelu2 = nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(64, 64, kernel_size=3)
        self.prelu3 = nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4 = nn.Conv2d(64, 128, kernel_size=2)
        self.prelu4 = nn.PReLU(128)
        self.dense5 = nn.Linear(1152, 256)
        self.prelu5 = nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.softmax6_1 = nn.Softmax(dim=1)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(n, 3, 48, 48) -> regression (n, 4), landmarks (n, 10: five x then five y), probs (n, 2)."""
        x = self.pool1(self.prelu1(self.conv1(x)))  # (n, 32, 23, 23)
        x = self.pool2(self.prelu2(self.conv2(x)))  # (n, 64, 10, 10)
        x = self.pool3(self.prelu3(self.conv3(x)))  # (n, 64, 4, 4)
        x = self.prelu4(self.conv4(x))  # (n, 128, 3, 3)
        x = x.permute(0, 3, 2, 1).contiguous()
        x = self.prelu5(self.dense5(x.view(x.shape[0], -1)))  # (n, 256)
        return self.dense6_2(x), self.dense6_3(x), self.softmax6_1(self.dense6_1(x))


def weights_dir() -> Path:
    """The shipped MTCNN weights, see :func:`attricam.engine.assets.mtcnn_weights_dir`."""
    return mtcnn_weights_dir()


def _load(net: nn.Module, name: str) -> nn.Module:
    net.load_state_dict(torch.load(weights_dir() / f"{name}.pt", map_location="cpu", weights_only=True))
    return net.eval()


def nms(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Greedy IoU NMS as torchvision's ``batched_nms`` does it for one image on CPU.

    boxes (n, 4) x1, y1, x2, y2; scores (n,). Returns kept indices (k,) int64, best score first.
    """
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    keep = greedy_nms(boxes.detach().cpu().numpy(), scores.detach().cpu().numpy(), threshold)  # stable, best first
    kept = torch.as_tensor(np.asarray(keep, dtype=np.int64), device=boxes.device)
    if boxes.numel() > _TORCHVISION_VANILLA_NUMEL:
        # torchvision's per-class path: kept indices ascending, then re-sorted by score (unstable sort).
        kept = kept.sort()[0]
        kept = kept[scores[kept].sort(descending=True)[1]]
    return kept


def _imresample(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(b, 3, h, w) -> (b, 3, *size) by area averaging, as facenet-pytorch does."""
    return interpolate(image, size=size, mode="area")


def _normalize(image: torch.Tensor) -> torch.Tensor:
    return (image - _NORM_SHIFT) * _NORM_SCALE


def _proposals(reg: torch.Tensor, probs: torch.Tensor, scale: float, threshold: float) -> torch.Tensor:
    """P-Net maps for one image -> candidate boxes (n, 9): x1, y1, x2, y2, score, 4 regression offsets."""
    stride, cell = 2, 12
    mask = probs >= threshold  # (h', w')
    cells = mask.nonzero()  # (n, 2) row, col
    score = probs[mask]
    offsets = reg[:, mask].permute(1, 0)  # (n, 4)
    xy = cells.type(reg.dtype).flip(1)  # (n, 2) col, row
    q1 = ((stride * xy + 1) / scale).floor()
    q2 = ((stride * xy + cell - 1 + 1) / scale).floor()
    return torch.cat([q1, q2, score.unsqueeze(1), offsets], dim=1)


def _bbreg(boxes: torch.Tensor, reg: torch.Tensor) -> torch.Tensor:
    """Apply regression offsets (n, 4) to boxes (n, >= 4) in place, pixel-inclusive widths."""
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    b1 = boxes[:, 0] + reg[:, 0] * w
    b2 = boxes[:, 1] + reg[:, 1] * h
    b3 = boxes[:, 2] + reg[:, 2] * w
    b4 = boxes[:, 3] + reg[:, 3] * h
    boxes[:, :4] = torch.stack([b1, b2, b3, b4]).permute(1, 0)
    return boxes


def _rerec(boxes: torch.Tensor) -> torch.Tensor:
    """Square boxes (n, >= 4) in place around their centres."""
    h = boxes[:, 3] - boxes[:, 1]
    w = boxes[:, 2] - boxes[:, 0]
    side = torch.max(w, h)
    boxes[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    boxes[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    boxes[:, 2:4] = boxes[:, :2] + side.repeat(2, 1).permute(1, 0)
    return boxes


def _crops(image: torch.Tensor, boxes: torch.Tensor, size: int) -> tuple[torch.Tensor, np.ndarray]:
    """Crops of boxes (n, >= 4) clipped to image (1, 3, h, w) -> (m, 3, size, size) normalized, and which boxes (m,).

    Uses facenet-pytorch's 1-based clipping (``pad``). A box wholly outside the image has no crop;
    facenet-pytorch then fails on mismatched shapes, here the box is dropped.
    """
    h, w = image.shape[2:4]
    corners = boxes[:, :4].trunc().int().cpu().numpy()  # (n, 4)
    x, y = np.maximum(corners[:, 0], 1), np.maximum(corners[:, 1], 1)
    ex, ey = np.minimum(corners[:, 2], w), np.minimum(corners[:, 3], h)
    valid = np.flatnonzero((ey > y - 1) & (ex > x - 1))
    patches = [_imresample(image[0, :, y[k] - 1 : ey[k], x[k] - 1 : ex[k]].unsqueeze(0), (size, size)) for k in valid]
    if not patches:
        return image.new_empty((0, 3, size, size)), valid
    return _normalize(torch.cat(patches, dim=0)), valid


def _batched(net: nn.Module, data: torch.Tensor, batch_size: int = 512) -> tuple[torch.Tensor, ...]:
    """``net(data)`` in chunks of 512, as facenet-pytorch runs R- and O-Net."""
    outs = [net(data[i : i + batch_size]) for i in range(0, len(data), batch_size)]
    return tuple(torch.cat(v, dim=0) for v in zip(*outs))


class MTCNNCascade:
    """The three-stage MTCNN on one RGB image; ``detect`` matches ``facenet_pytorch.MTCNN(keep_all=True).detect``.

    ``min_face_size`` (pixels) and ``thresholds`` (P, R, O score cut-offs) may be changed between calls.
    """

    def __init__(
        self,
        min_face_size: int = 20,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
        factor: float = 0.709,
        device: str | torch.device = "cpu",
    ) -> None:
        self.min_face_size = min_face_size
        self.thresholds = tuple(thresholds)
        self.factor = factor
        self.device = torch.device(device)
        self.pnet = _load(PNet(), "pnet").to(self.device)
        self.rnet = _load(RNet(), "rnet").to(self.device)
        self.onet = _load(ONet(), "onet").to(self.device)

    @torch.inference_mode()
    def _cascade(self, rgb: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (h, w, 3) -> boxes (n, 5: x1, y1, x2, y2, score), landmarks (n, 5, 2)."""
        t = self.thresholds
        # NHWC viewed as NCHW (channels-last strides), exactly as facenet-pytorch builds it.
        image = torch.as_tensor(rgb.copy(), device=self.device).unsqueeze(0).permute(0, 3, 1, 2).float()
        h, w = image.shape[2:4]
        empty = (image.new_zeros((0, 5)), image.new_zeros((0, 5, 2)))

        per_scale = []
        for scale in pyramid_scales(h, w, self.min_face_size, self.factor):
            reg, probs = self.pnet(_normalize(_imresample(image, (int(h * scale + 1), int(w * scale + 1)))))
            found = _proposals(reg[0], probs[0, 1], scale, t[0])  # (n, 9)
            per_scale.append(found[nms(found[:, :4], found[:, 4], 0.5)])
        if not per_scale:
            return empty
        boxes = torch.cat(per_scale, dim=0)
        boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
        if len(boxes) == 0:
            return empty
        w_reg = boxes[:, 2] - boxes[:, 0]
        h_reg = boxes[:, 3] - boxes[:, 1]
        refined = torch.stack(
            [
                boxes[:, 0] + boxes[:, 5] * w_reg,
                boxes[:, 1] + boxes[:, 6] * h_reg,
                boxes[:, 2] + boxes[:, 7] * w_reg,
                boxes[:, 3] + boxes[:, 8] * h_reg,
                boxes[:, 4],
            ]
        ).permute(1, 0)  # (n, 5)
        boxes = _rerec(refined)

        data, valid = _crops(image, boxes, 24)
        if len(valid) == 0:
            return empty
        boxes = boxes[torch.as_tensor(valid, device=self.device)]
        reg, probs = _batched(self.rnet, data)  # (n, 4), (n, 2)
        score = probs[:, 1]
        passed = score > t[1]
        boxes = torch.cat((boxes[passed, :4], score[passed].unsqueeze(1)), dim=1)
        reg = reg[passed]
        pick = nms(boxes[:, :4], boxes[:, 4], 0.7)
        boxes = _rerec(_bbreg(boxes[pick], reg[pick]))
        if len(boxes) == 0:
            return empty

        data, valid = _crops(image, boxes, 48)
        if len(valid) == 0:
            return empty
        boxes = boxes[torch.as_tensor(valid, device=self.device)]
        reg, points, probs = _batched(self.onet, data)  # (n, 4), (n, 10), (n, 2)
        score = probs[:, 1]
        passed = score > t[2]
        points = points[passed].permute(1, 0)  # (10, n)
        boxes = torch.cat((boxes[passed, :4], score[passed].unsqueeze(1)), dim=1)
        reg = reg[passed]
        w_i = boxes[:, 2] - boxes[:, 0] + 1
        h_i = boxes[:, 3] - boxes[:, 1] + 1
        points_x = w_i.repeat(5, 1) * points[:5, :] + boxes[:, 0].repeat(5, 1) - 1
        points_y = h_i.repeat(5, 1) * points[5:10, :] + boxes[:, 1].repeat(5, 1) - 1
        points = torch.stack((points_x, points_y)).permute(2, 1, 0)  # (n, 5, 2)
        boxes = _bbreg(boxes, reg)
        pick = torch.as_tensor(nms_min(boxes[:, :4].cpu().numpy(), boxes[:, 4].cpu().numpy(), 0.7), device=self.device)
        return boxes[pick], points[pick]

    def detect(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | tuple[None, None, None]:
        """RGB uint8 (h, w, 3) -> boxes (n, 4) float32 x1, y1, x2, y2; probs (n,) float32; landmarks (n, 5, 2) float32.

        Largest box first (facenet-pytorch's default ``select_largest=True`` order); ``(None, None, None)`` when
        no face is found.
        """
        boxes, points = self._cascade(rgb)
        boxes, points = boxes.cpu().numpy(), points.cpu().numpy()
        if len(boxes) == 0:
            return None, None, None
        order = np.argsort((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))[::-1]
        boxes, points = boxes[order], points[order]
        return np.ascontiguousarray(boxes[:, :4]), np.ascontiguousarray(boxes[:, 4]), np.ascontiguousarray(points)

    def run_onet(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n, 3, 48, 48) normalized float32 -> regression (n, 4), landmarks (n, 10), probs (n, 2) as numpy."""
        with torch.inference_mode():
            reg, points, probs = self.onet(torch.from_numpy(np.ascontiguousarray(patches, np.float32)).to(self.device))
        return reg.cpu().numpy(), points.cpu().numpy(), probs.cpu().numpy()
