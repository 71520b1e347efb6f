"""MTCNN's P-, R- and O-Net in torch (facenet-pytorch 2.6.0's layers and parameter names) and their runner.

The weights are facenet-pytorch's ``data/*.pt`` state dicts, shipped in ``assets/mtcnn/`` and loaded
without executing that package (which would import torchvision: +1.4 s and +175 MB at launch).
:class:`TorchRunner` runs the nets for :class:`attricam.engine.mtcnn.MTCNNCascade` on any torch device;
:mod:`attricam.engine.mtcnn_export` exports the same nets to ONNX.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .assets import mtcnn_weights_dir

__all__ = ["NETS", "ONet", "PNet", "RNet", "TorchRunner", "load_net"]

_BATCH = 512
"""R- and O-Net run in chunks of this many crops, as facenet-pytorch runs them."""


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


NETS: dict[str, type[nn.Module]] = {"pnet": PNet, "rnet": RNet, "onet": ONet}
"""The three nets by the names of their weight files."""


def load_net(name: str) -> nn.Module:
    """P-, R- or O-Net (``name`` in :data:`NETS`) with its shipped weights, in eval mode, on the CPU."""
    net = NETS[name]()
    net.load_state_dict(torch.load(mtcnn_weights_dir() / f"{name}.pt", map_location="cpu", weights_only=True))
    return net.eval()


class TorchRunner:
    """The three nets on a torch device, numpy in and out (:class:`attricam.engine.mtcnn.MTCNNRunner`)."""

    backend = "torch"

    def __init__(self, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.pnet = load_net("pnet").to(self.device)
        self.rnet = load_net("rnet").to(self.device)
        self.onet = load_net("onet").to(self.device)

    @torch.inference_mode()
    def _run(self, net: nn.Module, data: np.ndarray, batch_size: int | None = None) -> tuple[np.ndarray, ...]:
        """``net(data)`` (in chunks of ``batch_size`` when given) -> its outputs as numpy."""
        inputs = torch.from_numpy(np.ascontiguousarray(data, np.float32)).to(self.device)
        step = batch_size or max(len(inputs), 1)
        chunks = [net(inputs[i : i + step]) for i in range(0, len(inputs), step)]
        return tuple(torch.cat(outputs, dim=0).cpu().numpy() for outputs in zip(*chunks))

    def run_pnet(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        reg, probs = self._run(self.pnet, images)
        return reg, probs

    def run_rnet(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        reg, probs = self._run(self.rnet, patches, _BATCH)
        return reg, probs

    def run_onet(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        reg, points, probs = self._run(self.onet, patches, _BATCH)
        return reg, points, probs
