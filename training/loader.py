"""Augmented training batches from the cached crops, built in DataLoader workers.

A batch is cut into blocks of :data:`AUGMENT_BLOCK` consecutive positions of the
global batch, and each block is augmented with its own generator seeded by
(seed, epoch, step, block). A face therefore gets the same augmentation whichever
rank, worker or world size processes it: a 2-rank run sees exactly the inputs of
a 1-rank run with the same global batch, and a resumed epoch those of an
uninterrupted one. A rank whose slice does not fall on block edges augments the
blocks it overlaps and keeps its rows.
"""

from __future__ import annotations

import os

import cv2
import torch
from torch.utils.data import DataLoader, Dataset

from .augment import AugmentConfig, augment_batch
from .data import FaceArrays
from .sampling import BatchPlan, DistributedBatchSampler

__all__ = ["AUGMENT_BLOCK", "TrainBatches", "default_loader_workers", "train_loader"]

AUGMENT_BLOCK = 16
"""Faces augmented with one generator."""


def _block_seed(seed: int, epoch: int, step: int, block: int) -> int:
    value = seed
    for part in (epoch, step, block):
        value = value * 1_000_003 + part
    return value % (2**63)


class TrainBatches(Dataset):
    """``dataset[plan]`` -> (float images (b, 3, H, W) in [0, 1], labels (b, 40)) for one :class:`BatchPlan`.

    ``rows`` maps the sampler's positions to rows of ``data`` (the training faces inside a
    memory-mapped cache that also holds the calibration slice), so no copy of the crops is made.
    """

    def __init__(
        self,
        data: FaceArrays,
        height: int,
        width: int,
        augment: AugmentConfig,
        seed: int,
        rows: torch.Tensor | None = None,
    ) -> None:
        self.data, self.height, self.width, self.augment, self.seed = data, height, width, augment, seed
        self.rows = rows

    def __len__(self) -> int:
        return len(self.data) if self.rows is None else len(self.rows)

    def _rows(self, positions: torch.Tensor) -> torch.Tensor:
        return positions if self.rows is None else self.rows[positions]

    def __getitem__(self, plan: BatchPlan) -> tuple[torch.Tensor, torch.Tensor]:
        first, last = plan.start // AUGMENT_BLOCK, (plan.stop - 1) // AUGMENT_BLOCK
        parts = []
        for block in range(first, last + 1):
            rows = self._rows(plan.indices[block * AUGMENT_BLOCK : (block + 1) * AUGMENT_BLOCK])
            generator = torch.Generator().manual_seed(_block_seed(self.seed, plan.epoch, plan.step, block))
            parts.append(augment_batch(self.data.images[rows], self.height, self.width, self.augment, generator))
        offset = first * AUGMENT_BLOCK
        images = torch.cat(parts)[plan.start - offset : plan.stop - offset]  # (b, 3, H, W)
        return images, self.data.labels[self._rows(plan.rows)]


def default_loader_workers(device: torch.device, world_size: int = 1) -> int:
    """Background augmentation processes: none on CPU (they would take the model's cores), up to 8 per GPU."""
    if device.type != "cuda":
        return 0
    return max(1, min(8, (os.cpu_count() or 2) // max(world_size, 1) - 1))


def _worker_init(_: int) -> None:
    cv2.setNumThreads(1)


def train_loader(
    batches: TrainBatches, sampler: DistributedBatchSampler, *, workers: int, pin_memory: bool
) -> DataLoader:
    """A loader over ``sampler``'s plans: ``workers`` processes prepare batches ahead, pinned for async copies."""
    return DataLoader(
        batches,
        sampler=sampler,
        batch_size=None,
        num_workers=workers,
        pin_memory=pin_memory,
        worker_init_fn=_worker_init if workers else None,
        prefetch_factor=2 if workers else None,
        persistent_workers=False,
    )
