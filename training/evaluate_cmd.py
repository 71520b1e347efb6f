"""``attricam evaluate``: a bundle's per-attribute report, plots and attention-region shares on a split.

The report holds everything the desktop dashboard shows, so the dashboard computes nothing:
per-attribute metrics under the bundle's rule, ROC points per attribute, the loss weights the
bundle was trained with; ``<split>_arrays.npz`` holds the mean attention maps and the mean face.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import torch

from attricam.engine.atomic import atomic_path
from attricam.engine.bundle import ModelBundle
from attricam.engine.decision import DecisionRule
from attricam.engine.model import CrossAttentionAttributeModel
from attricam.engine.model_config import CROP_MARGIN, AttributeModelConfig

from .augment import center_crop, shifted_val_inputs
from .cache import CropSpec
from .crossfit import score_rule
from .data import DataSummary, FaceArrays, load_face_arrays
from .evaluation import (
    AttentionSummary,
    Predictions,
    RegionShare,
    attention_region_shares,
    attention_summary,
    predict_detailed,
    region_markdown,
    write_plots,
    write_report,
)
from .events import EvaluatedEvent, Event, EventCallback, LogEvent, ProgressEvent
from .finalize import ShiftedRate, shifted_rate_rows
from .metrics import EvaluationResult, evaluate_predictions, roc_points

__all__ = ["EvaluationOutcome", "applied_loss_weights", "evaluate_bundle", "rates_table"]

_PROGRESS_BATCH = 64
"""Faces per inference batch: one progress event each."""


class EvaluationOutcome(TypedDict):
    """What :func:`evaluate_bundle` returns beside the files it writes."""

    report: str
    """The report's JSON path."""
    summary: dict[str, float]
    shifted_summary: dict[str, float]
    """The same on camera-shifted inputs, {} without ``shifted``."""
    regions: list[RegionShare]
    attention: AttentionSummary


def applied_loss_weights(bundle: ModelBundle) -> dict[str, Any]:
    """The loss weights the bundle was trained with: as recorded at the end of training, or else rebuilt from its
    recipe (then without emergency boosts or deferred re-weighting, and ``source`` says so); {} without a recipe.
    The keys of :class:`attricam.training.losses.AppliedWeights` and ``source``, as the bundle's metadata holds them."""
    recorded = bundle.metadata.get("loss_weights")
    if isinstance(recorded, dict) and recorded.get("pos_weight"):
        return recorded
    recipe = bundle.metadata.get("recipe")
    if not isinstance(recipe, dict) or "loss" not in recipe:
        return {}
    from .losses import LossConfig, build_loss

    known = set(LossConfig.__dataclass_fields__) - {"name"}
    try:
        loss = build_loss(recipe["loss"], **{k: v for k, v in recipe.items() if k in known})
    except (TypeError, ValueError) as exc:
        log.warning("%s: recipe %s gives no loss weights (%s)", bundle.name, recipe, exc)
        return {}
    return {**loss.applied_weights(), "source": "recipe (at the start of training; later fixes not recorded)"}


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
    plots: bool = True,
    threads: int = 2,
    callback: EventCallback | None = None,
) -> EvaluationOutcome:
    """Evaluate under the bundle's own decision rule; writes ``<out>/<split>_report.{json,md}``,
    ``<out>/<split>_arrays.npz`` and (with ``plots``) ``<out>/plots``.

    With ``shifted`` the same faces are also scored after the camera-shift degradations
    (``attricam.training.camera_shift``): per attribute, predicted vs true positive rate. ``callback``
    receives log, progress and a final :class:`~attricam.training.events.EvaluatedEvent`.
    """
    emit: EventCallback = callback if callback is not None else _ignore
    torch.set_num_threads(threads)
    bundle = ModelBundle.load(bundle_path)
    rule = bundle.decision_rule
    c = bundle.config
    spec = CropSpec(width=c.image_width, height=c.image_height, margin=margin)
    faces, summary = _read_faces(roots, split, spec, cache_dir=cache_dir, workers=workers, limit=limit, emit=emit)
    model, clean = _predict_with_progress(bundle, faces, emit)
    labels = faces.labels.numpy()
    calibrated = rule.calibrate(clean.probabilities)
    result = score_rule(rule, clean.probabilities, labels)
    regions = attention_region_shares(clean.mean_attention, c.image_width, c.image_height)
    attention = attention_summary(clean, c.image_width, c.image_height)
    out = out or bundle_path.parent / f"{bundle_path.stem}-eval"
    out.mkdir(parents=True, exist_ok=True)
    arrays_path = _write_arrays(out / f"{split}_arrays.npz", clean.mean_attention, faces, c.image_height, c.image_width)
    extra = _report_header(bundle, bundle_path, split, summary, rule, attention, clean, calibrated, labels, result)
    extra["arrays"] = arrays_path.name
    shifted_result = _score_shifted(model, faces.images, rule, labels, c) if shifted else None
    shifted_rates = shifted_rate_rows(shifted_result) if shifted_result is not None else []
    if shifted_result is not None:
        extra.update(shifted=shifted_result.to_dict(), shifted_rates=shifted_rates)
    json_path, md_path = write_report(out / f"{split}_report", result, extra, regions)
    if plots:
        write_plots(out / "plots", calibrated, labels, result)
    if callback is None:  # the tables are for a person; a JSON-lines consumer reads the report
        rule_saw_val = split == "val" and bool(bundle.metadata.get("decision_fit", {}).get("faces"))
        lines = _console_lines(split, attention, regions, shifted_rates if shifted_result else None, rule_saw_val)
        sys.stdout.write("\n".join(lines) + "\n")
    log.info("%s: %s; report %s", split, {k: round(v, 4) for k, v in result.summary().items()}, md_path)
    emit(EvaluatedEvent(bundle=str(bundle_path), report=str(json_path), arrays=str(arrays_path), count=len(faces)))
    return {
        "report": str(json_path),
        "summary": result.summary(),
        "shifted_summary": shifted_result.summary() if shifted_result else {},
        "regions": regions,
        "attention": attention,
    }


