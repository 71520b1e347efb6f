"""Ship a finished run: copy its bundle (and ONNX twin) into ``assets/`` and write ``MODEL_CARD.md``.

``python -m attricam.training.model_card --run runs/default --compare runs/compare --assets assets``

The card is generated from the run's ``val_report.json`` and the comparison's
``comparison.json`` so that every number in it is the measured one.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from attricam.engine.assets import DEFAULT_BUNDLE_NAME
from attricam.engine.atomic import atomic_path, atomic_write_text
from attricam.engine.attributes import RARE_ATTRIBUTES, RARE_CUTOFF
from attricam.engine.regions import LOCALIZED_ATTRIBUTES
from attricam.engine.workspace import checkout_root

from .calibration import RARE_MIN_THRESHOLD
from .config import BUNDLE_NAME
from .metrics import AttributeMetrics, EvaluationResult
from .thresholds import PRODUCT_TARGETS

REPO_ROOT = checkout_root() or Path.cwd()

__all__ = ["CardFiles", "render_card", "ship"]

log = logging.getLogger(__name__)


def _pct(v: float) -> str:
    return f"{100 * v:.1f} %"


class CardFiles(TypedDict):
    """What the card says about the shipped files and how they were made."""

    bundle: str
    """The bundle's path in the checkout (``assets/...``)."""
    bundle_size: str
    commands: list[str]
    """Command lines that reproduce the run."""
    notes: NotRequired[list[str]]
    onnx: NotRequired[str]
    """The ONNX twin's path, when the run exported one."""


def _shown_root(root: str) -> str:
    """A root as the README's commands name it: relative to the checkout when it lies beside it."""
    path = Path(root)
    if not path.is_absolute():
        return root
    try:
        return os.path.relpath(path, REPO_ROOT)
    except ValueError:  # another drive
        return root


def _data_table(rows: list[dict[str, Any]]) -> str:
    """The bundle metadata's ``data`` rows (:class:`attricam.training.data.SourceRow`, read back from JSON)."""
    lines = [
        "| Root | Partition | Images present | Faces found | No face | Duplicates dropped | Used |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| `{_shown_root(r['root'])}` | {r['partition']} | {r['present']} | {r['faces']} | {r.get('no_face', 0)} "
            f"| {r.get('duplicates', 0)} | {r.get('used', r['faces'])} |"
        )
    return "\n".join(lines)


def _tradeoff_table(tradeoff: dict[str, dict[str, float]]) -> str:
    """Policy -> its val summary."""
    lines = [
        f"| Policy | Mean acc | Mean bal. acc | Mean F1 | Rare F1 ({len(RARE_ATTRIBUTES)}) |",
        "|---|---:|---:|---:|---:|",
    ]
    for policy, s in tradeoff.items():
        lines.append(
            f"| {policy} | {s['mean_accuracy']:.4f} | {s['mean_balanced_accuracy']:.4f} | {s['mean_f1']:.4f} "
            f"| {s['rare_mean_f1']:.4f} |"
        )
    return "\n".join(lines)


