"""Detect and align every CelebA image once, and keep the aligned crops on disk.

MTCNN costs ~25 ms per image per core — far more than a training step — so the
trainer never runs it. This module runs the engine's own :class:`FaceDetector`
and :func:`align_face` (the exact code path of live inference) once per image
and stores uint8 crops with a ``margin`` on every side, so augmentation can
random-crop/jitter without leaving the face. Caches are keyed by the root, the
file list, the crop geometry and ``ALIGNER_VERSION``: changing any of them
builds a fresh cache instead of silently reusing stale crops.

A finished cache is two files: ``faces-<key>.npy``, the crops as one uint8 array
(n, H+2m, W+2m, 3) opened memory-mapped, so a run touches only the pages of the
faces it batches and DataLoader workers share them through the page cache, and
``faces-<key>.json``, the file lists, written last (a cache without it is
unfinished). A cache of the older single-``.npz`` format is converted once,
with a log line, or read into memory when its folder is read-only.

Work is split in chunks written as they finish, so an interrupted build resumes.
``--shard i/n`` builds one contiguous share of each split's file list (its own
key), and ``attricam merge cache`` joins the shards into the cache an unsharded
build writes, byte for byte.
Low-resolution images (narrower than ``lowres_below`` px) are detected on a 2x
upscaled copy (MTCNN misses small faces), landmarks are divided by 2, and the
crop is warped from the original pixels.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing as mp
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from attricam.engine.alignment import ALIGNER_VERSION, align_face
from attricam.engine.model_config import CROP_MARGIN, IMAGE_HEIGHT, IMAGE_WIDTH
from attricam.engine.workspace import workspace_dir

from .celeba import IMAGE_DIR, load_celeba
from .config import DATA_ROOT_HELP, default_data_root

if TYPE_CHECKING:
    from attricam.engine.detection import Detection, FaceDetector

__all__ = [
    "CropSpec",
    "FaceCache",
    "add_cache_arguments",
    "build_face_cache",
    "cache_file",
    "cache_key",
    "cache_ready",
    "default_cache_dir",
    "merge_face_caches",
    "run_cache",
]

log = logging.getLogger(__name__)
_CHUNK = 250


def default_cache_dir() -> Path:
    """``cache/`` of the clone, or of the per-user data folder for an installed wheel."""
    return workspace_dir() / "cache"


@dataclass(frozen=True)
class CropSpec:
    """Geometry of the cached crops: model input ``width x height`` plus ``margin`` px per side."""

    width: int = IMAGE_WIDTH
    height: int = IMAGE_HEIGHT
    margin: int = CROP_MARGIN
    lowres_below: int = 120
    """Images narrower than this are detected on a 2x upscaled copy."""


@dataclass(frozen=True)
class FaceCache:
    """Aligned crops of one root: images (n, height+2m, width+2m, 3) uint8 RGB, in ``filenames`` order."""

    root: str
    filenames: tuple[str, ...]
    images: np.ndarray
    no_face: tuple[str, ...]
    """Files without any detected face; left out of ``filenames``."""
    unreadable: tuple[str, ...]
    spec: CropSpec


def cache_key(root: str | Path, filenames: Sequence[str], spec: CropSpec) -> str:
    digest = hashlib.sha1()
    digest.update(str(Path(root).resolve()).encode())
    digest.update("\n".join(filenames).encode())
    digest.update(json.dumps(asdict(spec), sort_keys=True).encode())
    digest.update(f"aligner={ALIGNER_VERSION}".encode())
    return digest.hexdigest()[:16]


def cache_file(root: str | Path, filenames: Sequence[str], cache_dir: str | Path | None, spec: CropSpec) -> Path:
    """The index (``.json``) of the cache of (root, filenames, spec); its crops are the ``.npy`` beside it."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    return cache_dir / f"faces-{cache_key(root, filenames, spec)}.json"


def cache_ready(root: str | Path, filenames: Sequence[str], cache_dir: str | Path | None, spec: CropSpec) -> bool:
    """A finished cache exists, in this format or the older ``.npz`` one."""
    index = cache_file(root, filenames, cache_dir, spec)
    return index.is_file() or index.with_suffix(".npz").is_file()


def _write_cache(
    index: Path,
    filenames: Sequence[str] | np.ndarray,
    no_face: Sequence[str] | np.ndarray,
    unreadable: Sequence[str] | np.ndarray,
    chunks: Sequence[np.ndarray],
    spec: CropSpec,
) -> None:
    """Crops (concatenated from ``chunks`` without holding them all) to ``.npy``, then the ``.json`` index.

    The three name lists are lists of ``str`` or numpy string arrays (as read back from a chunk's ``.npz``).
    """
    from attricam.engine.atomic import atomic_path, atomic_write_text

    shape = (sum(len(c) for c in chunks), spec.height + 2 * spec.margin, spec.width + 2 * spec.margin, 3)
    with atomic_path(index.with_suffix(".npy")) as tmp:
        images = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        start = 0
        for chunk in chunks:
            images[start : start + len(chunk)] = chunk
            start += len(chunk)
        images.flush()
        del images
    meta = {
        "filenames": [str(f) for f in filenames],
        "no_face": [str(f) for f in no_face],
        "unreadable": [str(f) for f in unreadable],
        "spec": asdict(spec),
        "aligner": ALIGNER_VERSION,
    }
    atomic_write_text(index, json.dumps(meta))


