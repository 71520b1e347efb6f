"""``attricam evaluate``: a bundle's per-attribute report, plots and attention-region shares on a split."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import torch

from engine.bundle import ModelBundle
from engine.model_config import CROP_MARGIN

from .cache import CropSpec
from .camera_shift import shifted_val_inputs
from .crossfit import score_rule
from .data import load_face_arrays
from .evaluation import (
    attention_region_shares,
    attention_summary,
    predict_detailed,
    region_markdown,
    write_plots,
    write_report,
)
from .finalize import shifted_rate_rows
from .metrics import evaluate_predictions

__all__ = ["evaluate_bundle", "rates_table"]

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
    margin: int = CROP_MARGIN,
    shifted: bool = True,
) -> dict:
    """Evaluate under the bundle's own decision rule; writes ``<out>/<split>_report.{json,md}`` and ``<out>/plots``.

    With ``shifted`` the same faces are also scored after the camera-shift degradations
    (``training.camera_shift``): per attribute, predicted vs true positive rate.
    """
    torch.set_num_threads(2)
    bundle = ModelBundle.load(bundle_path)
    rule = bundle.decision_rule
    c = bundle.config
    spec = CropSpec(width=c.image_width, height=c.image_height, margin=margin)
    faces, summary = load_face_arrays(roots, split, cache_dir=cache_dir, spec=spec, workers=workers, limit=limit)
    if len(faces) == 0:
        raise SystemExit(f"no {split} faces under {', '.join(roots)} (the partition's images are not present)")
    model = bundle.build_model()
    clean = predict_detailed(model, faces.images, c.image_height, c.image_width)
    labels = faces.labels.numpy()
    result = score_rule(rule, clean.probabilities, labels)
    regions = attention_region_shares(clean.mean_attention, c.image_width, c.image_height)
    attention = attention_summary(clean, c.image_width, c.image_height)
    out = out or bundle_path.parent / f"{bundle_path.stem}-eval"
    out.mkdir(parents=True, exist_ok=True)
    extra = {
        "title": f"{bundle.name} on {split}",
        "bundle": str(bundle_path),
        "split": split,
        "data": summary.to_dict(),
        "calibrated": not rule.is_identity,
        "attention": attention,
        "at_threshold_0.5": evaluate_predictions(clean.probabilities, labels, 0.5).to_dict(),
    }
    shifted_result = None
    if shifted:
        inputs = shifted_val_inputs(faces.images, c.image_height, c.image_width)
        shifted_probs = predict_detailed(model, inputs, c.image_height, c.image_width).probabilities
        shifted_result = score_rule(rule, shifted_probs, labels)
        extra["shifted"] = shifted_result.to_dict()
        extra["shifted_rates"] = shifted_rate_rows(shifted_result)
    json_path, md_path = write_report(out / f"{split}_report", result, extra, regions)
    write_plots(out / "plots", rule.calibrate(clean.probabilities), labels, result)
    lines = [
        f"Attention (default view): mean pairwise cosine of the 40 maps {attention['map_cosine']:.3f}",
        "Attention inside the expected region:",
        region_markdown(regions),
    ]
    if shifted_result is not None:
        lines += [f"Shifted {split} (pose, framing, JPEG, blur, noise, low-res, lighting, colour casts):", rates_table(extra["shifted_rates"])]
    if split == "val" and bundle.metadata.get("decision_fit", {}).get("faces"):
        lines.append(
            "Note: this bundle's decision rule was fitted with these val faces (and the calibration slice of train); "
            "the honest, cross-fitted val figures are in its model card (metadata 'val')."
        )
    sys.stdout.write("\n".join(lines) + "\n")
    log.info("%s: %s; report %s", split, {k: round(v, 4) for k, v in result.summary().items()}, md_path)
    return {
        "report": str(json_path),
        "summary": result.summary(),
        "shifted_summary": shifted_result.summary() if shifted_result else {},
        "regions": regions,
        "attention": attention,
    }


def rates_table(rows: list[dict]) -> str:
    """Markdown: predicted vs true positive rate per attribute; rare ones outside 0.5-1.5x are marked."""
    out = ["| attribute | train rate | true rate | predicted rate | ratio | F1 |", "|---|---|---|---|---|---|"]
    for r in rows:
        flag = " **out of 0.5-1.5x**" if r["rare"] and not 0.5 <= r["ratio"] <= 1.5 else ""
        out.append(
            f"| {r['attribute']}{' (rare)' if r['rare'] else ''} | {r['train_rate']:.3f} | {r['true_rate']:.3f} | "
            f"{r['predicted_rate']:.3f} | {r['ratio']:.2f}{flag} | {r['f1']:.3f} |"
        )
    return "\n".join(out)
