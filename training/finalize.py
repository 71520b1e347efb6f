"""End of a run: calibrate thresholds on val, write the bundle, its ONNX twin and the val report."""

from __future__ import annotations

import datetime as _dt
import importlib.util
import logging
from pathlib import Path

import numpy as np
import torch

from engine.alignment import ALIGNER_VERSION
from engine.bundle import ModelBundle

from .config import TrainConfig
from .data import FaceArrays
from .evaluation import attention_region_shares, predict, write_plots, write_report
from .events import EventCallback, FinishedEvent
from .metrics import evaluate_predictions
from .thresholds import calibrate_thresholds, choose_policy, policy_tradeoff

__all__ = ["export_onnx_if_available", "finalize_run"]

log = logging.getLogger(__name__)


def export_onnx_if_available(bundle: ModelBundle, path: Path) -> str:
    """Call the lead's ``engine.onnx_export.export_onnx`` when that module exists; returns the path or ''."""
    if importlib.util.find_spec("engine.onnx_export") is None:
        log.info("engine.onnx_export not available; skipping ONNX export")
        return ""
    from engine.onnx_export import export_onnx

    try:
        export_onnx(bundle, path)
    except Exception:  # an export failure must not lose the trained bundle
        log.exception("ONNX export to %s failed", path)
        return ""
    return str(path)


def finalize_run(
    cfg: TrainConfig,
    model,
    best: dict,
    history: list[dict],
    val: FaceArrays,
    summaries: tuple,
    wall_seconds: float,
    device: torch.device,
    callback: EventCallback | None,
    *,
    holdout: FaceArrays | None = None,
) -> dict:
    out = Path(cfg.out)
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    thresholds = [0.5] * model.config.num_attributes
    val_summary: dict = {}
    calibration, tradeoff, result, regions = None, {}, None, []
    if len(val):
        probs, attention = predict(model, val.images, cfg.image_height, cfg.image_width, device=device)
        labels = val.labels.numpy()
        tradeoff = policy_tradeoff(probs, labels)
        policy = choose_policy(tradeoff) if cfg.threshold_policy == "auto" else cfg.threshold_policy
        calibration = calibrate_thresholds(probs, labels, policy)
        thresholds = list(calibration.thresholds)
        result = evaluate_predictions(probs, labels, np.array(thresholds))
        raw = evaluate_predictions(probs, labels, 0.5)
        regions = attention_region_shares(attention, cfg.image_width, cfg.image_height)
        val_summary = result.summary()
    rates = [h["images_per_s"] for h in history]
    metadata = {
        "trained": True,
        "name": cfg.name,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "recipe": {"loss": cfg.loss, **cfg.loss_options},
        "train_config": cfg.to_dict(),
        "epochs": len(history),
        "best_epoch": int(best["epoch"]) + 1,
        "wall_seconds": float(wall_seconds),
        "train_images_per_s": float(np.median(rates)) if rates else 0.0,
        "data": [row for s in summaries for row in s.to_dict()],
        "aligner_version": ALIGNER_VERSION,
        "threshold_policy": calibration.policy if calibration else "fixed-0.5",
        "threshold_policy_requested": cfg.threshold_policy,
        "val": val_summary,
    }
    model = model.cpu().to(memory_format=torch.contiguous_format)
    bundle = ModelBundle.from_model(model, thresholds=thresholds, metadata=metadata)
    bundle_path = bundle.save(out / "model.pt")
    onnx_path = export_onnx_if_available(bundle, out / "model.onnx") if cfg.export_onnx else ""
    report_path = ""
    if result is not None:
        extra = {
            "title": f"{cfg.name}: validation report (best epoch {best['epoch'] + 1})",
            "metadata": metadata,
            "threshold_calibration": calibration.to_dict(),
            "threshold_policy_tradeoff": tradeoff,
            "at_threshold_0.5": raw.to_dict(),
            "history": history,
        }
        json_path, _ = write_report(out / "val_report", result, extra, regions)
        write_plots(out / "plots", probs, labels, result)
        report_path = str(json_path)
    if callback:
        callback(FinishedEvent(str(bundle_path), report_path, int(best["epoch"]), val_summary, onnx_path))
    log.info("wrote %s (best epoch %d) val %s", bundle_path, best["epoch"] + 1, val_summary)
    return {
        "bundle": str(bundle_path),
        "onnx": onnx_path,
        "report": report_path,
        "finished": True,
        "best_epoch": int(best["epoch"]),
        "val": val_summary,
        "history": history,
    }
