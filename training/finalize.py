"""End of a run: fit the decision rule on held-out faces, score val cross-fitted, write the bundle and its report."""

from __future__ import annotations

import datetime as _dt
import importlib.util
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import torch

from attricam.engine.alignment import ALIGNER_VERSION
from attricam.engine.attributes import RARE_CUTOFF
from attricam.engine.bundle import ModelBundle
from attricam.engine.decision import DecisionRule
from attricam.engine.model import CrossAttentionAttributeModel

from .augment import shifted_val_inputs
from .calibration import CalibrationFit, fit_decision_rule
from .celeba import read_identities
from .checkpoint import BestRecord, EpochRecord
from .config import BUNDLE_NAME, TrainConfig
from .crossfit import CrossFitReport, HeldOutPredictions, cross_fit
from .data import DataSummary, FaceArrays
from .evaluation import (
    AttentionSummary,
    Predictions,
    RegionShare,
    attention_region_shares,
    attention_summary,
    predict_detailed,
    write_plots,
    write_report,
)
from .events import EventCallback, FinishedEvent, ValSummary
from .losses import AppliedWeights
from .metrics import EvaluationResult, evaluate_predictions
from .splits import calibration_mask

__all__ = [
    "ShiftedRate",
    "TrainResult",
    "export_onnx_if_available",
    "finalize_run",
    "held_out_predictions",
    "shifted_rate_rows",
]

log = logging.getLogger(__name__)
_ONNX_LOGGERS = ("onnx_ir", "onnxscript", "torch.onnx")


class TrainResult(TypedDict, total=False):
    """What :func:`attricam.training.trainer.main` returns (JSON-able as is).

    A finished run (``finished`` True) has every key but the last three; a paused one has ``finished``
    False, ``checkpoint`` and ``epochs_done``; a rank other than 0 has ``rank`` and ``epochs_done``.
    """

    bundle: str
    onnx: str
    """The ONNX twin's path, '' when not exported."""
    report: str
    """The val report's JSON, '' when there was no val set."""
    finished: bool
    best_epoch: int
    """0-based."""
    val: dict[str, float]
    """Cross-fitted val summary (:meth:`EvaluationResult.summary`)."""
    shifted_val: dict[str, float]
    attention: AttentionSummary
    history: list[dict[str, Any]]
    """Every epoch's :meth:`EpochRecord.to_dict`."""
    checkpoint: str
    epochs_done: int
    rank: int


class ShiftedRate(TypedDict):
    """One attribute on camera-shifted val: true against predicted positive rate (a row of the reports)."""

    attribute: str
    train_rate: float
    rare: bool
    true_rate: float
    predicted_rate: float
    ratio: float
    """``predicted_rate / true_rate``, NaN when no val face has the attribute."""
    f1: float


def export_onnx_if_available(bundle: ModelBundle, path: Path) -> str:
    """Call ``attricam.engine.onnx_export.export_onnx`` when that module exists; returns the path or ''."""
    if importlib.util.find_spec("attricam.engine.onnx_export") is None:
        log.info("attricam.engine.onnx_export not available; skipping ONNX export")
        return ""
    from attricam.engine.onnx_export import export_onnx

    quiet = [logging.getLogger(name) for name in _ONNX_LOGGERS]
    levels = [logger.level for logger in quiet]
    for logger in quiet:  # dozens of INFO lines per export (passes applied, initializers merged): noise to a user
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    try:
        export_onnx(bundle, path)
    except Exception:  # an export failure must not lose the trained bundle
        log.exception("ONNX export to %s failed", path)
        return ""
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)
    log.info("wrote the ONNX twin %s", path)
    return str(path)


def held_out_predictions(
    model: CrossAttentionAttributeModel,
    faces: FaceArrays,
    cfg: TrainConfig,
    device: torch.device | str,
    shifted_inputs: Callable[[FaceArrays], torch.Tensor] | None = None,
) -> tuple[HeldOutPredictions, Predictions]:
    """Held-out faces as the decision rule sees them (clean and camera-shifted probabilities), and the clean run."""
    clean = predict_detailed(model, faces.images, cfg.image_height, cfg.image_width, device=device)
    shifted_in = (
        shifted_inputs(faces)
        if shifted_inputs is not None
        else shifted_val_inputs(faces.images, cfg.image_height, cfg.image_width)
    )
    shifted = predict_detailed(model, shifted_in, cfg.image_height, cfg.image_width, device=device)
    return HeldOutPredictions(faces.labels.numpy(), clean.probabilities, shifted.probabilities), clean


