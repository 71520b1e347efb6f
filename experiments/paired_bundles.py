"""Is bundle B better than bundle A on the calibration slice, split by split? A paired comparison of two fused bundles.

    .venv/bin/python -m experiments.paired_bundles assets/attricam-default.pt runs/fused-ft-regions/model.pt \\
        [--descriptors runs/teacher] [--data ../shared/celeba --data ../shared/celeba-lowres] [--splits 10]

Two bundles' calibration-slice figures come from their own fits, each over the same identity splits; the
difference of two means hides whether B wins on every split or on half of them. Here both networks' raw outputs
and each bundle's own probes are scored on the same identity halves: each bundle's blend fitted on one half
(:func:`attricam.training.second_opinion_fit.fit_blend`), mean AUC on the other, both ways, ``--splits`` times.
Printed: B - A per half-split (mean, range, how many positive). Both bundles need a second opinion on the same
descriptor, whose tables are in ``--descriptors``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from attricam.engine.bundle import ModelBundle
from attricam.engine.decision import logit
from attricam.training.config import shared_data_dir
from attricam.training.metrics import roc_auc
from attricam.training.second_opinion_fit import (
    fit_blend,
    fused_probabilities,
    identity_halves,
    network_outputs,
    split_faces,
)

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--descriptors", type=Path, default=REPO / "runs" / "teacher")
    parser.add_argument("--data", type=Path, action="append", default=None)
    parser.add_argument("--splits", type=int, default=10)
    args = parser.parse_args()
    roots = args.data or [shared_data_dir("celeba"), shared_data_dir("celeba-lowres")]
    bundles = [ModelBundle.load(path) for path in (args.a, args.b)]
    first, second = (b.opinion for b in bundles)
    if first is None or second is None or first.descriptor != second.descriptor:
        parser.error("both bundles need a second opinion on the same descriptor")
    _, cal, _, _ = split_faces(roots, args.descriptors, first.descriptor, bundles[0])
    scored = [(network_outputs(b, cal), o.probe_logits(cal.descriptors)) for b, o in zip(bundles, (first, second))]
    differences = []
    for seed in range(args.splits):
        half = identity_halves(cal.identities, seed)
        for fit, score in ((half, ~half), (~half, half)):
            aucs = []
            for raw, probe in scored:
                blend = fit_blend(logit(raw[fit]), probe[fit], cal.labels[fit])
                p, y = fused_probabilities(raw[score], probe[score], blend), cal.labels[score]
                aucs.append(np.nanmean([roc_auc(p[:, j], y[:, j]) for j in range(y.shape[1])]))
            differences.append(aucs[1] - aucs[0])
    d = np.array(differences)
    print(f"calibration slice: {len(cal)} faces, {len(np.unique(cal.identities))} identities, {len(d)} half-splits")
    print(
        f"B - A fused mean AUC: mean {d.mean():+.4f}, range {d.min():+.4f} to {d.max():+.4f}, B ahead on {int((d > 0).sum())}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
