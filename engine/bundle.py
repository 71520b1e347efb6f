"""Model bundles: weights + model config + calibrated thresholds + training metadata.

A bundle is one ``.pt`` file holding only tensors, numbers, strings, lists and
dicts, so it loads with ``torch.load(weights_only=True)`` — a bundle from the
internet cannot run code. Its ONNX twin (same stem, ``.onnx``) carries the same
network for onnxruntime; the thresholds and metadata always come from the
``.pt`` file. Both files carry :func:`attricam.engine.bundle_checks.decision_hash`, so a
stale twin is noticed at load (:mod:`attricam.engine.runtime`).

Loading does not import torch (:mod:`attricam.engine.bundle_reader` reads the file into
numpy arrays, as safely as ``weights_only=True``), so the onnxruntime backend
never pays for it; only a file that reader cannot handle is given to
``torch.load``. The weights become tensors when the torch model is built.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .assets import DEFAULT_BUNDLE_NAME, find_asset, missing_asset_message
from .atomic import atomic_path
from .attributes import ATTRIBUTE_NAMES, NUM_ATTRIBUTES
from .bundle_checks import BUNDLE_HASH_KEY, check_walkable, decision_hash, find_non_finite
from .bundle_reader import UnsafeBundleError, read_torch_zip
from .decision import DecisionRule
from .model_config import AttributeModelConfig, state_dict_shapes
from .second_opinion import SecondOpinion

if TYPE_CHECKING:
    import torch

    from .model import CrossAttentionAttributeModel

__all__ = [
    "BUNDLE_FORMAT",
    "MAX_INPUT_PIXELS",
    "BundleError",
    "ModelBundle",
    "default_bundle_path",
    "load_default_bundle",
    "random_bundle",
]

BUNDLE_FORMAT = "attricam-bundle/1"
MAX_INPUT_PIXELS = 512 * 512
"""Largest model input a bundle may declare (the shipped one is 96 x 80): a 4096 x 4096 config made one
face cost 3 GB. Training refuses larger sides too (:mod:`attricam.training.config_checks`)."""
log = logging.getLogger(__name__)


class BundleError(RuntimeError):
    """A bundle file is missing, corrupt or of another format; the message names the file."""


def default_bundle_path() -> Path:
    """The shipped bundle in the checkout or the installed package (:mod:`attricam.engine.assets`); the checkout's path when absent."""
    from .assets import asset_folders

    return find_asset(DEFAULT_BUNDLE_NAME) or asset_folders()[0] / DEFAULT_BUNDLE_NAME