def _open_cache(root: Path, index: Path, spec: CropSpec) -> FaceCache:
    """The cache behind ``index``; an older ``.npz`` is converted first (or read into memory if it cannot be)."""
    legacy = index.with_suffix(".npz")
    if not index.is_file() and legacy.is_file():
        with np.load(legacy) as data:
            arrays = {k: data[k] for k in ("filenames", "images", "no_face", "unreadable")}
        try:
            _write_cache(index, arrays["filenames"], arrays["no_face"], arrays["unreadable"], [arrays["images"]], spec)
        except OSError as exc:
            log.info("%s: old .npz cache read into memory (cannot write its memory-mapped twin: %s)", legacy.name, exc)
            return FaceCache(
                root=str(root),
                filenames=tuple(map(str, arrays["filenames"])),
                images=arrays["images"],
                no_face=tuple(map(str, arrays["no_face"])),
                unreadable=tuple(map(str, arrays["unreadable"])),
                spec=spec,
            )
        log.info(
            "%s: converted the old cache %s to memory-mapped %s (one-off; the .npz may be deleted)",
            root,
            legacy.name,
            index.with_suffix(".npy").name,
        )
    meta = json.loads(index.read_text())
    images = np.load(index.with_suffix(".npy"), mmap_mode="c")  # copy-on-write: writable for torch, never written
    return FaceCache(
        str(root), tuple(meta["filenames"]), images, tuple(meta["no_face"]), tuple(meta["unreadable"]), spec
    )


_detector: FaceDetector | None = None  # one per worker process, made by _init_worker


def _init_worker() -> None:
    global _detector
    import torch

    from attricam.engine.detection import FaceDetector

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    _detector = FaceDetector()


def _worker_detector() -> FaceDetector:
    """This worker process's detector."""
    if _detector is None:
        raise RuntimeError("no face detector in this process: chunks run in a pool made with initializer=_init_worker")
    return _detector


def _pick_face(detections: Sequence[Detection], width: int, height: int) -> Detection | None:
    """The detection whose box centre is nearest the image centre, among the larger ones (CelebA is centred)."""
    if not detections:
        return None
    areas = np.array([(d.box[2] - d.box[0]) * (d.box[3] - d.box[1]) for d in detections])
    candidates = [d for d, a in zip(detections, areas) if a >= 0.3 * areas.max()]
    centre = np.array([width / 2, height / 2])
    return min(candidates, key=lambda d: np.linalg.norm((d.box[:2] + d.box[2:]) / 2 - centre))


def _process_chunk(job: tuple[str, list[str], CropSpec]) -> tuple[list[str], np.ndarray, list[str], list[str]]:
    root, files, spec = job
    kept, crops, no_face, unreadable = [], [], [], []
    for name in files:
        bgr = cv2.imread(str(Path(root) / IMAGE_DIR / name), cv2.IMREAD_COLOR)
        if bgr is None:
            unreadable.append(name)
            continue
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        factor = 2 if w < spec.lowres_below else 1
        probe = cv2.resize(rgb, (w * factor, h * factor), interpolation=cv2.INTER_CUBIC) if factor > 1 else rgb
        face = _pick_face(_worker_detector().detect(probe), probe.shape[1], probe.shape[0])
        if face is None:
            no_face.append(name)
            continue
        aligned = align_face(rgb, face.landmarks / factor, width=spec.width, height=spec.height, margin=spec.margin)
        kept.append(name)
        crops.append(aligned.image)
    shape = (0, spec.height + 2 * spec.margin, spec.width + 2 * spec.margin, 3)
    return kept, (np.stack(crops) if crops else np.zeros(shape, np.uint8)), no_face, unreadable


