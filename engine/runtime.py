"""Run the attribute model: torch (CUDA when present) or onnxruntime (CUDA EP when present).

Both backends take aligned uint8 crops and return the same thing — sigmoid
probabilities and attention maps — so the pipeline, CLI and GUI never care
which one runs. Faces are batched: one call per frame, whatever the face count.

The ONNX twin is only trusted when it is bound to the bundle: its stamped
:func:`attricam.engine.bundle_checks.decision_hash` must equal the bundle's (an older,
unstamped export must agree with torch on a few crops instead). A stale twin
is refused (``--backend onnx``) or replaced by torch with a warning (``auto``).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .bundle import BundleError, ModelBundle
from .bundle_checks import read_bundle_hash

__all__ = [
    "BACKENDS",
    "DEVICES",
    "ClassifierOutput",
    "AttributeClassifier",
    "TorchClassifier",
    "OnnxClassifier",
    "StaleOnnxError",
    "load_classifier",
    "resolve_device",
]

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "onnx")
"""Who runs the network: ``auto`` is onnxruntime when the bundle has its ONNX twin, else torch."""
DEVICES = ("auto", "cpu", "cuda")
"""Where it runs: ``auto`` is cuda when a GPU is usable, else cpu."""
_LEGACY_PARITY_TOLERANCE = 1e-3


class StaleOnnxError(BundleError):
    """The ``.onnx`` beside a bundle holds another network (or other decisions) than the ``.pt``."""


@dataclass(frozen=True)
class ClassifierOutput:
    probabilities: np.ndarray  # (n, 40) float32
    attention: np.ndarray  # (n, layers, heads, 40, grid_h, grid_w) float32


class AttributeClassifier(Protocol):
    backend: str
    device: str

    def predict(self, crops: np.ndarray) -> ClassifierOutput:
        """crops: (n, H, W, 3) uint8 RGB aligned faces."""
        ...


def _cuda_available() -> bool:
    """A usable GPU, asked of torch when it is loaded anyway, else of onnxruntime (importing torch costs ~680 MB)."""
    if "torch" in sys.modules:
        return bool(sys.modules["torch"].cuda.is_available())
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when a GPU is usable, else 'cpu'; 'cuda' without a GPU is an error."""
    if device == "auto":
        return "cuda" if _cuda_available() else "cpu"
    if device == "cuda" and not _cuda_available():
        raise RuntimeError("--device cuda was asked for, but no CUDA GPU is available; use --device cpu")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    return device


def _to_input(crops: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32) * (1.0 / 255.0)


def _empty(bundle: ModelBundle) -> ClassifierOutput:
    c = bundle.config
    grid_h, grid_w = c.token_grid
    return ClassifierOutput(
        np.zeros((0, c.num_attributes), np.float32),
        np.zeros((0, c.layers, c.heads, c.num_attributes, grid_h, grid_w), np.float32),
    )


class TorchClassifier:
    backend = "torch"

    def __init__(self, bundle: ModelBundle, device: str = "auto") -> None:
        self.bundle = bundle
        self.device = resolve_device(device)
        self.model = bundle.build_model().to(self.device)

    def predict(self, crops: np.ndarray) -> ClassifierOutput:
        import torch

        if len(crops) == 0:
            return _empty(self.bundle)
        with torch.inference_mode():
            images = torch.from_numpy(_to_input(crops)).to(self.device)
            logits, attention = self.model(images)
        return ClassifierOutput(torch.sigmoid(logits).float().cpu().numpy(), attention.float().cpu().numpy())


class OnnxClassifier:
    backend = "onnx"

    def __init__(
        self,
        bundle: ModelBundle,
        device: str = "auto",
        onnx_path: str | Path | None = None,
        threads: int | None = None,
        *,
        verify: bool = True,
    ) -> None:
        """``verify=False`` skips the binding check (only for the export's own parity check)."""
        import onnxruntime as ort

        self.bundle = bundle
        path = Path(onnx_path) if onnx_path else bundle.onnx_path
        if path is None or not path.exists():
            raise BundleError(
                f"{path or bundle.name}: no ONNX model beside the bundle; run `attricam export-onnx` first"
            )
        self.device = resolve_device(device)
        providers = ["CPUExecutionProvider"]
        if self.device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise RuntimeError(
                    "onnxruntime has no CUDA execution provider here; use --device cpu or --backend torch"
                )
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads must sleep, not spin: beside a GUI or a training run, spinning steals the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors; named, not hidden
            raise BundleError(f"{path}: not a loadable ONNX model ({exc})") from None
        if verify:
            self._check_binding(path)

    def _check_binding(self, path: Path) -> None:
        fix = f"re-export it with `attricam export-onnx --model {bundle_path_hint(self.bundle)}` or use --backend torch"
        stamped = read_bundle_hash(self.session)
        if stamped is not None:
            if stamped != self.bundle.decision_hash:
                raise StaleOnnxError(
                    f"{path}: ONNX twin was exported from a different version of {self.bundle.name}; {fix}"
                )
            return
        crops = np.random.default_rng(0).integers(0, 256, (2, *self._input_hw(), 3), dtype=np.uint8)
        reference = TorchClassifier(self.bundle, "cpu").predict(crops).probabilities
        difference = float(np.abs(self.predict(crops).probabilities - reference).max())
        if not difference <= _LEGACY_PARITY_TOLERANCE:
            raise StaleOnnxError(
                f"{path}: ONNX twin carries no bundle hash and disagrees with {self.bundle.name} "
                f"(max |dp| = {difference:.3g}); {fix}"
            )
        log.debug("%s: unstamped ONNX twin agrees with torch (max |dp| = %.2g)", path, difference)

    def _input_hw(self) -> tuple[int, int]:
        return self.bundle.config.image_height, self.bundle.config.image_width

    def predict(self, crops: np.ndarray) -> ClassifierOutput:
        if len(crops) == 0:
            return _empty(self.bundle)
        logits, attention = self.session.run(None, {"images": _to_input(crops)})
        probabilities = 1.0 / (1.0 + np.exp(-logits))
        return ClassifierOutput(probabilities.astype(np.float32), attention.astype(np.float32))


def bundle_path_hint(bundle: ModelBundle) -> str:
    return str(bundle.path) if bundle.path else "BUNDLE.pt"


def load_classifier(
    bundle: ModelBundle, backend: str = "auto", device: str = "auto", threads: int | None = None
) -> AttributeClassifier:
    """``threads`` caps the CPU threads of the chosen runtime (None: the runtime's default, one per core)."""
    if threads and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)  # MTCNN may run on torch whatever the classifier backend
    if backend == "auto":
        if bundle.onnx_path is None or not bundle.onnx_path.exists():
            return TorchClassifier(bundle, device)
        try:
            return OnnxClassifier(bundle, device, threads=threads)
        except BundleError as exc:  # stale or unloadable twin: torch computes the same from the .pt itself
            log.warning("%s; using the torch backend instead", exc)
            return TorchClassifier(bundle, device)
    if backend == "torch":
        return TorchClassifier(bundle, device)
    if backend == "onnx":
        return OnnxClassifier(bundle, device, threads=threads)
    raise ValueError(f"unknown backend {backend!r}; choose torch, onnx or auto")
