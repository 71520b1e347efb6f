"""Model bundles: weights + model config + calibrated thresholds + training metadata.

A bundle is one ``.pt`` file holding only tensors, numbers, strings, lists and
dicts, so it loads with ``torch.load(weights_only=True)`` — a bundle from the
internet cannot run code. Its ONNX twin (same stem, ``.onnx``) carries the same
network for onnxruntime; the thresholds and metadata always come from the
``.pt`` file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from .atomic import atomic_path
from .attributes import ATTRIBUTE_NAMES, NUM_ATTRIBUTES
from .decision import DecisionRule
from .model import AttributeModelConfig, CrossAttentionAttributeModel, build_model

__all__ = ["BUNDLE_FORMAT", "BundleError", "ModelBundle", "default_bundle_path", "load_default_bundle", "random_bundle"]

BUNDLE_FORMAT = "attricam-bundle/1"
_ASSETS = Path(__file__).resolve().parent.parent / "assets"


class BundleError(RuntimeError):
    """A bundle file is missing, corrupt or of another format; the message names the file."""


def default_bundle_path() -> Path:
    return _ASSETS / "attricam-default.pt"


@dataclass
class ModelBundle:
    config: AttributeModelConfig
    state_dict: dict[str, torch.Tensor]
    thresholds: list[float] = field(default_factory=lambda: [0.5] * NUM_ATTRIBUTES)
    metadata: dict = field(default_factory=dict)
    """Free-form provenance: ``trained`` (bool), recipe, epochs, data counts, val metrics."""
    path: Path | None = None
    calibration: dict | None = None
    """Per-attribute Platt parameters ``{"method": "platt", "scale": [40], "bias": [40]}``; None = identity."""

    @property
    def decision_rule(self) -> DecisionRule:
        """Calibration + bounded thresholds: the only way probabilities become decisions."""
        return DecisionRule.from_dict(self.calibration, self.thresholds)

    @property
    def trained(self) -> bool:
        return bool(self.metadata.get("trained", False))

    @property
    def name(self) -> str:
        return self.path.name if self.path else str(self.metadata.get("name", "in-memory bundle"))

    @property
    def onnx_path(self) -> Path | None:
        return self.path.with_suffix(".onnx") if self.path else None

    def build_model(self) -> CrossAttentionAttributeModel:
        model = build_model(self.config)
        model.load_state_dict(self.state_dict)
        return model.eval()

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        payload = {
            "format": BUNDLE_FORMAT,
            "attributes": list(ATTRIBUTE_NAMES),
            "config": self.config.to_dict(),
            "state_dict": {k: v.detach().cpu() for k, v in self.state_dict.items()},
            "thresholds": [float(t) for t in self.thresholds],
            "metadata": self.metadata,
        }
        if self.calibration:
            payload["calibration"] = self.calibration
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)
        self.path = path
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ModelBundle":
        path = Path(path)
        if not path.is_file():
            raise BundleError(f"{path}: model bundle not found")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for corrupt or hostile files
            reason = (str(exc).strip().splitlines() or [""])[0]
            raise BundleError(f"{path}: not a readable AttriCam bundle ({type(exc).__name__}: {reason})") from None
        if not isinstance(payload, dict) or payload.get("format") != BUNDLE_FORMAT:
            raise BundleError(f"{path}: not an AttriCam bundle (expected format {BUNDLE_FORMAT!r})")
        if list(payload.get("attributes", [])) != list(ATTRIBUTE_NAMES):
            raise BundleError(f"{path}: bundle predicts other attributes than the 40 CelebA ones")
        try:
            config = AttributeModelConfig.from_dict(payload["config"])
            calibration = payload.get("calibration")
            bundle = cls(
                config, payload["state_dict"], list(payload["thresholds"]), dict(payload["metadata"]), path, calibration
            )
            bundle.build_model()  # validates shapes now, not at the first frame
            bundle.decision_rule  # validates calibration and thresholds (count, finite)
        except Exception as exc:
            raise BundleError(f"{path}: bundle contents are inconsistent ({exc})") from None
        if len(bundle.thresholds) != NUM_ATTRIBUTES:
            raise BundleError(f"{path}: expected {NUM_ATTRIBUTES} thresholds, found {len(bundle.thresholds)}")
        return bundle

    @classmethod
    def from_model(cls, model: CrossAttentionAttributeModel, **kwargs) -> "ModelBundle":
        return cls(model.config, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, **kwargs)


def random_bundle(config: AttributeModelConfig | None = None, seed: int = 0) -> ModelBundle:
    """An untrained bundle for tests and for running before any model has been trained."""
    torch.manual_seed(seed)
    model = build_model(config)
    return ModelBundle.from_model(model, metadata={"trained": False, "name": "random-init", "seed": seed})


def load_default_bundle() -> ModelBundle:
    """The shipped model from ``assets/``; an untrained random bundle when none is shipped yet."""
    path = default_bundle_path()
    if path.is_file():
        return ModelBundle.load(path)
    return random_bundle()