def _history_table(history: list[dict[str, Any]]) -> str:
    """The report's ``history``: :meth:`attricam.training.checkpoint.EpochRecord.to_dict` of every epoch."""
    lines = [
        "| Epoch | Train loss | lr (end) | img/s | Selection mean AUC | Val mean AUC | Map cosine | Stuck | Fixes |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    nan = float("nan")
    for h in history:
        v, sel = h.get("val", {}), h.get("selection", {})
        lines.append(
            f"| {h['epoch'] + 1} | {h['train_loss']:.4f} | {h['lr']:.2e} | {h['images_per_s']:.0f} "
            f"| {sel.get('mean_auc', nan):.4f} | {v.get('mean_auc', nan):.4f} "
            f"| {h.get('attention', {}).get('map_cosine', nan):.3f} "
            f"| {', '.join(h['stuck']) or '-'} | {'; '.join(h['fixes']) or '-'} |"
        )
    return "\n".join(lines)


def _summary_row(label: str, s: dict[str, float]) -> str:
    nan = float("nan")
    return (
        f"| {label} | {s.get('mean_auc', nan):.4f} | {s.get('mean_accuracy', nan):.4f} "
        f"| {s.get('mean_balanced_accuracy', nan):.4f} | {s.get('rare_mean_f1', nan):.4f} |"
    )


def _header(meta: dict[str, Any], files: CardFiles) -> list[str]:
    cfg = meta["train_config"]
    onnx = " and `" + files["onnx"] + "`" if files.get("onnx") else ""
    return [
        "# AttriCam default model card",
        "",
        (
            f"`{files['bundle']}` ({files['bundle_size']}){onnx}: "
            "the cross-attention attribute model (`engine/model.py`, default configuration: one cross-attention layer, "
            f"{cfg['image_height']}x{cfg['image_width']} input) trained from scratch on the CelebA images available here. Created "
            f"{meta['created']}."
        ),
        "",
        (
            "Intended use: live, on-device estimation of the 40 CelebA attributes for a single user's webcam, with "
            "per-attribute attention overlays. The labels are CelebA's crowd annotations of celebrity photographs; "
            "some are subjective (Attractive, Young) and they carry the dataset's demographic biases. Not for "
            "identification or any decision about a person."
        ),
        "",
    ]


def _data_section(meta: dict[str, Any]) -> list[str]:
    cfg = meta["train_config"]
    return [
        "## Data",
        "",
        (
            "Detection with the engine's MTCNN (`FaceDetector`, occlusion retry on), alignment with `align_face` "
            f"(ALIGNER_VERSION {meta['aligner_version']}); `celeba-lowres` images are detected on a 2x upscaled copy "
            "and aligned from their own pixels. Images present in both roots are taken from the full-size one. "
            f"A slice of the train identities ({100 * cfg.get('calibration_fraction', 0):.0f} %, identity-disjoint) is "
            f"held back: {meta.get('selected_on', 'val')}. It chooses the checkpoint and, with val, fits the decision rule; "
            "the weights never see it."
        ),
        "",
        _data_table(meta["data"]),
        "",
    ]


def _recipe_section(meta: dict[str, Any], files: CardFiles) -> list[str]:
    cfg = meta["train_config"]
    fit = meta.get("decision_fit", {})
    policy_words = (
        " (F1 for rare attributes, (accuracy + balanced accuracy)/2 for the rest), "
        if meta["threshold_policy"] == "hybrid_acc_balacc"
        else ", "
    )
    return [
        "## Recipe",
        "",
        (
            f"- Loss: `{cfg['loss']}` with options {json.dumps(cfg['loss_options'])} (weighted recipes: positive weight "
            "clip(1/(freq+0.001), 1, cap), frequencies from `attricam.engine.attributes`), plus the attention regularisers "
            "(`training/losses.py`): the share of each localized attribute's attention inside its face region "
            "(`engine/regions.py`), and a hinge on the mean pairwise cosine of the 40 maps."
        ),
        (
            f"- AdamW, peak lr {cfg['lr']}, weight decay {cfg['weight_decay']}, batch {cfg['batch_size']}, "
            f"{cfg['warmup_epochs']} warm-up epoch then cosine to {cfg['min_lr_ratio']} x peak, gradient clip "
            f"{cfg['grad_clip']}, seed {cfg['seed']}; weight EMA (decay {cfg.get('ema_decay', 0)}) is evaluated and shipped."
        ),
        (
            f"- Augmentation: flip, shift/scale/rotation from a {cfg['margin']} px margin, brightness/contrast, and the camera shift "
            "of real footage (`training/camera_shift.py`): JPEG, blur, noise, low resolution, gamma, mild white-balance "
            "casts (no hue change: hair-colour labels)."
        ),
        (
            f"- {meta['epochs']} epochs; the epoch with the best mean ROC-AUC on the calibration slice is shipped: epoch "
            f"{meta['best_epoch']}. Stuck-model diagnosis on (checked every epoch)."
        ),
        (
            f"- Decision rule (`engine/decision.py`): per-attribute Platt calibration, then thresholds under policy "
            f"`{meta['threshold_policy']}`{policy_words}"
            f"bootstrap-median, shrunk towards 0.5 by 20/(positives+20), rare attributes at least {RARE_MIN_THRESHOLD}, all within "
            f"[0.05, 0.95]; fitted on {fit.get('faces', 0)} faces (calibration slice + val, each clean and camera-shifted)."
        ),
        (
            f"- Wall time {meta['wall_seconds'] / 3600:.2f} h on 2 shared CPU cores (no GPU); training throughput "
            f"{meta['train_images_per_s']:.0f} images/s (median over epochs, augmentation included, other jobs "
            "sharing the CPU)."
        ),
        *[f"- {note}" for note in files.get("notes", [])],
        "",
    ]


def _shipped_result(report: dict[str, Any]) -> EvaluationResult:
    """The report's per-attribute figures; cross-fitted decisions came from two rules, so the threshold column
    shows the shipped rule's."""
    meta = report["metadata"]
    shipped = meta.get("decision_fit", {}).get("thresholds") or [a["threshold"] for a in report["attributes"]]
    return EvaluationResult(
        tuple(
            AttributeMetrics(**{**{k: v for k, v in a.items() if k != "gain_over_baseline"}, "threshold": t})
            for a, t in zip(report["attributes"], shipped)
        ),
        report["summary"]["count"],
    )


def _validation_section(meta: dict[str, Any], result: EvaluationResult) -> list[str]:
    from .evaluation import markdown_table

    s = result.summary()
    target_lines = [
        f"| {key.replace('_', ' ')} | {target:.3f} | {s[key]:.4f} | {'met' if s[key] >= target else '**not met**'} |"
        for key, target in PRODUCT_TARGETS.items()
    ]
    rare = ", ".join(a.name for a in RARE_ATTRIBUTES)
    return [
        "## Validation results (official val partition, honest)",
        "",
        (
            "No val face chose the checkpoint. Decisions are **cross-fitted**: val is split in two halves by identity; "
            "each half is decided by a rule fitted on the calibration slice plus the *other* half. 'Calibration slice "
            "only' uses a rule that saw no val face at all. *Shifted val* is val after pose, framing, JPEG, blur, "
            "noise, low-resolution, lighting and colour-cast degradations (`training/camera_shift.py`), decided by "
            "the same cross-fitted rules."
        ),
        "",
        f"| Figure | Mean ROC-AUC | Mean accuracy | Mean balanced accuracy | Rare-{len(RARE_ATTRIBUTES)} mean F1 |",
        "|---|---:|---:|---:|---:|",
        _summary_row("val, cross-fitted", s),
        _summary_row("val, rule from the calibration slice only", meta.get("val_rule_from_calibration_slice_only", {})),
        _summary_row("shifted val, cross-fitted", meta.get("shifted_val", {})),
        "",
        "| Target (val, cross-fitted) | Goal | Measured | |",
        "|---|---:|---:|---|",
        *target_lines,
        "",
        f"Rare attributes (train rate < {100 * RARE_CUTOFF:g} %): {rare}. 'Thr' is the shipped threshold on the calibrated probability.",
        "",
        markdown_table(result),
        "",
    ]


def _shifted_section(meta: dict[str, Any]) -> list[str]:
    from .evaluate_cmd import rates_table

    shifted_rows = meta.get("shifted_val_rates", [])
    rare_rows = [r for r in shifted_rows if r["rare"]]
    rare_in_band = sum(0.5 <= r["ratio"] <= 1.5 for r in rare_rows)
    return [
        "### Shifted val: predicted vs true positive rate",
        "",
        (
            f"Target: each rare attribute predicted at 0.5-1.5x its true rate. Measured: {rare_in_band} of "
            f"{len(rare_rows)} rare attributes inside the band."
        ),
        "",
        rates_table(shifted_rows) if shifted_rows else "(not measured)",
        "",
    ]


def _attention_section(report: dict[str, Any]) -> list[str]:
    from .evaluation import region_markdown

    attention = report["metadata"].get("attention", {})
    shares = attention.get("region_share", {})
    return [
        "### Attention (the default view the app shows: last layer, mean of heads)",
        "",
        (
            f"Mean pairwise cosine of a face's 40 maps, averaged over val: **{attention.get('map_cosine', float('nan')):.3f}** "
            "(target <= 0.5). Share of each localized attribute's attention inside its face region (target >= 0.6): "
            + ", ".join(f"{k} {v:.2f}" for k, v in shares.items() if k in LOCALIZED_ATTRIBUTES)
            + "."
        ),
        "",
        region_markdown(report["attention_regions"]),
        "",
    ]


def render_card(report: dict[str, Any], comparison: dict[str, Any] | None, files: CardFiles) -> str:
    """The model card's Markdown from the val report's JSON and ``comparison.json`` (when there is one)."""
    from .compare import comparison_markdown

    meta = report["metadata"]
    parts = [
        *_header(meta, files),
        *_data_section(meta),
        *_recipe_section(meta, files),
        *_validation_section(meta, _shipped_result(report)),
        *_shifted_section(meta),
        *_attention_section(report),
        "### Training history",
        "",
        _history_table(report["history"]),
        "",
    ]
    if comparison:
        parts += [
            "## Recipe comparison (the course's Training Evolution table, measured here)",
            "",
            comparison_markdown(comparison["rows"], comparison["budget"]),
            "",
        ]
    parts += ["## Reproduce", "", "```", *files["commands"], "```", ""]
    return "\n".join(parts)


def ship(run: Path, assets: Path, comparison_dir: Path | None, commands: list[str], notes: Sequence[str] = ()) -> Path:
    report = json.loads((run / "val_report.json").read_text())
    stem = Path(DEFAULT_BUNDLE_NAME).stem
    bundle_dst = assets / DEFAULT_BUNDLE_NAME
    with atomic_path(bundle_dst) as tmp:
        shutil.copyfile(run / BUNDLE_NAME, tmp)
    files: CardFiles = {
        "bundle": f"assets/{DEFAULT_BUNDLE_NAME}",
        "bundle_size": f"{bundle_dst.stat().st_size / 1e6:.1f} MB",
        "commands": commands,
        "notes": list(notes),
    }
    with atomic_path(assets / f"{stem}.val_report.json") as tmp:  # the dashboard's per-attribute view
        shutil.copyfile(run / "val_report.json", tmp)
    if (run / "model.onnx").is_file():
        with atomic_path(assets / f"{stem}.onnx") as tmp:
            shutil.copyfile(run / "model.onnx", tmp)
        files["onnx"] = f"assets/{stem}.onnx"
    comparison = None
    if comparison_dir and (comparison_dir / "comparison.json").is_file():
        comparison = json.loads((comparison_dir / "comparison.json").read_text())
    card = assets / "MODEL_CARD.md"
    atomic_write_text(card, render_card(report, comparison, files))
    log.info("shipped %s and wrote %s", bundle_dst, card)
    return card


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Copy a finished run into assets/ and write the model card")
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--compare", type=Path, default=None)
    parser.add_argument("--assets", type=Path, default=REPO_ROOT / "assets")
    parser.add_argument("--command", action="append", default=[], help="reproduction command lines for the card")
    parser.add_argument("--note", action="append", default=[], help="extra recipe notes for the card")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ship(args.run, args.assets, args.compare, args.command, args.note)


if __name__ == "__main__":
    main()
