"""Fit a bundle's second opinion (:mod:`attricam.engine.second_opinion`) and measure it honestly.

Who sees which faces:

* **probes** — one logistic regression per attribute on the descriptors of the train faces *outside* the
  bundle's calibration slice (the faces its network trained on); their ridge strength is chosen by
  identity-grouped 3-fold cross-validation on those same faces.
* **blend weights** — on the calibration slice (faces no weight saw; the network selected its checkpoint on
  them, so the model-only figures there are, if anything, flattering). **The fused decision rule** — on the
  calibration slice and val, as the model's own rule is (its val figures are cross-fitted over val's halves).
* **scores** — (1) the calibration slice cross-fitted: blend fitted on one identity half, AUC on the other,
  averaged over both halves and ``--splits`` random identity splits; (2) val, which chose nothing: blend and rule
  from the calibration slice alone, the rule's figures cross-fitted over val's identity halves exactly as
  :func:`attricam.training.crossfit.cross_fit` does for the model alone. Both are reported beside the model
  alone under the same protocol.
* **reliability** shown to users — per attribute AUC, precision and recall of the shipped fused rule on
  faces no weight saw: the calibration slice and val pooled, split by identity in two, each half decided by
  blend weights and a rule fitted on the other.

    python -m attricam.training.second_opinion_fit --model assets/attricam-default.pt \\
        --descriptors runs/teacher --data ../shared/celeba --data ../shared/celeba-lowres --out runs/fused/model.pt
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypedDict

import cv2
import numpy as np
import torch

from attricam.engine.alignment import align_face
from attricam.engine.atomic import atomic_path, atomic_write_text
from attricam.engine.attributes import ATTRIBUTE_NAMES, ATTRIBUTES, attribute_index
from attricam.engine.bundle import ModelBundle
from attricam.engine.decision import DecisionRule, logit
from attricam.engine.face_descriptor import DESCRIPTOR_NAME, DESCRIPTOR_SIZES
from attricam.engine.reliability import RELIABLE_AUC
from attricam.engine.runtime import load_classifier
from attricam.engine.second_opinion import SecondOpinion

from .calibration import CalibrationFit, fit_decision_rule
from .celeba import IMAGE_DIR, load_celeba, read_identities
from .crossfit import with_floors
from .descriptors import load_descriptor_table, table_path
from .metrics import evaluate_predictions, roc_auc
from .second_opinion_report import render_markdown
from .splits import calibration_mask

__all__ = [
    "FaceSet",
    "fit_blend",
    "fit_logistic",
    "fit_probes",
    "fused_probabilities",
    "identity_halves",
    "load_faces",
    "main",
    "mean_auc",
    "network_outputs",
    "split_faces",
]

log = logging.getLogger(__name__)
BLEND_GRID = np.round(np.arange(0.0, 3.01, 0.1), 2)
BLEND_SHRINK_K = 40.0
"""Per-attribute blend weights are shrunk towards the global one by ``K / (positives + K)``."""
RIDGE_GRID = (1e-4, 1e-3, 1e-2, 3e-2, 1e-1)


class ProbeSearch(TypedDict):
    """The probes' ridge search: the chosen ridge and each candidate's cross-validated mean AUC."""

    ridge: float
    cv_mean_auc: dict[str, float]
    """``str(ridge)`` -> mean AUC over the identity-grouped folds."""


class BlendCrossfit(TypedDict):
    """The blend's gain on the calibration slice, fitted on one identity half and scored on the other."""

    faces: int
    identities: int
    splits: int
    model_mean_auc: float
    fused_mean_auc: float
    gain: float
    gain_range_over_splits: list[float]
    """[smallest, largest] gain of one split."""
    per_attribute_gain: dict[str, float]


class Reliability(TypedDict):
    """Per attribute (40 entries each) figures of one rule, each identity half decided by fits on the other."""

    source: str
    faces: int
    bar_auc: float
    auc: list[float]
    precision: list[float | None]
    """None where the rule never said yes."""
    recall: list[float | None]
    """None where no face has the attribute."""
    positives: list[int]


class GroupRate(TypedDict):
    """How often one attribute is decided against how often it is true, in one sex/age group of val."""

    group: str
    faces: int
    attribute: str
    decided_rate: float
    true_rate: float


