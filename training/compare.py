"""``attricam train --compare``: the course's "Training Evolution" table, measured on our data.

Each recipe trains with the same budget (epochs, images, seed, schedule) in its own
sub-directory, resumably; the table reports what the course's table reports —
how often the rare attributes (train rate < 10 %) are predicted positive and
their F1 — at the untuned 0.5 threshold (where a stuck model shows) and after
per-attribute calibration, with mean accuracy and balanced accuracy.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from attricam.engine.atomic import atomic_write_text
from attricam.engine.attributes import RARE_ATTRIBUTES, RARE_CUTOFF

from .config import CHECKPOINT_NAME, TrainConfig
from .events import EventCallback

__all__ = ["comparison_markdown", "run_comparison"]

log = logging.getLogger(__name__)


def _row(name: str, report: dict) -> dict:
    raw = report["at_threshold_0.5"]["summary"]
    cal = report["summary"]
    stuck = sorted({a for h in report["history"] for a in h["stuck"]})
    return {
        "recipe": name,
        "rare_pred_pos_rate@0.5": raw["rare_predicted_positive_rate"],
        "rare_f1@0.5": raw["rare_mean_f1"],
        "rare_pred_pos_rate": cal["rare_predicted_positive_rate"],
        "rare_f1": cal["rare_mean_f1"],
        "mean_accuracy": cal["mean_accuracy"],
        "mean_balanced_accuracy": cal["mean_balanced_accuracy"],
        "mean_accuracy@0.5": raw["mean_accuracy"],
        "mean_balanced_accuracy@0.5": raw["mean_balanced_accuracy"],
        "mean_auc": cal["mean_auc"],
        "stuck_flags": stuck,
        "train_images_per_s": report["metadata"]["train_images_per_s"],
        "threshold_policy": report["metadata"].get("threshold_policy", "f1"),
    }


def comparison_markdown(rows: Sequence[dict], budget: str) -> str:
    lines = [
        (
            f"Budget per recipe: {budget}. Rare = the {len(RARE_ATTRIBUTES)} attributes with train rate < {100 * RARE_CUTOFF:g} %; '@0.5' = untuned threshold, "
            "otherwise each recipe's own decision rule (Platt calibration + thresholds, "
            f"{rows[0].get('threshold_policy', 'f1') if rows else 'f1'} policy), cross-fitted on val."
        ),
        "",
        (
            "| Recipe | Rare pred. pos. @0.5 | Rare F1 @0.5 | Rare pred. pos. (cal.) | Rare F1 (cal.) | Mean acc @0.5 "
            "| Mean bal. acc @0.5 | Mean acc (cal.) | Mean bal. acc (cal.) | Mean AUC | Stuck flags |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['recipe']} | {100 * r['rare_pred_pos_rate@0.5']:.1f} % | {r['rare_f1@0.5']:.3f} "
            f"| {100 * r['rare_pred_pos_rate']:.1f} % | {r['rare_f1']:.3f} | {r['mean_accuracy@0.5']:.4f} "
            f"| {r['mean_balanced_accuracy@0.5']:.4f} | {r['mean_accuracy']:.4f} | {r['mean_balanced_accuracy']:.4f} "
            f"| {r['mean_auc']:.4f} | {', '.join(r['stuck_flags']) or '-'} |"
        )
    return "\n".join(lines) + "\n"


def run_comparison(
    recipes: Sequence[str], config_for: Callable[[str], TrainConfig], callback: EventCallback | None = None
) -> list[dict]:
    from .trainer import main as train_main

    rows, out = [], None
    for name in recipes:
        cfg = config_for(name)
        out = Path(cfg.out).parent
        log.info("compare: training %s for %d epochs", name, cfg.epochs)
        result = train_main(cfg, callback, resume=(Path(cfg.out) / CHECKPOINT_NAME).exists())
        report = json.loads(Path(result["report"]).read_text())
        rows.append(_row(name, report))
    if out is not None:
        cfg = config_for(recipes[0])
        budget = (
            f"{cfg.epochs} epochs, batch {cfg.batch_size}, lr {cfg.lr}, seed {cfg.seed}, "
            f"train limit {cfg.train_limit or 'all'} per root, roots {', '.join(cfg.data)}"
        )
        atomic_write_text(out / "comparison.json", json.dumps({"budget": budget, "rows": rows}, indent=2))
        atomic_write_text(out / "comparison.md", comparison_markdown(rows, budget))
        log.info("comparison written to %s", out / "comparison.md")
    return rows