def build_face_cache(
    root: str | Path,
    filenames: Sequence[str],
    cache_dir: str | Path | None = None,
    spec: CropSpec = CropSpec(),
    *,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> FaceCache:
    """Load the cache for (root, filenames, spec), building the missing chunks first."""
    root = Path(root)
    filenames = list(filenames)
    final = cache_file(root, filenames, cache_dir, spec)
    if not cache_ready(root, filenames, cache_dir, spec):
        _build(root, filenames, final.with_suffix(".parts"), final, spec, workers, progress)
    cache = _open_cache(root, final, spec)
    if cache.no_face or cache.unreadable:
        log.warning(
            "%s: no face in %d images, %d unreadable (left out)", root, len(cache.no_face), len(cache.unreadable)
        )
    log.info("%s: %d aligned faces cached in %s", root, len(cache.filenames), final.name)
    return cache


def _build(
    root: Path,
    filenames: list[str],
    parts: Path,
    final: Path,
    spec: CropSpec,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    from attricam.engine.atomic import atomic_path

    parts.mkdir(parents=True, exist_ok=True)
    chunks = [filenames[i : i + _CHUNK] for i in range(0, len(filenames), _CHUNK)]
    todo = [(i, c) for i, c in enumerate(chunks) if not (parts / f"{i:05d}.npz").is_file()]
    done = len(filenames) - sum(len(c) for _, c in todo)
    log.info("%s: caching %d images (%d already done) with %d workers", root, len(filenames), done, workers)
    started = time.perf_counter()
    if todo:
        from tqdm import tqdm

        bar = tqdm(
            total=len(filenames), initial=done, desc="aligning faces", unit="img", disable=None, dynamic_ncols=True
        )
        with bar, mp.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
            jobs = [(str(root), c, spec) for _, c in todo]
            for (i, chunk), result in zip(todo, pool.imap(_process_chunk, jobs)):
                kept, crops, no_face, unreadable = result
                with atomic_path(parts / f"{i:05d}.npz") as tmp:
                    np.savez(
                        tmp,
                        filenames=np.array(kept),
                        images=crops,
                        no_face=np.array(no_face),
                        unreadable=np.array(unreadable),
                    )
                done += len(chunk)
                bar.update(len(chunk))
                if progress:
                    progress(done, len(filenames))
        rate = sum(len(c) for _, c in todo) / (time.perf_counter() - started)
        log.info("%s: detection+alignment at %.1f images/s", root, rate)
    merged: dict[str, list[np.ndarray]] = {"filenames": [], "images": [], "no_face": [], "unreadable": []}
    for i in range(len(chunks)):
        with np.load(parts / f"{i:05d}.npz") as data:
            for k, values in merged.items():
                values.append(data[k])
    _write_cache(
        final,
        np.concatenate(merged["filenames"]).astype(str),
        np.concatenate(merged["no_face"]).astype(str),
        np.concatenate(merged["unreadable"]).astype(str),
        merged["images"],
        spec,
    )
    for p in parts.glob("*.npz"):
        p.unlink()
    parts.rmdir()


def merge_face_caches(
    root: str | Path, filenames: Sequence[str], shards: int, cache_dir: str | Path | None, spec: CropSpec = CropSpec()
) -> FaceCache:
    """Join the caches of shards ``0/n .. n-1/n`` of ``filenames`` into the cache of all of them."""
    from attricam.engine.shards import Shard

    filenames = list(filenames)
    parts = [Shard(i, shards).take(filenames) for i in range(shards)]
    missing = [f"{i}/{shards}" for i, p in enumerate(parts) if p and not cache_ready(root, p, cache_dir, spec)]
    if missing:
        raise FileNotFoundError(f"{root}: no finished cache of shard(s) {', '.join(missing)}; build them first")
    caches = [_open_cache(Path(root), cache_file(root, p, cache_dir, spec), spec) for p in parts if p]
    final = cache_file(root, filenames, cache_dir, spec)
    _write_cache(
        final,
        [f for c in caches for f in c.filenames],
        [f for c in caches for f in c.no_face],
        [f for c in caches for f in c.unreadable],
        [c.images for c in caches],
        spec,
    )
    log.info("%s: merged %d shard caches into %s", root, shards, final.name)
    return _open_cache(Path(root), final, spec)


def add_cache_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    from attricam.engine.arg_types import positive_int
    from attricam.engine.shards import parse_shard

    from .config_checks import parse_partitions

    parser.add_argument("--data", type=Path, action="append", help=f"CelebA root(s); default {DATA_ROOT_HELP}")
    parser.add_argument("--partitions", type=parse_partitions, default=("train", "val"))
    parser.add_argument("--cache", type=Path, default=None, help="cache directory (default ./cache)")
    parser.add_argument("--workers", type=positive_int, default=2, help="face-detection processes")
    parser.add_argument(
        "--shard",
        type=parse_shard,
        default=None,
        metavar="i/n",
        help="build only share i (0-based) of n of each split; 'env' takes torchrun's RANK/WORLD_SIZE. "
        "Join the shards with: attricam merge cache --shards n",
    )
    return parser


def run_cache(args: argparse.Namespace) -> int:
    from attricam.engine.output_paths import OutputPathError, check_output_folder

    from .preflight import SetupError, check_data_root

    roots = args.data or [default_data_root()]
    try:
        for root in roots:
            check_data_root(root)
        check_output_folder(Path(args.cache) if args.cache else default_cache_dir(), "--cache")
    except (SetupError, OutputPathError) as exc:
        print(f"attricam cache: error: {exc}", file=sys.stderr)
        return 2
    for root in roots:
        splits = load_celeba(root, args.partitions)
        for name, split in splits.items():
            files = args.shard.take(split.filenames) if args.shard else split.filenames
            if files:
                log.info("%s %s: %d images%s", root, name, len(files), f" (shard {args.shard})" if args.shard else "")
                build_face_cache(root, files, args.cache, workers=args.workers)
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = add_cache_arguments(argparse.ArgumentParser(description="Detect, align and cache CelebA faces"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_cache(parser.parse_args(argv))


if __name__ == "__main__":
    main()