@dataclass(frozen=True)
class FaceSet:
    """Faces with a detected face: where they came from, labels, identities, descriptors, landmarks."""

    paths: tuple[Path, ...]
    labels: np.ndarray  # (n, 40) 0/1
    identities: np.ndarray  # (n,) int
    descriptors: np.ndarray  # (n, d)
    landmarks: np.ndarray  # (n, 5, 2)

    def subset(self, index: np.ndarray) -> FaceSet:
        return FaceSet(
            tuple(self.paths[i] for i in index),
            self.labels[index],
            self.identities[index],
            self.descriptors[index],
            self.landmarks[index],
        )

    def __len__(self) -> int:
        return len(self.paths)


def identity_halves(identities: np.ndarray, seed: int) -> np.ndarray:
    """Bool (n,): a random half of the identities."""
    unique = np.unique(identities)
    chosen = np.random.default_rng(seed).permutation(unique)[: len(unique) // 2]
    return np.isin(identities, chosen)


# --- probes -----------------------------------------------------------------------------
def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """All 40 logistic regressions at once (full-batch L-BFGS): (40, d) weights, (40,) biases."""
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    w = torch.zeros(y.shape[1], x.shape[1], dtype=torch.float64, requires_grad=True)
    rate = yt.mean(0).clamp(1e-4, 1 - 1e-4)
    b = torch.log(rate / (1 - rate)).clone().requires_grad_(True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        z = xt @ w.T + b
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, yt) + ridge * (w**2).sum(1).mean()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy().astype(np.float32), b.detach().numpy().astype(np.float32)


def mean_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(np.nanmean([roc_auc(scores[:, j], labels[:, j]) for j in range(labels.shape[1])]))


def fit_probes(
    faces: FaceSet, ridges: Sequence[float] = RIDGE_GRID
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, ProbeSearch]:
    """-> mean, std, weight (40, d), bias (40,), and the ridge search (identity-grouped 3-fold CV)."""
    mean, std = faces.descriptors.mean(0), faces.descriptors.std(0) + 1e-6
    x, y = (faces.descriptors - mean) / std, faces.labels.astype(np.float32)
    fold = np.unique(faces.identities, return_inverse=True)[1] % 3
    search: dict[float, float] = {}  # ridge -> CV mean AUC
    for ridge in ridges:
        scores = np.zeros_like(y)
        for k in range(3):
            w, b = fit_logistic(x[fold != k], y[fold != k], ridge)
            scores[fold == k] = x[fold == k] @ w.T + b
        search[ridge] = mean_auc(scores, y)
        log.info("probe ridge %g: CV mean AUC %.4f", ridge, search[ridge])
    best = max(search, key=lambda r: search[r])
    w, b = fit_logistic(x, y, best)
    return mean, std, w, b, {"ridge": best, "cv_mean_auc": {str(k): v for k, v in search.items()}}


# --- blend -------------------------------------------------------------------------------
def _auc_grid(z_model: np.ndarray, z_probe: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(grid, 40) AUC of ``z_model + w z_probe`` for each grid weight."""
    return np.array(
        [[roc_auc(z_model[:, j] + w * z_probe[:, j], labels[:, j]) for j in range(labels.shape[1])] for w in BLEND_GRID]
    )


def fit_blend(z_model: np.ndarray, z_probe: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-attribute blend weights: each attribute's AUC-best grid weight, shrunk towards the global best."""
    grid = np.nan_to_num(_auc_grid(z_model, z_probe, labels), nan=0.5)
    global_w = BLEND_GRID[int(np.argmax(grid.mean(1)))]
    own = BLEND_GRID[np.argmax(grid, axis=0)]
    positives = np.minimum(labels.sum(0), (1 - labels).sum(0))
    shrink = BLEND_SHRINK_K / (positives + BLEND_SHRINK_K)
    return np.asarray((1 - shrink) * own + shrink * global_w, np.float32)


def fused_probabilities(raw: np.ndarray, z_probe: np.ndarray, blend: np.ndarray) -> np.ndarray:
    """The fused answer before calibration: ``sigmoid(logit(raw) + blend * z_probe)``, as the engine computes it."""
    return np.asarray(1 / (1 + np.exp(-np.clip(logit(raw) + blend * z_probe, -40, 40))), np.float32)


# --- data ---------------------------------------------------------------------------------
def load_faces(roots: Sequence[Path], partition: str, descriptor_dir: Path, name: str) -> FaceSet:
    identities = read_identities(roots[0])
    parts: list[FaceSet] = []
    for root in roots:
        split = load_celeba(root, (partition,))[partition]
        path = table_path(descriptor_dir, root, partition, name)
        if not path.is_file():
            continue
        table = load_descriptor_table(path)
        rows = table.rows(split.filenames)
        keep = np.nonzero((rows >= 0) & table.found[np.maximum(rows, 0)])[0]
        r = rows[keep]
        parts.append(
            FaceSet(
                tuple(root / IMAGE_DIR / split.filenames[i] for i in keep),
                split.labels[keep],
                np.array([identities.get(split.filenames[i], -1 - i) for i in keep]),
                table.descriptors[r],
                table.landmarks[r],
            )
        )
    return FaceSet(
        tuple(p for part in parts for p in part.paths),
        np.concatenate([p.labels for p in parts]),
        np.concatenate([p.identities for p in parts]),
        np.concatenate([p.descriptors for p in parts]),
        np.concatenate([p.landmarks for p in parts]),
    )


def network_outputs(bundle: ModelBundle, faces: FaceSet, batch: int = 64) -> np.ndarray:
    """The network's raw probabilities through the product path: ``align_face`` on the original pixels."""
    classifier = load_classifier(bundle, "torch", "cpu", None)
    c = bundle.config
    out: list[np.ndarray] = []  # (b, 40) each
    for start in range(0, len(faces), batch):
        crops = []
        for path, marks in zip(faces.paths[start : start + batch], faces.landmarks[start : start + batch]):
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:  # the descriptor table found a face in it, so it was readable then
                raise FileNotFoundError(f"{path}: cannot be read")
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            crops.append(align_face(rgb, marks, width=c.image_width, height=c.image_height).image)
        out.append(classifier.predict(np.stack(crops)).probabilities)
    return np.concatenate(out).astype(np.float32)


# --- measurement ------------------------------------------------------------------------------
def _calibration_crossfit(
    raw: np.ndarray, z_probe: np.ndarray, labels: np.ndarray, identities: np.ndarray, splits: int
) -> BlendCrossfit:
    """Blend fitted on one identity half of the calibration slice, AUC on the other; both ways, ``splits`` times.

    ``raw`` (n, 40) the model's probabilities, ``z_probe`` (n, 40) the probes' logits, ``identities`` (n,)."""
    model_auc: list[list[float]] = []  # (2 * splits, 40)
    fused_auc: list[list[float]] = []
    for seed in range(splits):
        half = identity_halves(identities, seed)
        for fit, score in ((half, ~half), (~half, half)):
            blend = fit_blend(logit(raw[fit]), z_probe[fit], labels[fit])
            y = labels[score]
            model_auc.append([roc_auc(raw[score][:, j], y[:, j]) for j in range(40)])
            fused_auc.append(
                [roc_auc(fused_probabilities(raw[score], z_probe[score], blend)[:, j], y[:, j]) for j in range(40)]
            )
    m, f = np.nanmean(model_auc, 0), np.nanmean(fused_auc, 0)
    gains = np.nanmean(np.array(fused_auc) - np.array(model_auc), 1)
    return {
        "faces": len(labels),
        "identities": len(np.unique(identities)),
        "splits": splits,
        "model_mean_auc": float(m.mean()),
        "fused_mean_auc": float(f.mean()),
        "gain": float(f.mean() - m.mean()),
        "gain_range_over_splits": [float(gains.min()), float(gains.max())],
        "per_attribute_gain": {n: float(g) for n, g in zip(ATTRIBUTE_NAMES, f - m)},
    }


def _val_scores(
    cal_raw: np.ndarray,
    cal_probe: np.ndarray,
    cal_y: np.ndarray,
    blend: np.ndarray,
    val_raw: np.ndarray,
    val_probe: np.ndarray,
    val_y: np.ndarray,
    val_fold: np.ndarray,
    policy: str,
    floors: np.ndarray | None = None,
) -> dict[str, dict[str, Any]]:
    """Model alone and fused on val: AUC of the outputs (val chose nothing), decisions cross-fitted over val halves.

    -> ``{"model": ..., "fused": ...}``, each a val summary (floats) plus ``auc`` (attribute -> AUC)."""
    out: dict[str, dict[str, Any]] = {}
    for name, cal, val in (
        ("model", cal_raw, val_raw),
        ("fused", fused_probabilities(cal_raw, cal_probe, blend), fused_probabilities(val_raw, val_probe, blend)),
    ):
        halves = (np.nonzero(val_fold)[0], np.nonzero(~val_fold)[0])
        margins = np.zeros_like(val)
        for fit_half, score_half in ((halves[0], halves[1]), (halves[1], halves[0])):
            rule = fit_decision_rule(
                np.concatenate([cal, val[fit_half]]), np.concatenate([cal_y, val_y[fit_half]]), policy
            ).rule
            rule = with_floors(rule, floors if name == "fused" else None)
            margins[score_half] = rule.calibrate(val[score_half]) - rule.thresholds + 0.5
        result = evaluate_predictions(np.clip(margins, 0, 1), val_y, 0.5)
        summary = result.summary()
        summary["mean_auc"] = mean_auc(val, val_y)
        out[name] = {k: float(v) for k, v in summary.items()}
        out[name]["auc"] = {n: roc_auc(val[:, j], val_y[:, j]) for j, n in enumerate(ATTRIBUTE_NAMES)}
    return out


def _reliability(
    raw: np.ndarray,
    z_probe: np.ndarray,
    labels: np.ndarray,
    identities: np.ndarray,
    policy: str,
    floors: np.ndarray | None = None,
) -> Reliability:
    """Per attribute AUC / precision / recall of the fused rule, each identity half decided by fits on the other."""
    half = identity_halves(identities, 12345)
    decisions = np.zeros(labels.shape, bool)
    auc: list[list[float]] = []  # (2, 40)
    for fit, score in ((half, ~half), (~half, half)):
        blend = fit_blend(logit(raw[fit]), z_probe[fit], labels[fit])
        rule = with_floors(
            fit_decision_rule(fused_probabilities(raw[fit], z_probe[fit], blend), labels[fit], policy).rule, floors
        )
        fused = fused_probabilities(raw[score], z_probe[score], blend)
        decisions[score] = rule.decide(rule.calibrate(fused))
        auc.append([roc_auc(fused[:, j], labels[score][:, j]) for j in range(40)])
    y = labels.astype(bool)
    tp = (decisions & y).sum(0)
    precision = np.where(decisions.sum(0) > 0, tp / np.maximum(decisions.sum(0), 1), np.nan)
    recall = np.where(y.sum(0) > 0, tp / np.maximum(y.sum(0), 1), np.nan)
    aucs = np.nanmean(np.array(auc), 0)
    return {
        "source": "calibration slice + val, identity-split in two, each half decided by fits on the other",
        "faces": len(labels),
        "bar_auc": RELIABLE_AUC,
        "auc": [round(float(a), 4) for a in aucs],
        "precision": [None if np.isnan(p) else round(float(p), 4) for p in precision],
        "recall": [None if np.isnan(r) else round(float(r), 4) for r in recall],
        "positives": [int(p) for p in y.sum(0)],
    }


def _group_rates(rule: DecisionRule, fused: np.ndarray, labels: np.ndarray) -> list[GroupRate]:
    """Decision rates of the attributes that follow CelebA's demographic priors, per sex/age group of val."""
    decided = rule.decide(rule.calibrate(fused))
    male, young = labels[:, attribute_index("Male")] > 0, labels[:, attribute_index("Young")] > 0
    rows: list[GroupRate] = []
    for group, mask in (
        ("young women", ~male & young),
        ("older women", ~male & ~young),
        ("young men", male & young),
        ("older men", male & ~young),
    ):
        for name in ("Chubby", "Double_Chin", "Bald", "Gray_Hair"):
            j = attribute_index(name)
            rows.append(
                {
                    "group": group,
                    "faces": int(mask.sum()),
                    "attribute": name,
                    "decided_rate": float(decided[mask, j].mean()) if mask.any() else float("nan"),
                    "true_rate": float(labels[mask, j].mean()) if mask.any() else float("nan"),
                }
            )
    return rows


def _parse_floors(specs: Sequence[str]) -> np.ndarray | None:
    if not specs:
        return None
    floors = np.zeros(len(ATTRIBUTE_NAMES), np.float32)
    for spec in specs:
        name, _, value = spec.partition("=")
        floors[attribute_index(name)] = float(value)
    return floors


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m attricam.training.second_opinion_fit", description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--descriptors", type=Path, required=True, help="folder of attricam.training.descriptors")
    parser.add_argument("--data", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, required=True, help="the bundle with its second opinion (.pt)")
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--descriptor", choices=sorted(DESCRIPTOR_SIZES), default=DESCRIPTOR_NAME)
    parser.add_argument(
        "--ridge", type=float, action="append", default=None, help=f"probe ridge to search (default {RIDGE_GRID})"
    )
    parser.add_argument(
        "--floor",
        action="append",
        default=[],
        metavar="NAME=P",
        help="the fused rule calls NAME only at a calibrated probability of at least P (scored the same honest way)",
    )
    return parser


def split_faces(
    roots: Sequence[Path], descriptor_dir: Path, descriptor: str, bundle: ModelBundle
) -> tuple[FaceSet, FaceSet, FaceSet, dict[str, int]]:
    """(probe faces: train outside the bundle's calibration slice, the calibration slice, val, identities)."""
    fraction = float(bundle.metadata.get("train_config", {}).get("calibration_fraction", 0.12))
    train = load_faces(roots, "train", descriptor_dir, descriptor)
    val = load_faces(roots[:1], "val", descriptor_dir, descriptor)
    identities = read_identities(roots[0])
    in_slice = calibration_mask([p.name for p in train.paths], identities, fraction)
    fit_set, cal = train.subset(np.nonzero(~in_slice)[0]), train.subset(np.nonzero(in_slice)[0])
    log.info("probe faces %d, calibration slice %d, val %d", len(fit_set), len(cal), len(val))
    return fit_set, cal, val, identities


def _probes(
    fit_set: FaceSet, out: Path, ridges: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, ProbeSearch]:
    """The probes, from ``OUT.probes.npz`` when a run before left them (the ridge search costs minutes)."""
    probes_file = out.with_suffix(".probes.npz")
    if probes_file.is_file():
        with np.load(probes_file) as saved:
            mean, std, weight, bias = (saved[k] for k in ("mean", "std", "weight", "bias"))
            search = json.loads(str(saved["search"]))
        log.info("probes from %s", probes_file)
        return mean, std, weight, bias, search
    mean, std, weight, bias, search = fit_probes(fit_set, tuple(ridges))
    probes_file.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(probes_file) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, mean=mean, std=std, weight=weight, bias=bias, search=json.dumps(search))
    return mean, std, weight, bias, search