@dataclass
class ModelBundle:
    config: AttributeModelConfig
    state_dict: dict[str, np.ndarray | torch.Tensor]
    """numpy arrays after :meth:`load`, tensors when taken from a model; both hash alike."""
    thresholds: list[float] = field(default_factory=lambda: [0.5] * NUM_ATTRIBUTES)
    metadata: dict[str, Any] = field(default_factory=dict)
    """Free-form provenance: ``trained`` (bool), recipe, epochs, data counts, val metrics."""
    path: Path | None = None
    calibration: dict[str, Any] | None = None
    """Per-attribute Platt parameters ``{"method": "platt", "scale": [40], "bias": [40]}``; None = identity."""
    second_opinion: dict[str, Any] | None = None
    """:meth:`SecondOpinion.to_dict` of the face-descriptor probes fused into the logits; None = the model alone."""

    @property
    def decision_rule(self) -> DecisionRule:
        """Calibration + bounded thresholds: the only way probabilities become decisions."""
        return DecisionRule.from_dict(self.calibration, self.thresholds)

    @property
    def opinion(self) -> SecondOpinion | None:
        """The parsed second opinion (:mod:`attricam.engine.second_opinion`), or None."""
        return SecondOpinion.from_dict(self.second_opinion) if self.second_opinion else None

    @property
    def trained(self) -> bool:
        return bool(self.metadata.get("trained", False))

    @property
    def name(self) -> str:
        return self.path.name if self.path else str(self.metadata.get("name", "in-memory bundle"))

    @property
    def onnx_path(self) -> Path | None:
        return self.path.with_suffix(".onnx") if self.path else None

    @property
    def decision_hash(self) -> str:
        """Digest of everything that decides a prediction (not metadata); the ONNX twin carries the same."""
        return decision_hash(self)

    @property
    def notice(self) -> str:
        """What a screen must show about this model: why it is untrained, or '' for a trained one."""
        if self.trained:
            return ""
        return str(self.metadata.get("warning") or "UNTRAINED MODEL — random weights, predictions are meaningless")

    def build_model(self) -> CrossAttentionAttributeModel:
        """The torch model with these weights (imports torch)."""
        import torch

        from .model import build_model

        model = build_model(self.config)
        model.load_state_dict({k: torch.as_tensor(v) for k, v in self.state_dict.items()})
        model.eval()
        return model

    def save(self, path: str | Path) -> Path:
        import torch

        path = Path(path)
        payload = {
            "format": BUNDLE_FORMAT,
            "attributes": list(ATTRIBUTE_NAMES),
            "config": self.config.to_dict(),
            "state_dict": {k: torch.as_tensor(v).detach().cpu() for k, v in self.state_dict.items()},
            "thresholds": [float(t) for t in self.thresholds],
            "metadata": self.metadata,
        }
        if self.calibration:
            payload["calibration"] = self.calibration
        if self.second_opinion:
            payload["second_opinion"] = self.second_opinion
        payload[BUNDLE_HASH_KEY] = decision_hash(self)
        with atomic_path(path) as tmp:
            torch.save(payload, tmp)
        self.path = path
        return path

    @classmethod
    def load(cls, path: str | Path) -> ModelBundle:
        path = Path(path)
        if not path.is_file():
            raise BundleError(f"{path}: model bundle not found")
        payload = _read_payload(path)
        if not isinstance(payload, dict) or payload.get("format") != BUNDLE_FORMAT:
            raise BundleError(f"{path}: not an AttriCam bundle (expected format {BUNDLE_FORMAT!r})")
        if list(payload.get("attributes", [])) != list(ATTRIBUTE_NAMES):
            raise BundleError(f"{path}: bundle predicts other attributes than the 40 CelebA ones")
        try:
            config = AttributeModelConfig.from_dict(payload["config"])
            if config.image_height * config.image_width > MAX_INPUT_PIXELS:
                raise ValueError(
                    f"input {config.image_height}x{config.image_width} is larger than {MAX_INPUT_PIXELS:,} pixels "
                    "(one face would need gigabytes)"
                )
            check_walkable(payload["metadata"], "metadata")
            calibration = payload.get("calibration")
            bundle = cls(
                config,
                payload["state_dict"],
                list(payload["thresholds"]),
                dict(payload["metadata"]),
                path,
                calibration,
                payload.get("second_opinion"),
            )
            _check_weights(bundle)  # now, not at the first frame
        except Exception as exc:  # noqa: BLE001 - a hostile payload can fail in any way; it is named, not hidden
            raise BundleError(f"{path}: bundle contents are inconsistent ({exc})") from None
        if len(bundle.thresholds) != NUM_ATTRIBUTES:
            raise BundleError(f"{path}: expected {NUM_ATTRIBUTES} thresholds, found {len(bundle.thresholds)}")
        _check_integrity(bundle, payload.get(BUNDLE_HASH_KEY))
        try:
            _ = bundle.decision_rule  # validates the calibration's shape
            _ = bundle.opinion
        except (ValueError, KeyError, TypeError) as exc:
            raise BundleError(f"{path}: bundle contents are inconsistent (decision rule: {exc})") from None
        return bundle

    @classmethod
    def from_model(cls, model: CrossAttentionAttributeModel, **kwargs: Any) -> ModelBundle:
        """A bundle holding a copy of ``model``'s weights (as tensors)."""
        return cls(model.config, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, **kwargs)


