"""The run checkpoint: what it holds, how it is written and read, and when a run may resume from it.

A checkpoint is a dict of plain values and tensors (``torch.load(weights_only=True)``):
model, optimizer, scheduler, GradScaler, loss state, EMA, the torch and CUDA RNG
states, the epoch records, the best epoch and the config. The model is saved
unwrapped (no DDP ``module.`` prefix), so a checkpoint written by any world size
resumes under any other.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch

from .config import CHECKPOINT_NAME, TrainConfig
from .evaluation import AttentionSummary

__all__ = [
    "CHECKPOINT_NAME",
    "RESUME_MAY_CHANGE",
    "BestRecord",
    "EpochRecord",
    "IncompatibleCheckpoint",
    "check_resumable",
    "load_checkpoint",
    "restore_rng_state",
    "rng_state",
    "save_checkpoint",
]


RESUME_MAY_CHANGE = (
    "out",
    "epochs",
    "cache_dir",
    "num_threads",
    "workers",
    "loader_workers",
    "device",
    "precision",
    "export_onnx",
    "name",
    "threshold_policy",
)
"""Config fields a resumed run may change: where it runs and writes, not what it learns (``epochs`` extends a run)."""


class IncompatibleCheckpoint(ValueError):
    """The checkpoint was trained under a config this run may not continue."""


@dataclass(frozen=True)
class EpochRecord:
    """One finished epoch as the history, the checkpoint and the report keep it."""

    epoch: int
    train_loss: float
    images_per_s: float
    seconds: float
    lr: float
    val: dict[str, float]
    """Val summary at threshold 0.5 (plots only)."""
    selection: dict[str, float]
    """Summary on the faces that select the checkpoint (the calibration slice, else val)."""
    attention: AttentionSummary = field(default_factory=AttentionSummary)
    predicted_positive_rate: list[float] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    loss_components: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpochRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class BestRecord:
    """The best epoch so far by selection score, with a CPU copy of its (EMA) weights."""

    epoch: int = -1
    score: float = -math.inf
    state: dict[str, torch.Tensor] | None = None


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Torch's CPU RNG, and each GPU's when the checkpoint has them and as many GPUs are visible."""
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available():
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)
        else:
            torch.cuda.set_rng_state(cuda[0])


def check_resumable(saved: TrainConfig, cfg: TrainConfig, path: Path) -> None:
    """Raise :class:`IncompatibleCheckpoint` (one line naming the differences) unless only safe fields differ."""
    keep = {name: getattr(cfg, name) for name in RESUME_MAY_CHANGE}
    if replace(saved, **keep) == cfg:
        return
    diffs = [
        f"{f.name} {getattr(saved, f.name)!r} -> {getattr(cfg, f.name)!r}"
        for f in fields(TrainConfig)
        if f.name not in RESUME_MAY_CHANGE and getattr(saved, f.name) != getattr(cfg, f.name)
    ]
    raise IncompatibleCheckpoint(
        f"cannot resume {path}: it was trained with a different configuration ({'; '.join(diffs)}); "
        "resume with the checkpoint's options or choose another --out"
    )


def save_checkpoint(path: Path, **payload: Any) -> None:
    from attricam.engine.atomic import atomic_path

    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: Path) -> dict[str, Any]:
    payload: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)  # the keys save_checkpoint wrote
    return payload
