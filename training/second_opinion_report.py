"""The Markdown report of :mod:`attricam.training.second_opinion_fit`: the model card's section on the second
opinion and the reliability figures the app shows, written from the bundle's measured metadata."""

from __future__ import annotations

from typing import Any

from attricam.engine.attributes import ATTRIBUTE_NAMES

__all__ = ["render_markdown"]


def render_markdown(metadata: dict[str, Any], command: str) -> str:
    """The model card's section on the second opinion and reliability, from the measured figures."""
    so, rel = metadata["second_opinion"], metadata["reliability"]["fused"]
    lines = [*_gains_section(so), *_reliability_section(rel), *_group_rates_section(so)]
    lines += ["", "```", f"python -m attricam.training.second_opinion_fit {command}".strip(), "```", ""]
    return "\n".join(lines)


def _gains_section(so: dict[str, Any]) -> list[str]:
    """How the descriptor is fused, and what it gains on the calibration slice and on val."""
    cal, val = so["calibration_slice_crossfit"], so["val"]
    lines = [
        "## Second opinion: a pretrained face network",
        "",
        f"Descriptor `{so['descriptor']}` (dlib's face-recognition ResNet, ~3 M faces, public domain); one logistic "
        f"probe per attribute fitted on {so['probe_faces']} train faces outside the calibration slice (ridge "
        f"{so['probe_search'].get('ridge', '?') if isinstance(so['probe_search'], dict) else '?'} by identity-grouped "
        f"3-fold CV), blended into the model's logits with per-attribute weights fitted on the calibration slice "
        f"({so['blend_faces']} faces) and shrunk towards the global weight; the fused outputs get their own Platt "
        "calibration and thresholds (calibration slice + val, as the model's own rule).",
        "",
        "| Figure | Model alone | Fused | Gain |",
        "|---|---:|---:|---:|",
        f"| calibration slice, cross-fitted over identity halves ({cal['faces']} faces, {cal['identities']} identities, "
        f"{cal['splits']} splits): mean AUC | {cal['model_mean_auc']:.4f} | {cal['fused_mean_auc']:.4f} | "
        f"{cal['gain']:+.4f} (per split {cal['gain_range_over_splits'][0]:+.4f} to {cal['gain_range_over_splits'][1]:+.4f}) |",
    ]
    for key, label in (
        ("mean_auc", "mean AUC"),
        ("mean_accuracy", "mean accuracy"),
        ("mean_balanced_accuracy", "mean balanced accuracy"),
        ("rare_mean_f1", "rare-14 mean F1"),
    ):
        m, f = val["model"][key], val["fused"][key]
        lines.append(f"| val (780 faces; decisions cross-fitted): {label} | {m:.4f} | {f:.4f} | {f - m:+.4f} |")
    gains = sorted(cal["per_attribute_gain"].items(), key=lambda kv: -kv[1])
    lines += [
        "",
        "Largest calibration-slice gains: "
        + ", ".join(f"{n} {g:+.3f}" for n, g in gains[:8])
        + "; smallest: "
        + ", ".join(f"{n} {g:+.3f}" for n, g in gains[-4:])
        + ".",
    ]
    return lines


def _reliability_section(rel: dict[str, Any]) -> list[str]:
    """Each attribute's measured AUC, precision and recall, and whether the app dims it."""
    lines = [
        "",
        "### Reliability shown to users",
        "",
        f"{rel['source']} ({rel['faces']} faces). Attributes under AUC {rel['bar_auc']:.2f} are dimmed, marked ? "
        "and never highlighted as positive unless the user turns on 'Unreliable attributes' "
        "(`engine/reliability.py` says why 0.80).",
        "",
        "| Attribute | AUC | Precision | Recall | Positives | Shown |",
        "|---|---:|---:|---:|---:|---|",
    ]

    def fmt(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    for i, name in enumerate(ATTRIBUTE_NAMES):
        auc = rel["auc"][i]
        shown = "yes" if auc is None or auc >= rel["bar_auc"] else "**dimmed**"
        lines.append(
            f"| {name} | {fmt(auc)} | {fmt(rel['precision'][i])} | {fmt(rel['recall'][i])} | {rel['positives'][i]} | {shown} |"
        )
    return lines


def _group_rates_section(so: dict[str, Any]) -> list[str]:
    """The fused rule's decision rates per CelebA sex/age group against the true rates."""
    lines = ["", "### Decision rates by CelebA sex/age group on val (fused rule) against the true rates", ""]
    lines += ["| Group | Faces | Attribute | Decided | True |", "|---|---:|---|---:|---:|"]
    for row in so["group_rates_val"]:
        lines.append(
            f"| {row['group']} | {row['faces']} | {row['attribute']} | {row['decided_rate']:.3f} | {row['true_rate']:.3f} |"
        )
    return lines