def shifted_rate_rows(result: EvaluationResult) -> list[ShiftedRate]:
    """Per attribute: true vs predicted positive rate (and their ratio) on shifted val."""
    rows: list[ShiftedRate] = []
    for a in result.attributes:
        ratio = a.predicted_positive_rate / a.true_positive_rate if a.true_positive_rate else float("nan")
        rows.append(
            {
                "attribute": a.name,
                "train_rate": a.frequency,
                "rare": a.frequency < RARE_CUTOFF,
                "true_rate": a.true_positive_rate,
                "predicted_rate": a.predicted_positive_rate,
                "ratio": ratio,
                "f1": a.f1,
            }
        )
    return rows


@dataclass
class _HeldOutScores:
    """What the held-out faces say about the best epoch: the shipped rule's fit and the cross-fitted val figures."""

    calibration: HeldOutPredictions
    fit: CalibrationFit | None = None
    report: CrossFitReport | None = None
    val_held: HeldOutPredictions | None = None
    val_summary: dict[str, float] = field(default_factory=dict)
    attention: AttentionSummary = field(default_factory=lambda: AttentionSummary())
    regions: list[RegionShare] = field(default_factory=list)
    shifted_rows: list[ShiftedRate] = field(default_factory=list)


def _score_held_out(
    cfg: TrainConfig,
    model: CrossAttentionAttributeModel,
    val: FaceArrays,
    holdout: FaceArrays | None,
    device: torch.device,
    shifted_inputs: Callable[[FaceArrays], torch.Tensor] | None,
) -> _HeldOutScores:
    """Fit the decision rule on the calibration slice (+ val halves) and score val cross-fitted."""
    policy = cfg.threshold_policy  # "auto" is resolved by each fit on its own faces (attricam.training.thresholds)
    empty = HeldOutPredictions(*(np.zeros((0, model.config.num_attributes), np.float32) for _ in range(3)))
    calibration = (
        held_out_predictions(model, holdout, cfg, device, shifted_inputs)[0]
        if holdout is not None and len(holdout)
        else empty
    )
    scores = _HeldOutScores(calibration)
    if len(val):
        val_held, val_clean = held_out_predictions(model, val, cfg, device, shifted_inputs)
        identities = read_identities(cfg.data[0]) if cfg.data and Path(cfg.data[0]).is_dir() else {}
        fold = calibration_mask(val.filenames, identities, 0.5, salt="attricam-val-fold")
        report = cross_fit(calibration, val_held, fold, policy)
        scores.fit, scores.report, scores.val_held = report.shipped, report, val_held
        scores.val_summary = report.val_crossfit.summary()
        scores.regions = attention_region_shares(val_clean.mean_attention, cfg.image_width, cfg.image_height)
        scores.attention = attention_summary(val_clean, cfg.image_width, cfg.image_height)
        scores.shifted_rows = shifted_rate_rows(report.shifted_val_crossfit)
    elif len(calibration.labels):
        scores.fit = fit_decision_rule(*calibration.fitting_set(), policy)
    return scores


def _bundle_metadata(
    cfg: TrainConfig,
    best: BestRecord,
    history: Sequence[EpochRecord],
    summaries: Sequence[DataSummary],
    wall_seconds: float,
    loss_weights: AppliedWeights | None,
    scores: _HeldOutScores,
) -> dict[str, Any]:
    """The bundle's metadata: the recipe, the data, the rule's fit and the honest figures (the model card's source)."""
    fit, report = scores.fit, scores.report
    rates = [h.images_per_s for h in history]
    faces = len(scores.calibration.labels)
    return {
        "trained": bool(history),  # no finished epoch: the weights are still the random initialisation
        "name": cfg.name,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "recipe": {"loss": cfg.loss, **cfg.loss_options},
        "loss_weights": {**loss_weights, "source": "trained"} if loss_weights else {},
        "train_config": cfg.to_dict(),
        "epochs": len(history),
        "best_epoch": int(best.epoch) + 1,
        "selected_on": f"calibration slice of train ({faces} faces)" if faces else "val",
        "wall_seconds": float(wall_seconds),
        "train_images_per_s": float(np.median(rates)) if rates else 0.0,
        "data": [row for s in summaries for row in s.to_dict()],
        "aligner_version": ALIGNER_VERSION,
        "threshold_policy": fit.policy if fit else "fixed-0.5",
        "threshold_policy_requested": cfg.threshold_policy,
        "decision_fit": fit.to_dict() if fit else {},
        "val": scores.val_summary,
        "val_note": "cross-fitted: decisions on each half of val come from a rule fitted without it",
        "val_rule_from_calibration_slice_only": report.val_slice_only.summary() if report else {},
        "shifted_val": report.shifted_val_crossfit.summary() if report else {},
        "shifted_val_rates": scores.shifted_rows,
        "attention": scores.attention,
    }