def _ignore(event: Event) -> None:
    """The listener when nobody listens."""


def _read_faces(
    roots: tuple[str, ...],
    split: str,
    spec: CropSpec,
    *,
    cache_dir: str | None,
    workers: int,
    limit: int | None,
    emit: Callable[[Event], None],
) -> tuple[FaceArrays, DataSummary]:
    """The split's aligned faces (cached after the first run); a split without any stops the command."""
    emit(LogEvent(f"Reading and aligning {split} faces of {', '.join(roots)} (cached after the first run)…"))
    faces, summary = load_face_arrays(roots, split, cache_dir=cache_dir, spec=spec, workers=workers, limit=limit)
    if len(faces) == 0:
        raise SystemExit(f"no {split} faces under {', '.join(roots)} (the partition's images are not present)")
    return faces, summary


def _predict_with_progress(
    bundle: ModelBundle, faces: FaceArrays, emit: Callable[[Event], None]
) -> tuple[CrossAttentionAttributeModel, Predictions]:
    """The bundle's model and its predictions on ``faces``, reported as progress every ``_PROGRESS_BATCH`` faces."""
    c = bundle.config
    emit(LogEvent(f"Evaluating {len(faces)} faces…"))
    emit(ProgressEvent(0, len(faces)))
    model = bundle.build_model()
    clean = predict_detailed(
        model,
        faces.images,
        c.image_height,
        c.image_width,
        batch_size=_PROGRESS_BATCH,
        progress=lambda done, total: emit(ProgressEvent(done, total)),
    )
    return model, clean


