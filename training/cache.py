"""Detect and align every CelebA image once, and keep the aligned crops on disk.

MTCNN costs ~25 ms per image per core — far more than a training step — so the
trainer never runs it. This module runs the engine's own :class:`FaceDetector`
and :func:`align_face` (the exact code path of live inference) once per image
and stores uint8 crops with a ``margin`` on every side, so augmentation can
random-crop/jitter without leaving the face. Caches are keyed by the root, the
file list, the crop geometry and ``ALIGNER_VERSION``: changing any of them
builds a fresh cache instead of silently reusing stale crops.

Work is split in chunks written as they finish, so an interrupted build resumes.
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
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from engine.alignment import ALIGNER_VERSION, align_face
from engine.model_config import CROP_MARGIN, IMAGE_HEIGHT, IMAGE_WIDTH

from .celeba import IMAGE_DIR, load_celeba
from .config import DATA_ROOT_HELP, default_data_root

__all__ = ["CropSpec", "FaceCache", "build_face_cache", "cache_file", "cache_key", "default_cache_dir"]

log = logging.getLogger(__name__)
_CHUNK = 250


def default_cache_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "cache"


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
    """Where the finished cache of (root, filenames, spec) lives (it may not exist yet)."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    return cache_dir / f"faces-{cache_key(root, filenames, spec)}.npz"


_detector = None


def _init_worker() -> None:
    global _detector
    import torch

    from engine.detection import FaceDetector

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    _detector = FaceDetector()


def _pick_face(detections: list, width: int, height: int):
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
        face = _pick_face(_detector.detect(probe), probe.shape[1], probe.shape[0])
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
    if not final.is_file():
        _build(root, filenames, final.with_suffix(".parts"), final, spec, workers, progress)
    with np.load(final) as data:
        cache = FaceCache(
            root=str(root),
            filenames=tuple(str(f) for f in data["filenames"]),
            images=data["images"],
            no_face=tuple(str(f) for f in data["no_face"]),
            unreadable=tuple(str(f) for f in data["unreadable"]),
            spec=spec,
        )
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
    from engine.atomic import atomic_path

    parts.mkdir(parents=True, exist_ok=True)
    chunks = [filenames[i : i + _CHUNK] for i in range(0, len(filenames), _CHUNK)]
    todo = [(i, c) for i, c in enumerate(chunks) if not (parts / f"{i:05d}.npz").is_file()]
    done = len(filenames) - sum(len(c) for _, c in todo)
    log.info("%s: caching %d images (%d already done) with %d workers", root, len(filenames), done, workers)
    started = time.perf_counter()
    if todo:
        from tqdm import tqdm

        bar = tqdm(total=len(filenames), initial=done, desc="aligning faces", unit="img", disable=None, dynamic_ncols=True)
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
    merged: dict[str, list] = {"filenames": [], "images": [], "no_face": [], "unreadable": []}
    for i in range(len(chunks)):
        with np.load(parts / f"{i:05d}.npz") as data:
            for k, values in merged.items():
                values.append(data[k])
    with atomic_path(final) as tmp:
        np.savez(
            tmp,
            filenames=np.concatenate(merged["filenames"]).astype(str),
            images=np.concatenate(merged["images"]),
            no_face=np.concatenate(merged["no_face"]).astype(str),
            unreadable=np.concatenate(merged["unreadable"]).astype(str),
        )
    for p in parts.glob("*.npz"):
        p.unlink()
    parts.rmdir()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Detect, align and cache CelebA faces")
    parser.add_argument("--data", type=Path, action="append", help=f"CelebA root(s); default {DATA_ROOT_HELP}")
    parser.add_argument("--partitions", default="train,val")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for root in args.data or [default_data_root()]:
        splits = load_celeba(root, tuple(args.partitions.split(",")))
        for split in splits.values():
            if len(split):
                build_face_cache(
                    root,
                    split.filenames,
                    args.cache,
                    workers=args.workers,
                )


if __name__ == "__main__":
    main()
