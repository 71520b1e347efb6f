"""Describe every CelebA face once with the pretrained face network, through the product's own detector.

Each image goes through the engine's :class:`FaceDetector` exactly as the face cache does (half-resolution
images on a 2x upscaled copy), and the chosen face's MTCNN box is handed to
:class:`attricam.engine.face_descriptor.FaceDescriptor` — the same box-to-descriptor path as ``analyze`` and
the live view, so the probes fitted on these descriptors see at run time what they saw here. The MTCNN box
and landmarks are kept too, so the attribute model's outputs for the same faces can be recomputed through
the product path (``align_face`` on the original pixels) without detecting again.

Detection dominates (the descriptor itself is ~5 ms per face in onnxruntime), so the work is split into chunks written as they finish (an interrupted run
resumes) over ``--workers`` processes; the result is one ``.npz`` per root and partition.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from attricam.engine.atomic import atomic_path
from attricam.engine.face_descriptor import (
    DESCRIPTOR_NAME,
    DESCRIPTOR_SIZES,
    descriptor_unavailable_reason,
    load_face_descriptor,
)

from .celeba import IMAGE_DIR, load_celeba

if TYPE_CHECKING:
    from attricam.engine.detection import FaceDetector
    from attricam.engine.face_descriptor import FaceDescriptor

__all__ = ["DescriptorTable", "describe_split", "load_descriptor_table", "main", "read_rgb", "redescribe", "table_path"]

log = logging.getLogger(__name__)
_CHUNK = 100
LOWRES_BELOW = 120


@dataclass(frozen=True)
class DescriptorTable:
    """One root's partition: a row per image, ``found`` False where no face was detected (zeros elsewhere)."""

    filenames: tuple[str, ...]
    descriptors: np.ndarray  # (n, d) float32
    boxes: np.ndarray  # (n, 4) float32, original pixels
    landmarks: np.ndarray  # (n, 5, 2) float32, original pixels
    found: np.ndarray  # (n,) bool

    def rows(self, filenames: Sequence[str]) -> np.ndarray:
        """Row index of each of ``filenames`` (-1 when absent)."""
        where = {f: i for i, f in enumerate(self.filenames)}
        return np.array([where.get(f, -1) for f in filenames], np.int64)


@dataclass(frozen=True)
class _Worker:
    """What each worker process holds, made once by :func:`_init_worker`."""

    detector: FaceDetector
    descriptor: FaceDescriptor


_worker: _Worker | None = None


def _init_worker(name: str) -> None:
    global _worker
    import torch

    from attricam.engine.detection import FaceDetector

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    descriptor = load_face_descriptor(name)
    if descriptor is None:
        reason = descriptor_unavailable_reason() or "its network cannot run here"
        raise RuntimeError(f"face descriptor {name!r} unavailable: {reason}")
    _worker = _Worker(FaceDetector(), descriptor)


def read_rgb(root: str, name: str) -> tuple[np.ndarray, int] | None:
    """The image (half-size ones upscaled 2x, as the face cache sees them) and the factor, or None if unreadable."""
    bgr = cv2.imread(str(Path(root) / IMAGE_DIR / name), cv2.IMREAD_COLOR)
    if bgr is None:
        return None
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    factor = 2 if w < LOWRES_BELOW else 1
    return (cv2.resize(rgb, (w * factor, h * factor), interpolation=cv2.INTER_CUBIC) if factor > 1 else rgb), factor


def _describe_chunk(job: tuple[str, list[str], str]) -> str:
    from .cache import _pick_face

    if _worker is None:
        raise RuntimeError("no face descriptor in this process: run chunks in a pool with initializer=_init_worker")
    root, files, out = job
    n = len(files)
    desc = np.zeros((n, DESCRIPTOR_SIZES[_worker.descriptor.name]), np.float32)
    boxes = np.zeros((n, 4), np.float32)
    marks = np.zeros((n, 5, 2), np.float32)
    found = np.zeros(n, bool)
    for i, name in enumerate(files):
        read = read_rgb(root, name)
        if read is None:
            continue
        probe, factor = read
        face = _pick_face(_worker.detector.detect(probe), probe.shape[1], probe.shape[0])
        if face is None:
            continue
        desc[i] = _worker.descriptor.describe(probe, [face.box])[0]
        boxes[i], marks[i], found[i] = face.box / factor, face.landmarks / factor, True
    with atomic_path(Path(out)) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, filenames=np.array(files), descriptors=desc, boxes=boxes, landmarks=marks, found=found)
    return out


