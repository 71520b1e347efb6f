"""Batch order of an epoch: random, class-balanced, or a balanced curriculum (the seed's sampling assignments).

CelebA is multi-label, so "class-balanced" needs a per-image rule. An image is
drawn with probability proportional to ``1 / f`` of its *rarest* positive
attribute (``f`` = that attribute's positive rate in the training labels; an
image with no positive counts as ``f = 1``), capped at ``max_weight`` times the
lightest image. The rarest positive is what makes a face valuable to the rare
heads, and with this weight every attribute's rarest-positive images share about
the same draw mass, so Bald (2 %) is drawn about as often as Young (77 %) is.
Draws are with replacement, ``len(data)`` per epoch, so the epoch length and
the learning-rate schedule do not change with the sampler.

The curriculum reads the assignment ("start with a balanced subset, add rare
gradually") literally: sampling is balanced from the first epoch, but the pool
starts with the images whose rarest positive is not rare (train rate >=
``start_cutoff``, 10 %: the product's "rare" line), and the cutoff falls
log-linearly to the rarest attribute's rate by ``ramp_fraction`` of the run, so
the rare and then the ultra-rare examples join gradually; after the ramp it is
the balanced sampler. The heads first learn features on faces whose attributes
are common, and the rare ones arrive when the shared features exist. (The other
reading, "balanced first, anneal to the natural distribution", would take the
rare examples *away* over time, which is the opposite of "add rare gradually".)

Every draw comes from the trainer's generator, seeded by (seed, epoch), so an
epoch's order is the same in a fresh and in a resumed run. ``random`` keeps the
original ``torch.randperm`` so its runs are unchanged by this module.

Note: these samplers already undo the imbalance; stacking them on a positive-
weighted loss (``weighted``, ``aggressive-focal``) corrects it twice and pushes
rare attributes towards all-positive, which the stuck diagnosis then flags.
``bce+balanced`` / ``bce+curriculum`` are the clean comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch.utils.data import Sampler

from attricam.engine.attributes import RARE_CUTOFF

from .config import SAMPLERS

__all__ = [
    "SAMPLERS",
    "BatchPlan",
    "DistributedBatchSampler",
    "SamplerConfig",
    "curriculum_cutoff",
    "epoch_order",
    "image_weights",
    "rarest_positive_rate",
]


@dataclass(frozen=True)
class SamplerConfig:
    max_weight: float = 50.0
    """Largest image weight relative to the lightest (the loss's weight cap), so a handful of faces never dominates."""
    start_cutoff: float = RARE_CUTOFF
    """Curriculum: the first epoch's pool holds images whose rarest positive has at least this train rate."""
    ramp_fraction: float = 0.5
    """Curriculum: share of the run after which every image is in the pool."""


def rarest_positive_rate(labels: torch.Tensor) -> torch.Tensor:
    """labels (n, a) in {0, 1} -> (n,) train rate of each image's rarest positive attribute (1 when none)."""
    n = max(labels.shape[0], 1)
    rate = (labels.sum(0) / n).clamp(min=1.0 / n)  # (a,)
    per_label = torch.where(labels > 0, rate.expand_as(labels), torch.ones_like(labels))  # (n, a)
    return per_label.min(dim=1).values if labels.shape[1] else torch.ones(labels.shape[0])


def image_weights(labels: torch.Tensor, config: SamplerConfig = SamplerConfig()) -> torch.Tensor:
    """(n,) class-balanced draw weights: 1 / rarest positive rate, capped at ``max_weight`` x the lightest."""
    weights = 1.0 / rarest_positive_rate(labels.float()).double()
    return weights.clamp(max=float(weights.min()) * config.max_weight) if len(weights) else weights


def curriculum_cutoff(epoch: int, epochs: int, floor: float, config: SamplerConfig = SamplerConfig()) -> float:
    """Rarest-positive rate an image needs to be drawn in ``epoch`` (0-based); ``floor`` (everyone) after the ramp."""
    ramp = max(config.ramp_fraction * epochs, 1.0)
    progress = min(epoch / ramp, 1.0)
    start = max(config.start_cutoff, floor)
    return math.exp(math.log(start) + progress * (math.log(floor) - math.log(start))) if progress < 1 else floor


def epoch_order(
    sampler: str,
    labels: torch.Tensor,
    epoch: int,
    epochs: int,
    generator: torch.Generator,
    config: SamplerConfig = SamplerConfig(),
) -> torch.Tensor:
    """(len(labels),) int64 indices of the epoch's draws, all taken from ``generator``."""
    n = labels.shape[0]
    if sampler == "random":
        return torch.randperm(n, generator=generator)
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; valid: {', '.join(SAMPLERS)}")
    weights = image_weights(labels, config)
    if sampler == "curriculum":
        rarest = rarest_positive_rate(labels.float()).double()
        cutoff = min(curriculum_cutoff(epoch, epochs, float(rarest.min()), config), float(rarest.max()))
        weights = torch.where(rarest >= cutoff * (1 - 1e-9), weights, torch.zeros_like(weights))
    return torch.multinomial(weights, n, replacement=True, generator=generator)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator every rank seeds identically to draw an epoch's order."""
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


@dataclass(frozen=True)
class BatchPlan:
    """One rank's share of one global batch: rows ``[start, stop)`` of ``indices`` (the whole global batch)."""

    epoch: int
    step: int
    indices: torch.Tensor  # (global batch,) int64 dataset rows, in the epoch's order
    start: int
    stop: int

    @property
    def rows(self) -> torch.Tensor:
        return self.indices[self.start : self.stop]


class DistributedBatchSampler(Sampler[BatchPlan]):
    """Each rank's slice of every global batch of an epoch drawn by :func:`epoch_order` (random, balanced or curriculum).

    torch's ``DistributedSampler`` splits one fixed permutation; here every rank draws the same
    (seed, epoch) order with any of the three samplers and takes rows ``[r*b, (r+1)*b)`` of each
    global batch of ``batch_size`` (``b = batch_size / world_size``). So the union of the ranks'
    batches at a step is exactly the one-process batch, whatever the world size, and a run
    resumed under another world size continues the same sequence of global batches. Like
    ``DistributedSampler``, call :meth:`set_epoch` before each epoch.
    """

    def __init__(
        self,
        sampler: str,
        labels: torch.Tensor,
        *,
        batch_size: int,
        epochs: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        max_steps: int | None = None,
        config: SamplerConfig = SamplerConfig(),
    ) -> None:
        if sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {sampler!r}; valid: {', '.join(SAMPLERS)}")
        n = labels.shape[0]
        self.batch_size = min(batch_size, n)
        if self.batch_size % world_size:
            raise ValueError(
                f"a global batch of {self.batch_size} faces does not split evenly over {world_size} ranks; "
                f"choose --batch as a multiple of {world_size}"
            )
        self.sampler, self.labels, self.epochs, self.seed = sampler, labels, epochs, seed
        self.rank, self.world_size, self.config = rank, world_size, config
        self.steps = n // max(self.batch_size, 1) if n else 0
        if max_steps is not None:
            self.steps = min(self.steps, max_steps)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[BatchPlan]:
        generator = epoch_generator(self.seed, self.epoch)
        order = epoch_order(self.sampler, self.labels, self.epoch, self.epochs, generator, self.config)
        share = self.batch_size // self.world_size
        for step in range(self.steps):
            batch = order[step * self.batch_size : (step + 1) * self.batch_size]
            yield BatchPlan(self.epoch, step, batch, self.rank * share, (self.rank + 1) * share)
