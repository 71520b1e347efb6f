"""``attricam train --compare``: the course's "Training Evolution" table, measured on our data.

Each recipe trains with the same budget (epochs, images, seed, schedule) in its own
sub-directory, resumably; the table reports what the course's table reports —
how often the rare attributes (train rate < 10 %) are predicted positive and
their F1 — at the untuned 0.5 threshold (where a stuck model shows) and after
per-attribute calibration, with mean accuracy and balanced accuracy.

The story the course tells is per attribute: for every rare attribute, each
recipe's predicted-positive rate at 0.5 against the true rate on val, which
recipes leave it stuck (the trainer's all-negative rule: predicted < 5 % while
>= 2 % really have it and under half the true rate) and which break it free
relative to the first recipe (the naive baseline). ``comparison.md`` holds both
tables and ``comparison.png`` the rates side by side. On a frozen backbone
(``--freeze backbone``) the features are already trained, so the naive failure
may not show: the table then says so rather than staging it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from attricam.engine.atomic import atomic_write_text
from attricam.engine.attributes import RARE_ATTRIBUTES, RARE_CUTOFF

from .config import CHECKPOINT_NAME, TrainConfig
from .events import EventCallback

__all__ = [
    "ComparisonRow",
    "comparison_markdown",
    "rare_rates",
    "run_comparison",
    "stuck_at_half",
    "write_comparison_plot",
]

log = logging.getLogger(__name__)

STUCK_RATE, MIN_TRUE_RATE, RELATIVE_RATE = 0.05, 0.02, 0.5
"""The trainer's all-negative rule (training/diagnosis.py ``DiagnosisConfig``), applied to val at 0.5."""

ComparisonRow = TypedDict(
    "ComparisonRow",
    {
        "recipe": str,
        "rare_pred_pos_rate@0.5": float,
        "rare_f1@0.5": float,
        "rare_pred_pos_rate": float,
        "rare_f1": float,
        "mean_accuracy": float,
        "mean_balanced_accuracy": float,
        "mean_accuracy@0.5": float,
        "mean_balanced_accuracy@0.5": float,
        "mean_auc": float,
        "stuck_flags": list[str],
        "stuck_at_0.5": list[str],
        "rare_rates@0.5": dict[str, list[float]],  # rare attribute -> [predicted rate at 0.5, true rate] on val
        "frozen": str | None,  # the frozen part (``--freeze``), None when the whole model trained
        "train_images_per_s": float,
        "threshold_policy": str,
        "bundle": NotRequired[str],  # the two a finished recipe adds
        "seconds": NotRequired[float],
    },
)
"""One recipe's line of ``comparison.json`` and the tables (keys with ``@0.5``: at the untuned threshold)."""


def rare_rates(report: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Rare attribute -> (predicted-positive rate at 0.5, true rate) on val, from a val report's JSON."""
    rare = {a.name for a in RARE_ATTRIBUTES}
    return {
        a["name"]: (float(a["predicted_positive_rate"]), float(a["true_positive_rate"]))
        for a in report["at_threshold_0.5"]["attributes"]
        if a["name"] in rare
    }


def stuck_at_half(rates: dict[str, tuple[float, float]]) -> list[str]:
    """The attributes of ``rates`` caught in the all-negative trap at the untuned threshold."""
    return sorted(
        name
        for name, (predicted, true) in rates.items()
        if predicted < STUCK_RATE and true >= MIN_TRUE_RATE and predicted < RELATIVE_RATE * true
    )


def _row(name: str, report: dict[str, Any]) -> ComparisonRow:
    raw = report["at_threshold_0.5"]["summary"]
    rates = rare_rates(report)
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
        "stuck_at_0.5": stuck_at_half(rates),
        "rare_rates@0.5": {k: list(v) for k, v in rates.items()},
        "frozen": report["metadata"].get("train_config", {}).get("freeze"),
        "train_images_per_s": report["metadata"]["train_images_per_s"],
        "threshold_policy": report["metadata"].get("threshold_policy", "f1"),
    }


