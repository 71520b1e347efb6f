"""Batched inference on cached crops, attention-in-region shares, and the per-attribute report files.

The region shares check that each attribute query looks where a person would:
for every attribute with an expected face region, the fraction of its
last-layer attention (averaged over heads and images) that falls inside that
region, next to the region's share of the grid (what uniform attention gets).
Regions are boxes built from the aligner's landmark template (``attricam.engine.regions``),
so they follow any change of framing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import torch

from attricam.engine.atomic import atomic_write_text
from attricam.engine.attributes import ATTRIBUTE_NAMES, RARE_ATTRIBUTES, RARE_CUTOFF, attribute_index
from attricam.engine.model import CrossAttentionAttributeModel
from attricam.engine.regions import REGION_ATTRIBUTES, attention_share, face_regions

from .augment import center_crop
from .losses import map_cosine
from .metrics import EvaluationResult, roc_curves

__all__ = [
    "REGION_ATTRIBUTES",
    "AttentionSummary",
    "Predictions",
    "RegionShare",
    "attention_region_shares",
    "attention_summary",
    "face_regions",
    "predict",
    "predict_detailed",
    "write_plots",
    "write_report",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Predictions:
    """Network outputs over a set of faces (before any calibration)."""

    probabilities: np.ndarray  # (n, 40) float32 sigmoid outputs
    mean_attention: np.ndarray  # (layers, 40, gh, gw): heads and faces averaged
    map_cosine: np.ndarray  # (n,) mean pairwise cosine of each face's 40 default-view maps


def predict_detailed(
    model: CrossAttentionAttributeModel,
    images: torch.Tensor,
    height: int,
    width: int,
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> Predictions:
    """uint8 crops with a margin (n, H, W, 3), centre-cropped, or ready float inputs (n, 3, height, width).

    ``progress(done, total)`` is called after every batch (faces predicted so far)."""
    with torch.inference_mode():
        model.eval()
        probs: list[torch.Tensor] = []  # (b, 40) each
        cosines: list[torch.Tensor] = []  # (b,) each
        attention_sum: torch.Tensor | None = None  # (layers, 40, gh, gw)
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            x = batch if batch.is_floating_point() else center_crop(batch, height, width)
            logits, attention = model(x.to(device))  # (b, 40), (b, layers, heads, 40, gh, gw)
            probs.append(torch.sigmoid(logits.float()).cpu())
            heads_mean = attention.float().mean(dim=2)  # (b, layers, 40, gh, gw)
            cosines.append(map_cosine(heads_mean[:, -1]).cpu())
            batch_sum = heads_mean.sum(dim=0).cpu()  # (layers, 40, gh, gw)
            attention_sum = batch_sum if attention_sum is None else attention_sum + batch_sum
            if progress is not None:
                progress(start + len(batch), len(images))
        if not probs or attention_sum is None:
            return Predictions(np.zeros((0, len(ATTRIBUTE_NAMES)), np.float32), np.zeros(0, np.float32), np.zeros(0))
        return Predictions(
            torch.cat(probs).numpy(),
            (attention_sum / len(images)).numpy(),
            torch.cat(cosines).numpy().astype(np.float64),
        )


def predict(
    model: CrossAttentionAttributeModel,
    images: torch.Tensor,
    height: int,
    width: int,
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 crops with a margin (n, H, W, 3) -> probabilities (n, 40), mean attention (layers, 40, gh, gw)."""
    out = predict_detailed(model, images, height, width, device=device, batch_size=batch_size)
    return out.probabilities, out.mean_attention


class RegionShare(TypedDict):
    """One localized attribute's last-layer attention inside its face region (a row of the report)."""

    attribute: str
    region: str
    share: float
    """Share of the attribute's attention inside the region."""
    area: float
    """The region's share of the crop's area."""
    lift: float
    """``share / area`` (NaN for an empty region)."""


class AttentionSummary(TypedDict, total=False):
    """The two attention figures of an epoch or evaluation; empty on epochs that did not measure them."""

    map_cosine: float
    """Mean pairwise cosine of each face's 40 last-layer maps, averaged over the faces."""
    region_share: dict[str, float]
    """Localized attribute -> share of its attention inside its region."""


def attention_region_shares(mean_attention: np.ndarray, width: int, height: int) -> list[RegionShare]:
    """Rows of (attribute, region, share of last-layer attention inside, region's area share, lift)."""
    maps = mean_attention[-1]  # (40, gh, gw)
    regions = face_regions(width, height, maps.shape[1:])
    rows: list[RegionShare] = []
    for region, names in REGION_ATTRIBUTES.items():
        mask = regions[region]
        area = float(mask.mean())
        for name in names:
            share = attention_share(maps[attribute_index(name)], mask)
            rows.append(
                {
                    "attribute": name,
                    "region": region,
                    "share": share,
                    "area": area,
                    "lift": share / area if area else float("nan"),
                }
            )
    return rows