def redescribe(boxes_from: Path, root: Path, name: str, out: Path) -> Path:
    """Another descriptor for the faces of an existing table: its boxes (found by the same detector) are reused,
    so only chips and the network run (~200 faces/s instead of detection's ~20)."""
    source = load_descriptor_table(boxes_from)
    describer = load_face_descriptor(name)
    if describer is None:
        raise RuntimeError(f"{name} cannot run here")
    desc = np.zeros((len(source.filenames), DESCRIPTOR_SIZES[name]), np.float32)
    start = time.perf_counter()
    for i in np.nonzero(source.found)[0]:
        read = read_rgb(str(root), source.filenames[i])
        if read is None:
            raise OSError(f"{root / IMAGE_DIR / source.filenames[i]}: unreadable, though {boxes_from} described it")
        probe, factor = read
        desc[i] = describer.describe(probe, [source.boxes[i] * factor])[0]
        if i and i % 2000 == 0:
            log.info("%s: %d/%d faces (%.0f faces/s)", out.name, i, len(desc), i / (time.perf_counter() - start))
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            filenames=np.array(source.filenames),
            descriptors=desc,
            boxes=source.boxes,
            landmarks=source.landmarks,
            found=source.found,
        )
    return out


def table_path(out_dir: Path, root: Path, partition: str, name: str = DESCRIPTOR_NAME) -> Path:
    return out_dir / f"{name}-{root.resolve().name}-{partition}.npz"


def describe_split(
    root: Path, partition: str, filenames: Sequence[str], out_dir: Path, workers: int, name: str = DESCRIPTOR_NAME
) -> Path:
    """Write ``out_dir/<name>-<root>-<partition>.npz`` (resuming finished chunks) and return its path. When a table
    of another descriptor exists for the same images, its boxes are reused (:func:`redescribe`)."""
    final = table_path(out_dir, root, partition, name)
    if final.is_file():
        return final
    for other in DESCRIPTOR_SIZES:
        source = table_path(out_dir, root, partition, other)
        if other != name and source.is_file():
            log.info("%s %s: boxes from %s", root, partition, source.name)
            return redescribe(source, root, name, final)
    parts = final.with_suffix(".parts")
    parts.mkdir(parents=True, exist_ok=True)
    chunks = [list(filenames[i : i + _CHUNK]) for i in range(0, len(filenames), _CHUNK)]
    jobs = [(str(root), c, str(parts / f"{k:05d}.npz")) for k, c in enumerate(chunks)]
    todo = [j for j in jobs if not Path(j[2]).is_file()]
    log.info("%s %s: %d images, %d of %d chunks to describe", root, partition, len(filenames), len(todo), len(jobs))
    start = time.perf_counter()
    with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(name,)) as pool:
        for done, _ in enumerate(pool.imap_unordered(_describe_chunk, todo), 1):
            rate = done * _CHUNK / (time.perf_counter() - start)
            log.info("%s %s: chunk %d/%d (%.1f images/s)", root.name, partition, done, len(todo), rate)
    tables = [np.load(j[2]) for j in jobs]
    with atomic_path(final) as tmp, open(tmp, "wb") as fh:
        columns = {k: np.concatenate([t[k] for t in tables]) for k in tables[0].files}
        np.savez(fh, allow_pickle=False, **columns)  # plain arrays, as np.load read them (it refuses objects)
    return final


def load_descriptor_table(path: Path) -> DescriptorTable:
    with np.load(path) as data:
        return DescriptorTable(
            tuple(str(f) for f in data["filenames"]),
            data["descriptors"].astype(np.float32),
            data["boxes"].astype(np.float32),
            data["landmarks"].astype(np.float32),
            data["found"].astype(bool),
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attricam.training.descriptors", description=__doc__)
    parser.add_argument("--data", type=Path, action="append", required=True, help="CelebA root (repeatable)")
    parser.add_argument("--partition", action="append", default=None, help="train and/or val (default both)")
    parser.add_argument("--out", type=Path, required=True, help="folder of the descriptor tables")
    parser.add_argument("--workers", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    parser.add_argument("--descriptor", choices=sorted(DESCRIPTOR_SIZES), default=DESCRIPTOR_NAME)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    reason = descriptor_unavailable_reason()
    if reason:
        parser.error(reason)
    args.out.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    for root in args.data:
        splits = load_celeba(root, tuple(args.partition or ("train", "val")))
        for partition, split in splits.items():
            files = [f for f in split.filenames if f not in seen]  # a half-size copy of a full-size face adds nothing
            seen.update(files)
            if files:
                print(describe_split(root, partition, files, args.out, args.workers, args.descriptor))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