def _story(rows: Sequence[ComparisonRow]) -> list[str]:
    """Which rare attributes each recipe leaves stuck at 0.5 and which it frees relative to the first recipe."""
    if not rows or "rare_rates@0.5" not in rows[0]:
        return []
    base = rows[0]
    lines = [
        "",
        f"Stuck at 0.5 on val (predicted < {100 * STUCK_RATE:g} % while >= {100 * MIN_TRUE_RATE:g} % really have it), "
        f"and broken free relative to {base['recipe']}:",
        "",
        "| Recipe | Stuck at 0.5 | Broke free vs " + base["recipe"] + " | Newly stuck |",
        "|---|---|---|---|",
    ]
    for r in rows:
        freed = sorted(set(base["stuck_at_0.5"]) - set(r["stuck_at_0.5"]))
        new = sorted(set(r["stuck_at_0.5"]) - set(base["stuck_at_0.5"]))
        lines.append(
            f"| {r['recipe']} | {', '.join(r['stuck_at_0.5']) or 'none'} | {', '.join(freed) or '-'} "
            f"| {', '.join(new) or '-'} |"
        )
    if not base["stuck_at_0.5"]:
        why = (
            " On a frozen backbone the CNN's features are already trained, so even plain BCE finds the rare "
            "attributes: the all-negative trap of the course is a from-scratch failure."
            if base.get("frozen")
            else ""
        )
        lines += ["", f"{base['recipe']} left no rare attribute stuck at 0.5 in this run.{why}"]
    names = list(rows[0]["rare_rates@0.5"])
    lines += [
        "",
        "Predicted-positive rate at 0.5 vs true rate on val, per rare attribute:",
        "",
        "| Attribute | True | " + " | ".join(r["recipe"] for r in rows) + " |",
        "|---|---:|" + "---:|" * len(rows),
    ]
    for name in names:
        true = rows[0]["rare_rates@0.5"][name][1]
        cells = []
        for r in rows:
            predicted = r["rare_rates@0.5"][name][0]
            mark = " (stuck)" if name in r["stuck_at_0.5"] else ""
            cells.append(f"{100 * predicted:.1f} %{mark}")
        lines.append(f"| {name} | {100 * true:.1f} % | " + " | ".join(cells) + " |")
    return lines


def write_comparison_plot(rows: Sequence[ComparisonRow], path: Path) -> None:
    """Grouped bars: per rare attribute, the true rate and each recipe's predicted rate at 0.5 (val)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(rows[0]["rare_rates@0.5"])
    x = np.arange(len(names))
    width = 0.8 / (len(rows) + 1)
    # Sized to be read where it is shown (the Training tab's Journey page, ~800 px wide): names whole, legend
    # above the bars in one or two rows, nothing under another label.
    fig, ax = plt.subplots(figsize=(max(7.5, 0.62 * len(names)), 4.6), dpi=110)
    true = [rows[0]["rare_rates@0.5"][n][1] for n in names]
    ax.bar(x - 0.4 + width / 2, true, width, color="#999999", label="true rate")
    for k, r in enumerate(rows, start=1):
        predicted = [r["rare_rates@0.5"][n][0] for n in names]
        ax.bar(x - 0.4 + width * (k + 0.5), predicted, width, label=r["recipe"])
    ax.set_xticks(x, [n.replace("_", " ") for n in names], rotation=35, ha="right", fontsize=10)
    ax.tick_params(axis="y", labelsize=9)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylabel("predicted-positive rate at 0.5 (val)", fontsize=10)
    ax.set_title("Rare attributes: predicted vs true positive rate, per recipe", fontsize=11, pad=40)
    ax.legend(fontsize=9, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def comparison_markdown(rows: Sequence[ComparisonRow], budget: str) -> str:
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
    lines += _story(rows)
    return "\n".join(lines) + "\n"


def run_comparison(
    recipes: Sequence[str], config_for: Callable[[str], TrainConfig], callback: EventCallback | None = None
) -> list[ComparisonRow]:
    from .trainer import main as train_main

    rows: list[ComparisonRow] = []
    out: Path | None = None
    for name in recipes:
        cfg = config_for(name)
        out = Path(cfg.out).parent
        log.info("compare: training %s for %d epochs", name, cfg.epochs)
        started = time.perf_counter()
        result = train_main(cfg, callback, resume=(Path(cfg.out) / CHECKPOINT_NAME).exists())
        report = json.loads(Path(result["report"]).read_text())
        rows.append({**_row(name, report), "bundle": result["bundle"], "seconds": time.perf_counter() - started})
        log.info("compare: %s done in %.0f s", name, rows[-1]["seconds"])
    if out is not None:
        cfg = config_for(recipes[0])
        budget = (
            f"{cfg.epochs} epochs, batch {cfg.batch_size}, lr {cfg.lr}, seed {cfg.seed}, "
            f"{'frozen ' + cfg.freeze + ' of ' + str(cfg.init_from) + ', ' if cfg.freeze else ''}"
            f"train limit {cfg.train_limit or 'all'} per root, roots {', '.join(cfg.data)}"
        )
        atomic_write_text(out / "comparison.json", json.dumps({"budget": budget, "rows": rows}, indent=2))
        atomic_write_text(out / "comparison.md", comparison_markdown(rows, budget))
        try:
            write_comparison_plot(rows, out / "comparison.png")
        except Exception:  # the tables are the result; a plot failure must not lose them
            log.exception("comparison plot not written")
        log.info("comparison written to %s", out / "comparison.md")
    return rows
