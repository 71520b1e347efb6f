"""``attricam evaluate``: a bundle's per-attribute report, plots and attention-region shares on a split."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import torch

from engine.bundle import ModelBundle

from .cache import CropSpec
from .data import load_face_arrays
from .evaluation import attention_region_shares, predict, region_markdown, write_plots, write_report
from .metrics import evaluate_predictions

__all__ = ["evaluate_bundle"]

log = logging.getLogger(__name__)


def evaluate_bundle(
    bundle_path: Path,
    roots: tuple[str, ...],
    split: str,
    *,
    out: Path | None = None,
    cache_dir: str | None = None,
    limit: int | None = None,
    workers: int = 2,
    margin: int = 8,
) -> dict:
    """Evaluate with the bundle's own thresholds; writes ``<out>/<split>_report.{json,md}`` and ``<out>/plots``."""
    torch.set_num_threads(2)
    bundle = ModelBundle.load(bundle_path)
    c = bundle.config
    spec = CropSpec(width=c.image_width, height=c.image_height, margin=margin)
    faces, summary = load_face_arrays(roots, split, cache_dir=cache_dir, spec=spec, workers=workers, limit=limit)
    if len(faces) == 0:
        raise SystemExit(f"no {split} faces under {', '.join(roots)} (the partition's images are not present)")
    model = bundle.build_model()
    probs, attention = predict(model, faces.images, c.image_height, c.image_width)
    labels = faces.labels.numpy()
    result = evaluate_predictions(probs, labels, np.asarray(bundle.thresholds))
    regions = attention_region_shares(attention, c.image_width, c.image_height)
    out = out or bundle_path.parent / f"{bundle_path.stem}-eval"
    out.mkdir(parents=True, exist_ok=True)
    extra = {
        "title": f"{bundle.name} on {split}",
        "bundle": str(bundle_path),
        "split": split,
        "data": summary.to_dict(),
        "at_threshold_0.5": evaluate_predictions(probs, labels, 0.5).to_dict(),
    }
    json_path, md_path = write_report(out / f"{split}_report", result, extra, regions)
    write_plots(out / "plots", probs, labels, result)
    sys.stdout.write("Attention energy inside the expected region (last layer):\n" + region_markdown(regions) + "\n")
    log.info("%s: %s; report %s", split, {k: round(v, 4) for k, v in result.summary().items()}, md_path)
    return {"report": str(json_path), "summary": result.summary(), "regions": regions}
