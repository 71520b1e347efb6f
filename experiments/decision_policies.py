"""How the decision-rule settings trade accuracy, balanced accuracy and rare-attribute rates, measured without val.

    .venv/bin/python -m experiments.decision_policies [--model runs/v2/model.pt] [--data ../shared/celeba ...]

The shipped rule's policy and rare-attribute floor are chosen here, on the calibration slice of train
only (the identity-disjoint faces the trainer held back), so that val stays unused by any choice: the
slice is split in two halves by identity, a rule is fitted on one half (clean and camera-shifted copies)
and scored on the other, then the halves swap. Printed per setting: mean accuracy, balanced accuracy
and rare-14 F1 on the clean half, the same on its camera-shifted copy, and how many of the 14 rare
attributes are predicted at 0.5-1.5x their true rate on the shifted copy.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    import attricam.training.calibration as calibration
    from attricam.engine.attributes import RARE_ATTRIBUTES
    from attricam.engine.bundle import ModelBundle
    from attricam.training.cache import CropSpec
    from attricam.training.celeba import read_identities
    from attricam.training.config import TrainConfig
    from attricam.training.crossfit import _pooled, _stack
    from attricam.training.data import load_face_arrays
    from attricam.training.finalize import held_out_predictions
    from attricam.training.splits import calibration_mask
    from attricam.training.trainer import split_calibration

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "runs" / "v2" / "model.pt")
    parser.add_argument("--data", action="append", help="CelebA roots (default: the bundle's training roots)")
    args = parser.parse_args()
    torch.set_num_threads(2)

    bundle = ModelBundle.load(args.model)
    cfg = TrainConfig.from_dict(bundle.metadata["train_config"])
    roots = tuple(args.data or cfg.data)
    spec = CropSpec(width=cfg.image_width, height=cfg.image_height, margin=cfg.margin)
    train, _ = load_face_arrays(roots, "train", spec=spec)
    identities = read_identities(roots[0])
    _, held_back = split_calibration(train, cfg, identities)
    predictions, _ = held_out_predictions(bundle.build_model(), held_back, cfg, "cpu")
    fold = calibration_mask(held_back.filenames, identities, 0.5, salt="attricam-policy-fold")
    halves = (np.nonzero(fold)[0], np.nonzero(~fold)[0])
    rare = [a.index for a in RARE_ATTRIBUTES]

    rows = []
    for policy in ("hybrid_acc_balacc", "mean_acc_balacc", "hybrid", "balanced_accuracy", "f1"):
        for rare_min in (0.25, 0.15, 0.10):
            calibration.RARE_MIN_THRESHOLD = rare_min
            rules = [calibration.fit_decision_rule(*_stack(predictions.subset(h)), policy).rule for h in halves]
            scored = (halves[1], halves[0])
            labels = [predictions.labels[i] for i in scored]
            clean = _pooled(rules, [predictions.clean[i] for i in scored], labels)
            shifted = _pooled(rules, [predictions.shifted[i] for i in scored], labels)
            ratios = [
                shifted.attributes[j].predicted_positive_rate / max(shifted.attributes[j].true_positive_rate, 1e-9)
                for j in rare
            ]
            row = {
                "policy": policy,
                "rare_min_threshold": rare_min,
                "accuracy": round(clean.mean_accuracy, 4),
                "balanced_accuracy": round(clean.mean_balanced_accuracy, 4),
                "rare_f1": round(clean.rare_mean_f1, 4),
                "shifted_accuracy": round(shifted.mean_accuracy, 4),
                "shifted_balanced_accuracy": round(shifted.mean_balanced_accuracy, 4),
                "rare_in_band_on_shifted": int(sum(0.5 <= r <= 1.5 for r in ratios)),
                "median_rare_ratio_on_shifted": round(float(np.median(ratios)), 2),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