def _report_header(
    bundle: ModelBundle,
    bundle_path: Path,
    split: str,
    summary: DataSummary,
    rule: DecisionRule,
    attention: AttentionSummary,
    clean: Predictions,
    calibrated: np.ndarray,
    labels: np.ndarray,
    result: EvaluationResult,
) -> dict[str, Any]:
    """The report's JSON header: what was evaluated on which faces, and what the tables do not show."""
    return {
        "title": f"{bundle.name} on {split}",
        "bundle": str(bundle_path),
        "split": split,
        "data": summary.to_dict(),
        "calibrated": not rule.is_identity,
        "attention": attention,
        "at_threshold_0.5": evaluate_predictions(clean.probabilities, labels, 0.5).to_dict(),
        "roc": _roc_curves(calibrated, labels, result),
        "loss_weights": applied_loss_weights(bundle),
    }


def _score_shifted(
    model: CrossAttentionAttributeModel,
    images: torch.Tensor,
    rule: DecisionRule,
    labels: np.ndarray,
    c: AttributeModelConfig,
) -> EvaluationResult:
    """The same faces after the camera-shift degradations (:mod:`attricam.training.camera_shift`), same rule."""
    inputs = shifted_val_inputs(images, c.image_height, c.image_width)
    shifted_probs = predict_detailed(model, inputs, c.image_height, c.image_width).probabilities
    return score_rule(rule, shifted_probs, labels)


def _roc_curves(
    calibrated: np.ndarray, labels: np.ndarray, result: EvaluationResult
) -> dict[str, dict[str, list[float]]]:
    """Attribute -> {"fpr": [...], "tpr": [...]} of the calibrated probabilities (attributes with one class left out)."""
    roc: dict[str, dict[str, list[float]]] = {}
    for j, a in enumerate(result.attributes):
        fpr, tpr = roc_points(calibrated[:, j], labels[:, j])
        if len(fpr):
            roc[a.name] = {"fpr": fpr.round(4).tolist(), "tpr": tpr.round(4).tolist()}
    return roc


def _write_arrays(path: Path, mean_attention: np.ndarray, faces: FaceArrays, height: int, width: int) -> Path:
    """The Dashboard's arrays: mean attention (layers, 40, gh, gw) and the mean face (H, W, 3) uint8."""
    mean_face = center_crop(faces.images, height, width).float().mean(0)  # (3, H, W) in [0, 1]
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(
            handle,
            attention=mean_attention.astype(np.float32),
            mean_face=(mean_face.permute(1, 2, 0).numpy() * 255).clip(0, 255).astype(np.uint8),
        )
    return path


def _console_lines(
    split: str,
    attention: AttentionSummary,
    regions: list[RegionShare],
    shifted_rates: list[ShiftedRate] | None,
    rule_saw_val: bool,
) -> list[str]:
    """What a person running ``attricam evaluate`` reads: attention, shifted rates, and a warning when the rule
    was fitted on these very faces."""
    lines = [
        f"Attention (default view): mean pairwise cosine of the 40 maps {attention['map_cosine']:.3f}",
        "Attention inside the expected region:",
        region_markdown(regions),
    ]
    if shifted_rates is not None:
        lines += [
            f"Shifted {split} (pose, framing, JPEG, blur, noise, low-res, lighting, colour casts):",
            rates_table(shifted_rates),
        ]
    if rule_saw_val:
        lines.append(
            "Note: this bundle's decision rule was fitted with these val faces (and the calibration slice of train); "
            "the honest, cross-fitted val figures are in its model card (metadata 'val')."
        )
    return lines


def rates_table(rows: list[ShiftedRate]) -> str:
    """Markdown: predicted vs true positive rate per attribute; rare ones outside 0.5-1.5x are marked."""
    out = ["| attribute | train rate | true rate | predicted rate | ratio | F1 |", "|---|---|---|---|---|---|"]
    for r in rows:
        flag = " **out of 0.5-1.5x**" if r["rare"] and not 0.5 <= r["ratio"] <= 1.5 else ""
        out.append(
            f"| {r['attribute']}{' (rare)' if r['rare'] else ''} | {r['train_rate']:.3f} | {r['true_rate']:.3f} | "
            f"{r['predicted_rate']:.3f} | {r['ratio']:.2f}{flag} | {r['f1']:.3f} |"
        )
    return "\n".join(out)