_Scored = tuple[FaceSet, np.ndarray, np.ndarray]
"""Faces with the model's raw probabilities (n, 40) and the probes' logits (n, 40) on them."""


def _pooled_reliability(cal: _Scored, val: _Scored, policy: str, floors: np.ndarray | None) -> Reliability:
    """The fused answer's per-attribute reliability, cross-fitted over the calibration slice and val together."""
    (cal_faces, cal_raw, cal_probe), (val_faces, val_raw, val_probe) = cal, val
    pooled_raw = np.concatenate([cal_raw, val_raw])
    pooled_probe = np.concatenate([cal_probe, val_probe])
    pooled_y = np.concatenate([cal_faces.labels, val_faces.labels])
    pooled_ids = np.concatenate([cal_faces.identities, val_faces.identities])
    return _reliability(pooled_raw, pooled_probe, pooled_y, pooled_ids, policy, floors)


def _fused_rule(
    cal: _Scored, val: _Scored, blend: np.ndarray, policy: str, floors: np.ndarray | None
) -> CalibrationFit:
    """The fused answer's rule, as the model's own: fitted on the calibration slice and all of val (its figures
    are the cross-fitted ones), with the ``--floor`` bars."""
    (cal_faces, cal_raw, cal_probe), (val_faces, val_raw, val_probe) = cal, val
    fit = fit_decision_rule(
        np.concatenate(
            [fused_probabilities(cal_raw, cal_probe, blend), fused_probabilities(val_raw, val_probe, blend)]
        ),
        np.concatenate([cal_faces.labels, val_faces.labels]),
        policy,
    )
    return replace(fit, rule=with_floors(fit.rule, floors))


