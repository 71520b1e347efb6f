"""How far can thresholds alone take a model? Honest val figures next to an oracle ceiling.

    .venv/bin/python -m experiments.val_ceiling --model assets/attricam-default.pt [--model runs/lc50/model.pt ...]
        [--floor Chubby=0.5 --floor Double_Chin=0.5 | --floor rare=0.5]

For each model: the cross-fitted val figures of its own decision rule (as the model card reports them),
then a ceiling that no decision rule can beat: each attribute's threshold chosen *on val itself*, with
val's labels, to trade mean accuracy against mean balanced accuracy. The trade is traced by maximising
``balanced accuracy + lam * accuracy`` per attribute for a range of ``lam``; every printed point is a
real per-attribute choice of thresholds, and the points bound the best reachable pairs from above
(they are fitted on the faces they score, so the honest figures can only be lower). If no point
reaches both product targets (accuracy 0.905, balanced accuracy 0.86), thresholds cannot get there:
only a better ranking (higher AUC) can.

``--floor NAME=P`` also scores, cross-fitted, the model's rule with those attributes (``rare``: all 14
rare ones) required to reach calibrated probability P: the price of a stricter rule on val and on
shifted val, and how many rare attributes stay at 0.5-1.5x their true rate on shifted val.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from attricam.training.config import shared_data_dir

REPO = Path(__file__).resolve().parent.parent

TARGET_ACCURACY, TARGET_BALANCED = 0.905, 0.86
LAMBDAS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 1e6)


def threshold_sweep(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and balanced accuracy of every distinct cut of one attribute (predict positive at score >= cut)."""
    order = np.argsort(-scores, kind="stable")
    ranked = labels[order].astype(np.float64)
    positives, n = ranked.sum(), len(ranked)
    negatives = n - positives
    true_pos = np.concatenate([[0.0], np.cumsum(ranked)])  # k highest scores predicted positive, k = 0..n
    false_pos = np.arange(n + 1) - true_pos
    # Only cut between distinct scores: ties must share a decision.
    distinct = np.concatenate([[True], scores[order][1:] != scores[order][:-1], [True]])
    true_pos, false_pos = true_pos[distinct], false_pos[distinct]
    accuracy = (true_pos + negatives - false_pos) / n
    tpr = true_pos / positives if positives else np.ones_like(true_pos)
    tnr = 1 - false_pos / negatives if negatives else np.ones_like(false_pos)
    return accuracy, (tpr + tnr) / 2


def oracle_frontier(probabilities: np.ndarray, labels: np.ndarray) -> list[tuple[float, float, float]]:
    """(lam, mean accuracy, mean balanced accuracy) with every attribute's cut fitted on these faces."""
    sweeps = [threshold_sweep(probabilities[:, a], labels[:, a]) for a in range(labels.shape[1])]
    points = []
    for lam in LAMBDAS:
        picks = [(acc[i], bal[i]) for acc, bal in sweeps for i in [int(np.argmax(bal + lam * acc))]]
        accuracy, balanced = np.mean(picks, axis=0)
        points.append((lam, float(accuracy), float(balanced)))
    return points