def _read_payload(path: Path) -> Any:
    """The saved payload, weights as numpy arrays; torch reads only what :mod:`attricam.engine.bundle_reader` cannot."""
    try:
        return read_torch_zip(path)
    except UnsafeBundleError as exc:
        raise BundleError(f"{path}: not a readable AttriCam bundle (UnpicklingError: {exc})") from None
    except Exception as exc:  # noqa: BLE001 - another torch layout, or a corrupt file: torch itself decides and words the error
        log.debug("%s: read with torch.load (%s: %s)", path, type(exc).__name__, exc)
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for corrupt or hostile files
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise BundleError(f"{path}: not a readable AttriCam bundle ({type(exc).__name__}: {reason})") from None
    if isinstance(payload, dict) and isinstance(payload.get("state_dict"), dict):
        payload["state_dict"] = {k: _as_array(v) for k, v in payload["state_dict"].items()}
    return payload


def _as_array(value: Any) -> Any:
    """A CPU tensor as a numpy array (same bytes); a dtype numpy lacks (bfloat16) stays a tensor."""
    try:
        return value.numpy()
    except (AttributeError, TypeError, RuntimeError):
        return value


def _check_weights(bundle: ModelBundle) -> None:
    """Every weight the config's model needs, of the right shape, and nothing else (as ``load_state_dict`` checks)."""
    expected = state_dict_shapes(bundle.config)
    found = {k: tuple(v.shape) for k, v in bundle.state_dict.items()}
    missing, unexpected = sorted(expected.keys() - found.keys()), sorted(found.keys() - expected.keys())
    if missing or unexpected:
        raise ValueError(f"missing weights {missing[:5]}, unexpected weights {unexpected[:5]}")
    wrong = [f"{k}: {found[k]} instead of {shape}" for k, shape in expected.items() if found[k] != shape]
    if wrong:
        raise ValueError(f"size mismatch for {'; '.join(wrong[:5])}")


def _check_integrity(bundle: ModelBundle, recorded_hash: str | None) -> None:
    """NaN/inf anywhere in the decision data is refused; a hash that no longer matches is reported."""
    try:
        where = find_non_finite(bundle)
    except ValueError as exc:  # decision data too deeply shared to walk: refused, never hung on
        raise BundleError(f"{bundle.path}: bundle contents are inconsistent ({exc})") from None
    if where:
        raise BundleError(f"{bundle.path}: bundle holds non-finite numbers (NaN or infinity) in {where}")
    if recorded_hash and recorded_hash != bundle.decision_hash:
        log.warning("%s: contents differ from the hash saved with them (edited after saving?)", bundle.path)


def random_bundle(config: AttributeModelConfig | None = None, seed: int = 0) -> ModelBundle:
    """An untrained bundle for tests and for running before any model has been trained (imports torch)."""
    import torch

    from .model import build_model

    torch.manual_seed(seed)
    model = build_model(config)
    return ModelBundle.from_model(model, metadata={"trained": False, "name": "random-init", "seed": seed})


def load_default_bundle(*, allow_random: bool = True) -> ModelBundle:
    """The shipped model (:mod:`attricam.engine.assets`).

    When it is missing: ``allow_random=False`` raises :class:`BundleError` naming
    where to put it (batch runs must not write random predictions); otherwise an
    untrained bundle whose :attr:`ModelBundle.notice` says so, with a warning on stderr.
    """
    path = find_asset(DEFAULT_BUNDLE_NAME)
    if path is not None:
        return ModelBundle.load(path)
    message = missing_asset_message()
    if not allow_random:
        raise BundleError(message)
    log.warning("%s; running a RANDOM untrained model instead", message)
    bundle = random_bundle()
    bundle.metadata["warning"] = f"NO MODEL — random weights, predictions are meaningless: {message}"
    return bundle
