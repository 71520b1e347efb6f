"""The frozen configuration of a training run, stored in every checkpoint and bundle as a plain dict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

__all__ = ["DEVICES", "LOSS_NAMES", "PRECISIONS", "SAMPLERS", "TrainConfig"]

LOSS_NAMES = ("bce", "weighted", "focal", "aggressive-focal", "class-balanced", "ldam", "asl")
"""The recipes of :mod:`training.losses`; here so the GUI can list them without importing torch."""
SAMPLERS = ("random", "balanced", "curriculum")
"""The batch orders of :mod:`training.sampling`."""
DEVICES = ("auto", "cpu", "cuda")
"""``auto``: cuda when PyTorch sees a GPU, else cpu."""
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
"""Autocast dtype of the forward pass; ``auto``: bf16 on GPUs that have it, else fp16 on GPUs, fp32 on CPU."""


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
    image_height: int = 96
    image_width: int = 80
    margin: int = 8
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
    device: str = "auto"
    """A :data:`DEVICES` name; under torchrun each rank takes the GPU of its ``LOCAL_RANK``."""
    precision: str = "auto"
    """A :data:`PRECISIONS` name; fp16 runs with a GradScaler whose state is checkpointed."""
    loader_workers: int | None = None
    """DataLoader processes that augment batches ahead (None: 0 on CPU, up to 8 per GPU)."""
    model: dict = field(default_factory=dict)
    """Overrides of :class:`engine.model.AttributeModelConfig` fields other than the image size."""
    augment: dict = field(default_factory=dict)
    """Overrides of :class:`training.augment.AugmentConfig` fields."""
    export_onnx: bool = True
    name: str = "attricam"

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:  # fail before minutes of data loading, not at the first batch
            raise ValueError(f"unknown sampler {self.sampler!r}; valid: {', '.join(SAMPLERS)}")
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; valid: {', '.join(DEVICES)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; valid: {', '.join(PRECISIONS)}")

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
