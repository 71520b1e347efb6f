"""MTCNN's three nets on onnxruntime: face detection without importing torch.

Importing torch (a CUDA build here) costs ~680 MB of RSS and about a second at launch, while
MTCNN's nets are tiny; when onnxruntime serves the attribute model too, nothing on the live path
needs torch. :class:`OnnxRunner` runs the nets exported by :mod:`attricam.engine.mtcnn_export`
for :class:`attricam.engine.mtcnn.MTCNNCascade`, the one cascade; its boxes, scores and landmarks
agree with the torch runner's to float rounding (tests/test_mtcnn_onnx.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .mtcnn_export import NET_NAMES, ensure_exported

__all__ = ["OnnxRunner"]


class OnnxRunner:
    """The three nets on onnxruntime's CPU provider, numpy in and out (:class:`attricam.engine.mtcnn.MTCNNRunner`).

    ``folder`` holds ``pnet.onnx``, ``rnet.onnx`` and ``onet.onnx`` (default: exported on first use);
    ``threads``: intra-op threads per net (default 1: tiny nets, one thread each beats thread-pool overhead).
    """

    backend = "onnx"

    def __init__(self, folder: Path | None = None, threads: int | None = None) -> None:
        import onnxruntime as ort

        folder = folder or ensure_exported()
        options = ort.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = threads or 1
        self._sessions = {
            name: ort.InferenceSession(str(folder / f"{name}.onnx"), options, providers=["CPUExecutionProvider"])
            for name in NET_NAMES
        }

    def _run(self, name: str, images: np.ndarray) -> list[np.ndarray]:
        outputs: list[np.ndarray] = self._sessions[name].run(None, {"images": np.ascontiguousarray(images, np.float32)})
        return outputs

    def run_pnet(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        reg, probs = self._run("pnet", images)
        return reg, probs

    def run_rnet(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        reg, probs = self._run("rnet", patches)
        return reg, probs

    def run_onet(self, patches: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        reg, points, probs = self._run("onet", patches)
        return reg, points, probs