def _model_reliability(val_report: dict[str, dict[str, Any]], faces: int) -> dict[str, Any]:
    """The model alone's per-attribute AUC on val, for the answers shown without a second opinion."""
    return {
        "source": "val (the model's own rule, cross-fitted over val's identity halves)",
        "faces": faces,
        "bar_auc": RELIABLE_AUC,
        "auc": [round(float(val_report["model"]["auc"][n]), 4) for n in ATTRIBUTE_NAMES],
    }


def _write_outputs(
    args: argparse.Namespace, bundle: ModelBundle, metadata: dict[str, Any], opinion: SecondOpinion, command: str
) -> None:
    """The bundle with its second opinion (``--out``) and its reports beside it (``.second_opinion.{json,md}``)."""
    fused_bundle = ModelBundle(
        bundle.config, bundle.state_dict, list(bundle.thresholds), metadata, None, bundle.calibration, opinion.to_dict()
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fused_bundle.save(args.out)
    reliability = metadata["reliability"]["fused"]
    report = {"model": str(args.model), "second_opinion": metadata["second_opinion"], "reliability": reliability}
    atomic_write_text(args.out.with_suffix(".second_opinion.json"), json.dumps(report, indent=1))
    atomic_write_text(args.out.with_suffix(".second_opinion.md"), render_markdown(metadata, command))


def _summary(
    calibration_report: BlendCrossfit, val_report: dict[str, dict[str, Any]], reliability: Reliability
) -> dict[str, Any]:
    """What the command prints: the gains, and which attributes stay unreliable or rare."""
    return {
        "calibration_slice": {k: v for k, v in calibration_report.items() if k != "per_attribute_gain"},
        "val_model": {k: v for k, v in val_report["model"].items() if k != "auc"},
        "val_fused": {k: v for k, v in val_report["fused"].items() if k != "auc"},
        "unreliable": [n for n, a in zip(ATTRIBUTE_NAMES, reliability["auc"]) if a < RELIABLE_AUC],
        "rare_attributes": [a.name for a in ATTRIBUTES if a.is_rare],
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(2)

    bundle = ModelBundle.load(args.model)
    policy = str(bundle.metadata.get("threshold_policy", "hybrid_acc_balacc"))
    fit_set, cal, val, identities = split_faces(args.data, args.descriptors, args.descriptor, bundle)
    mean, std, weight, bias, search = _probes(fit_set, args.out, args.ridge or RIDGE_GRID)
    probe = SecondOpinion(args.descriptor, mean, std, weight, bias, np.zeros(40), DecisionRule.uncalibrated())
    cal_probe, val_probe = probe.probe_logits(cal.descriptors), probe.probe_logits(val.descriptors)
    cal_raw, val_raw = network_outputs(bundle, cal), network_outputs(bundle, val)

    calibration_report = _calibration_crossfit(cal_raw, cal_probe, cal.labels, cal.identities, args.splits)
    log.info("calibration slice cross-fitted: %s", {k: v for k, v in calibration_report.items() if "per_" not in k})
    blend = fit_blend(logit(cal_raw), cal_probe, cal.labels)
    val_fold = calibration_mask([p.name for p in val.paths], identities, 0.5, salt="attricam-val-fold")
    floors = _parse_floors(args.floor)
    val_report = _val_scores(
        cal_raw, cal_probe, cal.labels, blend, val_raw, val_probe, val.labels, val_fold, policy, floors
    )
    log.info("val: model AUC %.4f, fused AUC %.4f", val_report["model"]["mean_auc"], val_report["fused"]["mean_auc"])

    reliability = _pooled_reliability((cal, cal_raw, cal_probe), (val, val_raw, val_probe), policy, floors)
    fit = _fused_rule((cal, cal_raw, cal_probe), (val, val_raw, val_probe), blend, policy, floors)
    opinion = SecondOpinion(args.descriptor, mean, std, weight, bias, blend, fit.rule)
    groups = _group_rates(fit.rule, fused_probabilities(val_raw, val_probe, blend), val.labels)

    metadata = dict(bundle.metadata)
    metadata["second_opinion"] = {
        "descriptor": args.descriptor,
        "probe_faces": len(fit_set),
        "probe_search": search,
        "blend_faces": len(cal),
        "blend": {n: float(w) for n, w in zip(ATTRIBUTE_NAMES, blend)},
        "calibration_slice_crossfit": calibration_report,
        "val": {k: {m: v for m, v in d.items() if m != "auc"} for k, d in val_report.items()},
        "val_auc": {k: d["auc"] for k, d in val_report.items()},
        "group_rates_val": groups,
        "floors": {} if floors is None else {n: float(f) for n, f in zip(ATTRIBUTE_NAMES, floors) if f > 0},
        "decision_fit": fit.to_dict(),
    }
    metadata["reliability"] = {"fused": reliability, "model_only": _model_reliability(val_report, len(val))}
    _write_outputs(args, bundle, metadata, opinion, " ".join(argv or []))
    print(json.dumps(_summary(calibration_report, val_report, reliability), indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
