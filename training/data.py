"""Assemble training/validation arrays from one or more CelebA roots via the face cache.

Roots are merged in order and de-duplicated by file name (CelebA's file names
are global image ids): when the same image exists in the full-size root and in
``celeba-lowres``, the first root given (the full-size one) wins.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NotRequired, TypedDict

import numpy as np
import torch

from attricam.engine.attributes import NUM_ATTRIBUTES

from .cache import CropSpec, build_face_cache, cache_ready
from .celeba import load_celeba

__all__ = ["DataSummary", "FaceArrays", "SourceRow", "load_face_arrays"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceArrays:
    """Aligned crops with a margin and their labels, ready for batching."""

    images: torch.Tensor  # (n, H + 2m, W + 2m, 3) uint8, memory-mapped from the cache when it is one whole cache
    labels: torch.Tensor  # (n, 40) float32 in {0, 1}
    filenames: tuple[str, ...]
    sources: tuple[str, ...]
    """Root of each image (lets reports split full-size from low-res images)."""

    def __len__(self) -> int:
        return len(self.filenames)

    def subset(self, index: np.ndarray | Sequence[int]) -> FaceArrays:
        idx = torch.as_tensor(np.asarray(index, dtype=np.int64))
        return FaceArrays(
            self.images[idx],
            self.labels[idx],
            tuple(self.filenames[i] for i in idx.tolist()),
            tuple(self.sources[i] for i in idx.tolist()),
        )


class SourceRow(TypedDict):
    """One root's share of a partition, as the run report lists it (the last five only once it has images)."""

    root: str
    partition: str
    present: int
    faces: int
    duplicates: int
    limit: NotRequired[int | None]
    no_face: NotRequired[int]
    unreadable: NotRequired[int]
    used: NotRequired[int]


@dataclass(frozen=True)
class DataSummary:
    """Per root and partition: images listed as present, faces found, and duplicates dropped."""

    rows: tuple[SourceRow, ...]

    def to_dict(self) -> list[dict[str, object]]:
        return [dict(r) for r in self.rows]


def load_face_arrays(
    roots: Sequence[str | Path],
    partition: str,
    *,
    cache_dir: str | Path | None = None,
    spec: CropSpec | None = None,
    workers: int = 2,
    limit: int | None = None,
) -> tuple[FaceArrays, DataSummary]:
    """Faces of ``partition`` from every root (first root wins on duplicates).

    ``limit`` keeps the faces among the first n listed images of each root, taken from the whole-split
    cache when one exists (runs with different limits share it), else from a cache of just those images.
    """
    spec = spec or CropSpec()
    images: list[np.ndarray] = []  # per root: (n, H + 2m, W + 2m, 3) uint8
    labels: list[np.ndarray] = []  # per root: (n, 40)
    names: list[str] = []
    sources: list[str] = []
    rows: list[SourceRow] = []
    seen: set[str] = set()
    for root in roots:
        split = load_celeba(root, (partition,))[partition]
        files = split.filenames
        if not files:
            rows.append({"root": str(root), "partition": partition, "present": 0, "faces": 0, "duplicates": 0})
            continue
        label_of = dict(zip(split.filenames, split.labels))
        if limit and not cache_ready(root, files, cache_dir, spec):
            files = files[:limit]  # no whole-split cache yet: detect only what this run needs
        cache = build_face_cache(root, files, cache_dir, spec, workers=workers)
        wanted = set(split.filenames[:limit]) if limit else None
        candidates = [i for i, f in enumerate(cache.filenames) if wanted is None or f in wanted]
        keep = [i for i in candidates if cache.filenames[i] not in seen]
        duplicates = len(candidates) - len(keep)
        seen.update(cache.filenames[i] for i in keep)
        whole = keep == list(range(len(cache.filenames)))
        images.append(cache.images if whole else cache.images[keep])  # the memory map itself when nothing is dropped
        labels.append(np.stack([label_of[cache.filenames[i]] for i in keep]) if keep else np.zeros((0, NUM_ATTRIBUTES)))
        names.extend(cache.filenames[i] for i in keep)
        sources.extend([str(root)] * len(keep))
        rows.append(
            {
                "root": str(root),
                "partition": partition,
                "present": len(files),
                "faces": len(cache.filenames),
                "limit": limit,
                "no_face": len(cache.no_face),
                "unreadable": len(cache.unreadable),
                "duplicates": duplicates,
                "used": len(keep),
            }
        )
        if duplicates:
            log.info("%s: %d %s images already taken from an earlier root", root, duplicates, partition)
    if not names:
        shape = (0, spec.height + 2 * spec.margin, spec.width + 2 * spec.margin, 3)
        return FaceArrays(torch.zeros(shape, dtype=torch.uint8), torch.zeros((0, NUM_ATTRIBUTES)), (), ()), DataSummary(
            tuple(rows)
        )
    arrays = FaceArrays(
        images=torch.from_numpy(images[0] if len(images) == 1 else np.concatenate(images)),
        labels=torch.from_numpy(np.concatenate(labels).astype(np.float32)),
        filenames=tuple(names),
        sources=tuple(sources),
    )
    return arrays, DataSummary(tuple(rows))
