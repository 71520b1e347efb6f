"""How firmly do CelebA's faces pin each decision threshold? The fused rule refitted with other bootstrap seeds.

    .venv/bin/python -m experiments.threshold_stability assets/attricam-default.pt [--seeds 6] [--bootstraps 25]
        [--descriptors runs/teacher] [--data ../shared/celeba --data ../shared/celeba-lowres]

The fused rule's thresholds (:func:`attricam.training.calibration.fit_decision_rule`: the median of bootstrap
optima, shrunk towards 0.5) are refitted on the same faces as
:mod:`attricam.training.second_opinion_fit` fits them (the calibration slice and val, fused with the bundle's
own blend), once per seed. An attribute whose threshold moves a lot between seeds sits on a flat objective:
CelebA's faces barely fall between the candidate cuts, so the faces of another kind that do (a blurred face in a
group photo at p 0.4 for Male) are decided by the draw, not by the data. Printed per attribute: the shipped
threshold and the range over seeds, widest first.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from attricam.engine.attributes import ATTRIBUTE_NAMES
from attricam.engine.bundle import ModelBundle
from attricam.training import calibration
from attricam.training.config import shared_data_dir
from attricam.training.second_opinion_fit import fused_probabilities, network_outputs, split_faces

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--bootstraps", type=int, default=calibration.BOOTSTRAPS)
    parser.add_argument("--descriptors", type=Path, default=REPO / "runs" / "teacher")
    parser.add_argument("--data", type=Path, action="append", default=None)
    parser.add_argument("--top", type=int, default=12, help="attributes to list")
    args = parser.parse_args()
    roots = args.data or [shared_data_dir("celeba"), shared_data_dir("celeba-lowres")]
    bundle = ModelBundle.load(args.bundle)
    opinion = bundle.opinion
    if opinion is None:
        parser.error(f"{args.bundle} has no second opinion: its rule is the trainer's (training/finalize.py)")
    _, cal, val, _ = split_faces(roots, args.descriptors, opinion.descriptor, bundle)
    faces = (cal, val)
    fused = np.concatenate(
        [
            fused_probabilities(network_outputs(bundle, f), opinion.probe_logits(f.descriptors), opinion.blend)
            for f in faces
        ]
    )
    labels = np.concatenate([f.labels for f in faces])
    policy = str(bundle.metadata.get("threshold_policy", "hybrid_acc_balacc"))
    fits = np.array(
        [
            calibration.fit_decision_rule(fused, labels, policy, seed=s, bootstraps=args.bootstraps).rule.thresholds
            for s in range(args.seeds)
        ]
    )
    spread = fits.max(0) - fits.min(0)
    print(f"{len(labels)} faces, policy {policy}, {args.seeds} seeds x {args.bootstraps} bootstraps")
    print(f"{'attribute':<20}{'shipped':>9}{'min':>7}{'max':>7}")
    for j in np.argsort(-spread)[: args.top]:
        shipped = float(opinion.rule.thresholds[j])
        print(f"{ATTRIBUTE_NAMES[j]:<20}{shipped:>9.2f}{fits[:, j].min():>7.2f}{fits[:, j].max():>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
