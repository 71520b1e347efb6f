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


@dataclass(frozen=True)
class _RootFaces:
    """One root's share of a partition: its faces not already taken from an earlier root, and its summary row."""

    root: str
    images: np.ndarray | None  # (n, H + 2m, W + 2m, 3) uint8; None when the root lists no image of the partition
    labels: np.ndarray | None  # (n, 40)
    filenames: list[str]
    row: SourceRow


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
    seen: set[str] = set()
    shares = [_root_faces(root, partition, seen, cache_dir, spec, workers, limit) for root in roots]
    summary = DataSummary(tuple(s.row for s in shares))
    listed = [s for s in shares if s.images is not None]
    if not any(s.filenames for s in listed):
        return _no_faces(spec), summary
    return _merged(listed), summary


def _root_faces(
    root: str | Path,
    partition: str,
    seen: set[str],
    cache_dir: str | Path | None,
    spec: CropSpec,
    workers: int,
    limit: int | None,
) -> _RootFaces:
    """``root``'s faces of ``partition`` whose file names are not in ``seen`` (which gains them)."""
    split = load_celeba(root, (partition,))[partition]
    files = split.filenames
    if not files:
        row: SourceRow = {"root": str(root), "partition": partition, "present": 0, "faces": 0, "duplicates": 0}
        return _RootFaces(str(root), None, None, [], row)
    if limit and not cache_ready(root, files, cache_dir, spec):
        files = files[:limit]  # no whole-split cache yet: detect only what this run needs
    cache = build_face_cache(root, files, cache_dir, spec, workers=workers)
    keep, duplicates = _unseen(cache.filenames, set(split.filenames[:limit]) if limit else None, seen)
    label_of = dict(zip(split.filenames, split.labels))
    whole = keep == list(range(len(cache.filenames)))
    row = {
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
    if duplicates:
        log.info("%s: %d %s images already taken from an earlier root", root, duplicates, partition)
    return _RootFaces(
        str(root),
        cache.images if whole else cache.images[keep],  # the memory map itself when nothing is dropped
        np.stack([label_of[cache.filenames[i]] for i in keep]) if keep else np.zeros((0, NUM_ATTRIBUTES)),
        [cache.filenames[i] for i in keep],
        row,
    )


def _unseen(filenames: Sequence[str], wanted: set[str] | None, seen: set[str]) -> tuple[list[int], int]:
    """Indices of the ``wanted`` names (all when None) not in ``seen``, which gains them; and how many were."""
    candidates = [i for i, f in enumerate(filenames) if wanted is None or f in wanted]
    keep = [i for i in candidates if filenames[i] not in seen]
    seen.update(filenames[i] for i in keep)
    return keep, len(candidates) - len(keep)


def _no_faces(spec: CropSpec) -> FaceArrays:
    """An empty set of faces, shaped as ``spec``'s crops."""
    shape = (0, spec.height + 2 * spec.margin, spec.width + 2 * spec.margin, 3)
    return FaceArrays(torch.zeros(shape, dtype=torch.uint8), torch.zeros((0, NUM_ATTRIBUTES)), (), ())


def _merged(shares: Sequence[_RootFaces]) -> FaceArrays:
    """The roots' faces in order; a single root's images stay its cache's memory map."""
    images = [s.images for s in shares if s.images is not None]
    labels = [s.labels for s in shares if s.labels is not None]
    return FaceArrays(
        images=torch.from_numpy(images[0] if len(images) == 1 else np.concatenate(images)),
        labels=torch.from_numpy(np.concatenate(labels).astype(np.float32)),
        filenames=tuple(f for s in shares for f in s.filenames),
        sources=tuple(s.root for s in shares for _ in s.filenames),
    )