def attention_summary(predictions: Predictions, width: int, height: int) -> AttentionSummary:
    """The two attention figures of the product: mean map cosine and each localized attribute's in-region share."""
    rows = attention_region_shares(predictions.mean_attention, width, height)
    return {
        "map_cosine": float(np.mean(predictions.map_cosine)) if len(predictions.map_cosine) else float("nan"),
        "region_share": {r["attribute"]: round(r["share"], 4) for r in rows},
    }


def markdown_table(result: EvaluationResult) -> str:
    lines = [
        "| Attribute | Train freq | Thr | Acc | Bal acc | Prec | Recall | F1 | AUC | Pred pos | True pos |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a in result.attributes:
        lines.append(
            f"| {a.name} | {100 * a.frequency:.1f} % | {a.threshold:.2f} | {a.accuracy:.3f} | {a.balanced_accuracy:.3f} "
            f"| {a.precision:.3f} | {a.recall:.3f} | {a.f1:.3f} | {a.auc:.3f} | {100 * a.predicted_positive_rate:.1f} % "
            f"| {100 * a.true_positive_rate:.1f} % |"
        )
    s = result.summary()
    lines.append(
        f"| **mean** | | | **{s['mean_accuracy']:.4f}** | **{s['mean_balanced_accuracy']:.4f}** | | | "
        f"**{s['mean_f1']:.4f}** | **{s['mean_auc']:.4f}** | | |"
    )
    return "\n".join(lines)


def region_markdown(rows: list[RegionShare]) -> str:
    lines = ["| Attribute | Region | Attention share | Region area | Lift |", "|---|---|---:|---:|---:|"]
    lines += [
        f"| {r['attribute']} | {r['region']} | {r['share']:.3f} | {r['area']:.3f} | {r['lift']:.2f} |" for r in rows
    ]
    return "\n".join(lines)


def write_report(
    out_stem: Path, result: EvaluationResult, extra: dict[str, Any], regions: list[RegionShare]
) -> tuple[Path, Path]:
    """``<stem>.json`` (everything) and ``<stem>.md`` (tables); ``extra`` is the JSON header (title, model, data...)."""
    payload = {**extra, **result.to_dict(), "attention_regions": regions}
    json_path, md_path = out_stem.with_suffix(".json"), out_stem.with_suffix(".md")
    atomic_write_text(json_path, json.dumps(payload, indent=2, allow_nan=True))
    s = result.summary()
    text = [
        f"# {extra.get('title', 'Evaluation')}",
        "",
        (
            f"{result.count} faces. Mean accuracy {s['mean_accuracy']:.4f}, mean balanced accuracy "
            f"{s['mean_balanced_accuracy']:.4f}, mean F1 {s['mean_f1']:.4f}, mean F1 of the {len(RARE_ATTRIBUTES)} rare attributes "
            f"{s['rare_mean_f1']:.4f}, mean AUC {s['mean_auc']:.4f}."
        ),
        "",
        markdown_table(result),
        "",
        "## Attention inside the expected region (last layer, heads and images averaged)",
        "",
        region_markdown(regions),
        "",
    ]
    atomic_write_text(md_path, "\n".join(text))
    return json_path, md_path


def write_plots(out_dir: Path, probabilities: np.ndarray, labels: np.ndarray, result: EvaluationResult) -> list[Path]:
    """ROC curves coloured by training frequency and F1 against frequency, as PNG (Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import NullFormatter

    out_dir.mkdir(parents=True, exist_ok=True)
    freqs = np.array([a.frequency for a in result.attributes])
    norm = LogNorm(vmin=freqs.min(), vmax=freqs.max())
    cmap = plt.get_cmap("viridis")
    fig, ax = plt.subplots(figsize=(7, 6))
    for j, (fpr, tpr) in roc_curves(probabilities, labels).items():
        ax.plot(fpr, tpr, color=cmap(norm(result.attributes[j].frequency)), lw=1, alpha=0.8)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set(
        xlabel="False positive rate", ylabel="True positive rate", title="ROC per attribute (colour: train frequency)"
    )
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="train positive rate")
    roc_path = out_dir / "roc_by_frequency.png"
    fig.savefig(roc_path, dpi=120, bbox_inches="tight")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    f1 = np.array([a.f1 for a in result.attributes])
    ax.scatter(freqs, f1, c=freqs, cmap=cmap, norm=norm)
    for a in result.attributes:
        ax.annotate(a.name, (a.frequency, a.f1), fontsize=6, xytext=(2, 2), textcoords="offset points")
    ax.axvline(RARE_CUTOFF, color="grey", lw=0.8, ls=":")
    ax.xaxis.set_minor_formatter(NullFormatter())  # log-axis minor labels overlap
    ax.set(
        xscale="log", xlabel="train positive rate (log)", ylabel="F1 (calibrated threshold)", title="F1 vs frequency"
    )
    f1_path = out_dir / "f1_vs_frequency.png"
    fig.savefig(f1_path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return [roc_path, f1_path]
