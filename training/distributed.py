"""One process or many: the device, the process group and the few collectives the trainer needs.

``torchrun --nproc-per-node N -m attricam train ...`` sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``;
:func:`setup` then joins the process group (NCCL on GPUs, gloo on CPU). Without those
variables it is a one-process run and every collective here is the identity, so the
trainer has a single code path.

Batch norm is synchronised across ranks so a DDP step normalises over the same global
batch as a one-process step (and the runs agree): :class:`torch.nn.SyncBatchNorm` on GPUs;
on CPU, where PyTorch's SyncBatchNorm refuses to run, :class:`AllReduceBatchNorm2d` does the
same with ``torch.distributed.nn`` (differentiable) all-reduces of the batch sums.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import nn

from .config import DEVICES

__all__ = [
    "DEVICES",
    "AllReduceBatchNorm2d",
    "DistContext",
    "all_reduce_sum",
    "gather_objects",
    "gather_rows",
    "resolve_device",
    "setup",
    "sync_batchnorm",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


def resolve_device(choice: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> cuda when present, else cpu; ``cuda`` without a GPU fails naming the choices."""
    if choice not in DEVICES:
        raise ValueError(f"unknown device {choice!r}; valid: {', '.join(DEVICES)}")
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda: no CUDA GPU is visible to PyTorch; use --device cpu or auto")
    if choice == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", local_rank % torch.cuda.device_count())


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: rank ``rank`` of ``world_size``, computing on ``device``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """Only the main rank writes checkpoints, logs, events and the bundle."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def close(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()


def setup(device_choice: str = "auto") -> DistContext:
    """Join the torchrun process group when launched by torchrun; a plain one-process context otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_choice, local_rank)
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        # Long timeout: the other ranks wait while rank 0 builds a missing face cache.
        dist.init_process_group(
            backend, timeout=timedelta(hours=3), device_id=device if device.type == "cuda" else None
        )
        log.info("rank %d/%d joined the %s process group on %s", rank, world, backend, device)
    return DistContext(rank, world, local_rank, device)


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Element-wise sum over ranks (a float64 copy on the CPU for gloo; unchanged in one process)."""
    if not ctx.distributed:
        return tensor
    out = tensor.detach().to(ctx.device if ctx.device.type == "cuda" else "cpu", torch.float64).clone()
    dist.all_reduce(out)
    return out.cpu()


def gather_objects(value: T, ctx: DistContext) -> list[T]:
    """Every rank's ``value`` in rank order (picklable objects; ``[value]`` in one process)."""
    if not ctx.distributed:
        return [value]
    parts: list[T] = [value] * ctx.world_size  # placeholders; all_gather_object overwrites every slot
    dist.all_gather_object(parts, value)
    return parts


def gather_rows(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Concatenate every rank's rows in rank order (ranks may hold different counts; CPU in, CPU out)."""
    if not ctx.distributed:
        return tensor
    return torch.cat(gather_objects(tensor.detach().cpu(), ctx))


class AllReduceBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the global batch over all ranks (CPU/gloo).

    Same parameters and buffers as :class:`nn.BatchNorm2d`, so state dicts load either way.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x (b, c, h, w)
        if not (self.training and self.affine and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce  # the differentiable one

        count = torch.tensor([x.shape[0] * x.shape[2] * x.shape[3]], dtype=x.dtype, device=x.device)
        stats = torch.cat([x.sum(dim=(0, 2, 3)), (x * x).sum(dim=(0, 2, 3)), count])  # (2c + 1,)
        with warnings.catch_warnings():  # deprecated in favour of a private module without autograd on gloo
            warnings.simplefilter("ignore", FutureWarning)
            stats = all_reduce(stats)  # summed over ranks; gradients flow back to every rank's inputs
        c = x.shape[1]
        n = stats[-1]
        mean = stats[:c] / n
        var = (stats[c : 2 * c] / n - mean * mean).clamp_min(0)  # biased, as batch norm normalises
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
            self.running_mean.mul_(1 - m).add_(mean.detach(), alpha=m)
            self.running_var.mul_(1 - m).add_(var.detach() * n / (n - 1).clamp_min(1), alpha=m)
        y = (x - mean.view(1, c, 1, 1)) * torch.rsqrt(var.view(1, c, 1, 1) + self.eps)
        return y * self.weight.view(1, c, 1, 1) + self.bias.view(1, c, 1, 1)


def sync_batchnorm(model: nn.Module, ctx: DistContext) -> nn.Module:
    """Batch norm over the global batch when several ranks train (nothing changes in one process)."""
    if not ctx.distributed:
        return model
    if ctx.device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for name, child in model.named_children():
        if type(child) is nn.BatchNorm2d:
            replacement = AllReduceBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine)
            replacement.load_state_dict(child.state_dict())
            setattr(model, name, replacement.to(child.weight.device))
        else:
            sync_batchnorm(child, ctx)
    return model