def finalize_run(
    cfg: TrainConfig,
    model: CrossAttentionAttributeModel,
    best: BestRecord,
    history: Sequence[EpochRecord],
    val: FaceArrays,
    summaries: Sequence[DataSummary],
    wall_seconds: float,
    device: torch.device,
    callback: EventCallback | None,
    *,
    holdout: FaceArrays | None = None,
    loss_weights: AppliedWeights | None = None,
    shifted_inputs: Callable[[FaceArrays], torch.Tensor] | None = None,
) -> TrainResult:
    """Fit the decision rule on held-out faces, score val cross-fitted, and write bundle, ONNX twin and report.

    ``loss_weights`` (:meth:`attricam.training.losses.AttributeLoss.applied_weights` at the end of training) goes into the
    bundle's metadata as trained, so the dashboard shows the weights really applied. ``shifted_inputs(faces)``
    replaces :func:`shifted_val_inputs` (a frozen-backbone run passes the cached token grids of those inputs,
    and ``faces.images`` then holds the clean token grids).
    """
    if best.state is not None:
        model.load_state_dict(best.state)
    model.eval()
    scores = _score_held_out(cfg, model, val, holdout, device, shifted_inputs)
    rule = scores.fit.rule if scores.fit else DecisionRule.uncalibrated()
    records = [h.to_dict() for h in history]
    metadata = _bundle_metadata(cfg, best, history, summaries, wall_seconds, loss_weights, scores)
    bundle_path, onnx_path = _write_bundle(cfg, model, rule, metadata)
    report_path = _write_val_report(cfg, best, scores, rule, metadata, records)
    _announce_finished(callback, str(bundle_path), report_path, best, scores.val_summary, onnx_path)
    return {
        "bundle": str(bundle_path),
        "onnx": onnx_path,
        "report": report_path,
        "finished": True,
        "best_epoch": int(best.epoch),
        "val": scores.val_summary,
        "shifted_val": metadata["shifted_val"],
        "attention": scores.attention,
        "history": records,
    }


def _write_bundle(
    cfg: TrainConfig, model: CrossAttentionAttributeModel, rule: DecisionRule, metadata: dict[str, Any]
) -> tuple[Path, str]:
    """The bundle (the model on the CPU, the rule's thresholds and calibration) and, when asked, its ONNX twin."""
    out = Path(cfg.out)
    model = model.cpu().to(memory_format=torch.contiguous_format)
    bundle = ModelBundle.from_model(
        model, thresholds=rule.thresholds.tolist(), metadata=metadata, calibration=rule.calibration_dict()
    )
    bundle_path = bundle.save(out / BUNDLE_NAME)
    onnx_path = export_onnx_if_available(bundle, out / "model.onnx") if cfg.export_onnx else ""
    return bundle_path, onnx_path


def _write_val_report(
    cfg: TrainConfig,
    best: BestRecord,
    scores: _HeldOutScores,
    rule: DecisionRule,
    metadata: dict[str, Any],
    records: list[dict[str, Any]],
) -> str:
    """The cross-fitted val report (JSON, Markdown, plots) under ``cfg.out``; its JSON path, '' without val."""
    report, val_held = scores.report, scores.val_held
    if report is None or val_held is None:
        return ""
    out = Path(cfg.out)
    extra = {
        "title": f"{cfg.name}: validation report (best epoch {best.epoch + 1}, cross-fitted decisions)",
        "metadata": metadata,
        "at_threshold_0.5": evaluate_predictions(val_held.clean, val_held.labels, 0.5).to_dict(),
        "shifted_val": report.shifted_val_crossfit.to_dict(),
        "history": records,
    }
    json_path, _ = write_report(out / "val_report", report.val_crossfit, extra, scores.regions)
    write_plots(out / "plots", rule.calibrate(val_held.clean), val_held.labels, report.val_crossfit)
    return str(json_path)


def _announce_finished(
    callback: EventCallback | None,
    bundle_path: str,
    report_path: str,
    best: BestRecord,
    val_summary: dict[str, float],
    onnx_path: str,
) -> None:
    """The ``finished`` event and the closing log line."""
    if callback:
        callback(
            FinishedEvent(
                bundle=bundle_path,
                report=report_path,
                best_epoch=int(best.epoch),
                val=ValSummary.optional(val_summary),
                onnx=onnx_path,
            )
        )
    log.info("wrote %s (best epoch %d) cross-fitted val %s", bundle_path, best.epoch + 1, val_summary)
