"""The frozen configuration of a training run, stored in every checkpoint and bundle as a plain dict."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from engine.model_config import CROP_MARGIN, IMAGE_HEIGHT, IMAGE_WIDTH

__all__ = [
    "BUNDLE_NAME",
    "CHECKPOINT_NAME",
    "DATA_ROOT_HELP",
    "LOSS_NAMES",
    "SAMPLERS",
    "TrainConfig",
    "default_data_root",
]

CHECKPOINT_NAME = "checkpoint.pt"
"""The resumable checkpoint in a run folder."""
BUNDLE_NAME = "model.pt"
"""The model bundle a run folder ends with."""
DATA_ROOT_HELP = "$ATTRICAM_DATA, else ../shared/celeba beside the checkout"
"""Where :func:`default_data_root` looks, in words for ``--help`` texts."""


def default_data_root() -> Path:
    """``$ATTRICAM_DATA`` or ``../shared/celeba`` beside the repository (see :data:`DATA_ROOT_HELP`)."""
    env = os.environ.get("ATTRICAM_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "celeba"


LOSS_NAMES = ("bce", "weighted", "focal", "aggressive-focal", "class-balanced", "ldam", "asl")
"""The recipes of :mod:`training.losses`; here so the GUI can list them without importing torch."""
SAMPLERS = ("random", "balanced", "curriculum")
"""The batch orders of :mod:`training.sampling`."""


@dataclass(frozen=True)
class TrainConfig:
    data: tuple[str, ...]
    """CelebA roots, full-size first (it wins on duplicate images)."""
    out: str
    loss: str = "weighted"
    loss_options: dict = field(default_factory=dict)
    """Extra :class:`training.losses.LossConfig` fields, e.g. ``{"gamma": 3.0, "weight_cap": 20}``."""
    sampler: str = "random"
    """Batch order, a :data:`training.sampling.SAMPLERS` name: ``random``, ``balanced`` or ``curriculum``."""
    epochs: int = 12
    lr: float = 2e-3
    weight_decay: float = 0.05
    batch_size: int = 128
    warmup_epochs: float = 1.0
    min_lr_ratio: float = 0.02
    grad_clip: float = 5.0
    seed: int = 0
    image_height: int = IMAGE_HEIGHT
    image_width: int = IMAGE_WIDTH
    margin: int = CROP_MARGIN
    cache_dir: str | None = None
    train_limit: int | None = None
    """Use only the first n train images of each root (quick runs, recipe comparisons)."""
    val_limit: int | None = None
    calibration_fraction: float = 0.12
    """Share of train identities held back to select the checkpoint and fit the decision rule (0: use val)."""
    ema_decay: float = 0.998
    """Decay of the weights' moving average that is evaluated, selected and shipped (0: off)."""
    threshold_policy: str = "auto"
    """A :data:`training.thresholds.POLICIES` name, or ``auto`` (least shortfall to the product targets)."""
    stuck_fixes: bool = True
    num_threads: int = 2
    workers: int = 2
    model: dict = field(default_factory=dict)
    """Overrides of :class:`engine.model.AttributeModelConfig` fields other than the image size."""
    augment: dict = field(default_factory=dict)
    """Overrides of :class:`training.augment.AugmentConfig` fields."""
    export_onnx: bool = True
    name: str = "attricam"

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:  # fail before minutes of data loading, not at the first batch
            raise ValueError(f"unknown sampler {self.sampler!r}; valid: {', '.join(SAMPLERS)}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["data"] = list(self.data)
        d["augment"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.augment.items()}
        return d

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown training config keys {sorted(unknown)}; known: {sorted(known)}")
        values = dict(data)
        values["data"] = tuple(values["data"])
        if "augment" in values:
            values["augment"] = {k: tuple(v) if isinstance(v, list) else v for k, v in values["augment"].items()}
        return cls(**values)