def main() -> int:
    from attricam.engine.bundle import ModelBundle
    from attricam.training.celeba import read_identities
    from attricam.training.config import TrainConfig
    from attricam.training.crossfit import cross_fit
    from attricam.training.data import CropSpec, load_face_arrays
    from attricam.training.splits import calibration_mask
    from attricam.training.trainer import split_calibration
    from experiments.flip_tta import held_out_predictions

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", required=True, type=Path)
    parser.add_argument("--cache", default=str(REPO / "cache"))
    parser.add_argument("--floor", action="append", default=[], metavar="NAME=P")
    args = parser.parse_args()
    floors = _floors(args.floor)
    torch.set_num_threads(2)
    for path in args.model:
        bundle = ModelBundle.load(path)
        cfg = TrainConfig.from_dict(bundle.metadata["train_config"])
        model = bundle.build_model().eval()
        spec = CropSpec(width=cfg.image_width, height=cfg.image_height, margin=cfg.margin)
        roots = [r if Path(r).is_dir() else str(shared_data_dir(Path(r).name)) for r in cfg.data]
        train, _ = load_face_arrays(roots, "train", cache_dir=args.cache, spec=spec, limit=cfg.train_limit)
        val, _ = load_face_arrays(roots, "val", cache_dir=args.cache, spec=spec)
        fitted, holdout = split_calibration(train, cfg, identities=read_identities(roots[0]))
        fold = calibration_mask(val.filenames, read_identities(roots[0]), 0.5, salt="attricam-val-fold")
        policy = bundle.metadata.get("threshold_policy", "hybrid_acc_balacc")
        val_predictions = held_out_predictions(model, val, cfg, flip=False)
        holdout_predictions = held_out_predictions(model, holdout, cfg, flip=False)
        report = cross_fit(holdout_predictions, val_predictions, fold, policy)
        honest = report.val_crossfit.summary()
        print(f"\n{path}: trained on {len(fitted.labels)} train faces, {len(val.labels)} val faces, policy {policy}")
        print(
            f"  cross-fitted val: AUC {honest['mean_auc']:.4f}  accuracy {honest['mean_accuracy']:.4f}  "
            f"balanced accuracy {honest['mean_balanced_accuracy']:.4f}  rare F1 {honest['rare_mean_f1']:.4f}"
        )
        if floors is not None:
            _print_rule("shipped rule", report)
            _print_rule(
                f"with floors {' '.join(args.floor)}",
                cross_fit(holdout_predictions, val_predictions, fold, policy, floors),
            )
        print("  oracle ceiling (cuts fitted on val itself): lam -> mean accuracy / mean balanced accuracy")
        for lam, accuracy, balanced in oracle_frontier(val_predictions.clean, val_predictions.labels):
            both = accuracy >= TARGET_ACCURACY and balanced >= TARGET_BALANCED
            print(f"    lam {lam:>9g}: {accuracy:.4f} / {balanced:.4f}{'   both targets' if both else ''}")
    return 0


def _floors(specs: list[str]) -> np.ndarray | None:
    """["Chubby=0.5", "rare=0.4"] -> (40,) floors (0 where none), or None without specs."""
    from attricam.engine.attributes import ATTRIBUTE_NAMES, RARE_ATTRIBUTES

    if not specs:
        return None
    floors = np.zeros(len(ATTRIBUTE_NAMES))
    for spec in specs:
        name, _, value = spec.partition("=")
        names = [a.name for a in RARE_ATTRIBUTES] if name == "rare" else [name]
        for n in names:
            if n not in ATTRIBUTE_NAMES:
                raise SystemExit(f"--floor {spec}: unknown attribute {n!r}")
            floors[ATTRIBUTE_NAMES.index(n)] = float(value)
    return floors


def _print_rule(label: str, report) -> None:
    from attricam.training.finalize import shifted_rate_rows

    v, s = report.val_crossfit.summary(), report.shifted_val_crossfit.summary()
    rare = [r for r in shifted_rate_rows(report.shifted_val_crossfit) if r["rare"] and r["true_rate"]]
    outside = [f"{r['attribute']} {r['ratio']:.2f}x" for r in rare if not 0.5 <= r["ratio"] <= 1.5]
    print(
        f"  {label}: val acc {v['mean_accuracy']:.4f} bal {v['mean_balanced_accuracy']:.4f} rare F1 "
        f"{v['rare_mean_f1']:.4f} | shifted acc {s['mean_accuracy']:.4f} bal {s['mean_balanced_accuracy']:.4f} "
        f"rare F1 {s['rare_mean_f1']:.4f} | {len(rare) - len(outside)}/{len(rare)} rare in band; out: "
        + (", ".join(outside) or "none")
    )


if __name__ == "__main__":
    raise SystemExit(main())
