"""One epoch of training and one evaluation pass, as the torchvision references split them from ``main``.

:func:`train_one_epoch` runs every batch of a :class:`~torch.utils.data.DataLoader` through the loss, the
optimiser, the scheduler and the weight EMA, reports progress as :class:`~attricam.training.events.StepEvent`
lines and returns what the pass measured, summed over every rank; :func:`evaluate` predicts a face set, split
by rows over the ranks and gathered (:mod:`attricam.training.epoch_report` decides what an epoch is judged by).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from attricam.engine.attributes import NUM_ATTRIBUTES
from attricam.engine.model import CrossAttentionAttributeModel

from .config import TrainConfig
from .data import FaceArrays
from .distributed import DistContext, all_reduce_sum, gather_objects
from .ema import ModelEma
from .evaluation import Predictions, predict_detailed
from .events import EventCallback, StepEvent
from .losses import AttributeLoss

__all__ = ["EpochStats", "evaluate", "train_one_epoch"]


@dataclass(frozen=True)
class EpochStats:
    """What one pass over the training faces measured, summed over every rank."""

    loss: float
    images_per_s: float
    """Global: all ranks' faces over rank 0's wall time."""
    seconds: float
    train_predicted_positive_rate: list[float]


def train_one_epoch(
    model: torch.nn.Module,
    criterion: AttributeLoss,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    loader: torch.utils.data.DataLoader,
    *,
    epoch: int,
    ctx: DistContext,
    scaler: torch.amp.GradScaler,
    amp_dtype: torch.dtype | None = None,
    grad_clip: float = 0.0,
    callback: EventCallback | None = None,
    ema: ModelEma | None = None,
) -> EpochStats:
    """One pass over the loader's batches (this rank's share of each global batch); ``model`` may be DDP-wrapped."""
    model.train()
    criterion.set_epoch(epoch)
    loader.sampler.set_epoch(epoch)
    device = ctx.device
    steps = len(loader)
    needs_attention = criterion.config.needs_attention
    raw = model.module if isinstance(model, DistributedDataParallel) else model
    total_loss, seen = 0.0, 0
    positives = torch.zeros(NUM_ATTRIBUTES, device=device)
    started = time.perf_counter()
    for step, batch in enumerate(loader):
        images, targets = _on_device(batch, device)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            logits, attention = model(images)  # (b, 40), (b, layers, heads, 40, gh, gw)
        loss = criterion(logits.float(), targets, attention.float() if needs_attention else None)
        _optimizer_step(loss, model, optimizer, scheduler, scaler, grad_clip)
        if ema is not None:
            ema.update(raw)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(f"epoch {epoch + 1} step {step + 1}: loss is {value}")
        total_loss += value * len(targets)
        positives += (logits.detach() >= 0).sum(0)
        seen += len(targets)
        if callback:
            rate = seen * ctx.world_size / (time.perf_counter() - started)
            callback(
                StepEvent(
                    epoch=epoch,
                    step=step + 1,
                    steps_per_epoch=steps,
                    loss=value,
                    lr=optimizer.param_groups[0]["lr"],
                    images_per_s=rate,
                )
            )
    return _summed_stats(total_loss, seen, positives, time.perf_counter() - started, ctx)


def _on_device(batch: tuple[torch.Tensor, torch.Tensor], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(images or cached tokens, targets) on ``device``; images channels-last, as the convolutions run fastest."""
    images, targets = batch
    images = images.to(device, non_blocking=True)  # (b, 3, H, W) images, or (b, hw, dim) cached tokens
    if images.ndim == 4:
        images = images.contiguous(memory_format=torch.channels_last)
    return images, targets.to(device, non_blocking=True)


def _optimizer_step(
    loss: torch.Tensor,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
    grad_clip: float,
) -> None:
    """Backward and one optimiser step (loss-scaled for fp16, gradients clipped at ``grad_clip`` unless 0)."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if grad_clip:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    scaler.step(optimizer)
    scaler.update()
    scheduler.step()


def _summed_stats(
    total_loss: float, seen: int, positives: torch.Tensor, elapsed: float, ctx: DistContext
) -> EpochStats:
    """This rank's sums added over every rank, as the epoch's mean loss, throughput and predicted-positive rates."""
    sums = all_reduce_sum(
        torch.cat([torch.tensor([total_loss, seen], dtype=torch.float64), positives.double().cpu()]), ctx
    )
    total_loss, seen, positives = float(sums[0]), int(sums[1]), sums[2:]
    return EpochStats(
        loss=total_loss / max(seen, 1),
        images_per_s=seen / max(elapsed, 1e-9),
        seconds=elapsed,
        train_predicted_positive_rate=(positives / max(seen, 1)).tolist(),
    )


def evaluate(model: CrossAttentionAttributeModel, faces: FaceArrays, cfg: TrainConfig, ctx: DistContext) -> Predictions:
    """Predictions over all ``faces``: each rank predicts a contiguous slice and every rank gets them all, in order."""
    lo, hi = len(faces) * ctx.rank // ctx.world_size, len(faces) * (ctx.rank + 1) // ctx.world_size
    part = predict_detailed(model, faces.images[lo:hi], cfg.image_height, cfg.image_width, device=ctx.device)
    if not ctx.distributed:
        return part
    parts = gather_objects((part.probabilities, part.mean_attention * (hi - lo), part.map_cosine), ctx)
    sums = [p[1] for p in parts if p[1].size]
    return Predictions(
        np.concatenate([p[0] for p in parts]),
        (sum(sums[1:], sums[0]) / max(len(faces), 1)) if sums else part.mean_attention,
        np.concatenate([p[2] for p in parts]),
    )
