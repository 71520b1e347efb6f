"""Process side of the GUI's long jobs: training and evaluation, run as ``python -m desktop.jobs``.

No Qt here. The training tab starts this module in a QProcess so the window
stays smooth and Stop is a plain signal to another process. Progress goes to
stdout as JSON lines (one object per line, ``kind`` names it: the trainer's
own events from :mod:`training.events`, plus ``log``/``error``/``stopped``/
``evaluated``); logging goes to stderr.

    python -m desktop.jobs train --config cfg.json [--resume]
    python -m desktop.jobs evaluate --bundle model.pt --data ROOT [--limit N] --out eval.npz
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

__all__ = ["main"]


_PROGRESS_CHUNK = 64
"""Faces per evaluation step between two progress events."""


def _emit(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload, allow_nan=True) + "\n")
    sys.stdout.flush()


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so ``finally`` blocks run and the last checkpoint stays whole."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def run_train(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from training.config import TrainConfig
    from training.trainer import main as train_main

    config = TrainConfig.from_dict(json.loads(Path(args.config).read_text()))
    result = train_main(config, lambda event: _emit(asdict(event)), resume=args.resume)
    if not result.get("finished", False):
        _emit({"kind": "stopped", "checkpoint": result.get("checkpoint", "")})
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Predict the val faces of ``--data`` with a bundle; saves probabilities, labels and mean attention."""
    import numpy as np
    import torch

    from engine.bundle import ModelBundle
    from training.augment import center_crop
    from training.cache import CropSpec
    from training.data import load_face_arrays
    from training.evaluation import predict

    torch.set_num_threads(args.threads)
    bundle = ModelBundle.load(args.bundle)
    c = bundle.config
    _emit({"kind": "log", "message": f"Reading and aligning val faces of {args.data} (cached after the first run)…"})
    spec = CropSpec(width=c.image_width, height=c.image_height, margin=args.margin)
    data, _ = load_face_arrays(
        [args.data], args.partition, spec=spec, workers=args.workers, limit=args.limit or None, cache_dir=args.cache_dir
    )
    if len(data) == 0:
        _emit({"kind": "error", "message": f"{args.data}: no {args.partition} faces found"})
        return 1
    _emit({"kind": "log", "message": f"Evaluating {len(data)} faces…"})
    model, total = bundle.build_model(), len(data)
    parts, attention = [], None
    _emit({"kind": "progress", "done": 0, "total": total})
    for start in range(0, total, _PROGRESS_CHUNK):  # in chunks, so the dashboard can show how far it got
        images = data.images[start : start + _PROGRESS_CHUNK]
        chunk, chunk_attention = predict(model, images, c.image_height, c.image_width)
        parts.append(chunk)
        weighted = chunk_attention * (len(images) / total)  # predict returns the chunk's mean attention
        attention = weighted if attention is None else attention + weighted
        _emit({"kind": "progress", "done": min(start + _PROGRESS_CHUNK, total), "total": total})
    probabilities = np.concatenate(parts)
    mean_face = center_crop(data.images, c.image_height, c.image_width).float().mean(0)  # (3, H, W) in [0, 1]
    mean_face = (mean_face.permute(1, 2, 0).numpy() * 255).clip(0, 255).astype(np.uint8)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        probabilities=probabilities,
        labels=data.labels.numpy(),
        attention=attention,
        thresholds=np.asarray(bundle.thresholds, np.float32),
        mean_face=mean_face,
    )
    _emit({"kind": "evaluated", "out": str(out), "count": len(data), "bundle": str(args.bundle)})
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m desktop.jobs", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="job", required=True)
    train = sub.add_parser("train", help="train from a TrainConfig JSON file")
    train.add_argument("--config", required=True)
    train.add_argument("--resume", action="store_true", help="continue the checkpoint in the config's out folder")
    evaluate = sub.add_parser("evaluate", help="per-face predictions of a bundle on a CelebA partition")
    evaluate.add_argument("--bundle", required=True)
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--out", required=True)
    evaluate.add_argument("--partition", default="val", choices=("train", "val", "test"))
    evaluate.add_argument("--limit", type=int, default=0, help="first N images only (0 = all)")
    evaluate.add_argument("--margin", type=int, default=8)
    evaluate.add_argument("--workers", type=int, default=2)
    evaluate.add_argument("--threads", type=int, default=2)
    evaluate.add_argument("--cache-dir", default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    _stop_on_sigterm()
    try:
        return run_train(args) if args.job == "train" else run_evaluate(args)
    except KeyboardInterrupt:
        _emit({"kind": "stopped", "checkpoint": ""})
        return 130
    except Exception as exc:
        logging.getLogger("desktop.jobs").exception("job failed")
        _emit({"kind": "error", "message": f"{type(exc).__name__}: {exc}"})
        return 1


if __name__ == "__main__":  # guarded: the face cache's spawn pool re-imports this module
    sys.exit(main())
