"""Do ensembles pay? Two networks averaged, and two face-network probes stacked, against the shipped bundle.

    .venv/bin/python -m experiments.ensemble_study --descriptors runs/teacher \\
        --probes dlib-resnet-v1-grid=runs/fused-grid/model.probes.npz \\
        --probes dlib-resnet-v1=runs/fused/model.probes.npz \\
        --network assets/attricam-default.pt --network runs/frozen-regions/model.pt

Issue 19 item 5 asks for several models averaged (and distilled into one student) and to ship only what beats
the shipped bundle on the calibration slice. The candidates, each a sum of logits:

* ``net``: the first network alone; ``net+grid``: plus the grid probes (what ships);
* ``net+grid+128``: plus the 128-D descriptor's probes as well (both come from one pass of the face network,
  so this costs nothing at run time);
* ``nets``: the networks' logits averaged, then the same probes on top.

Blend weights are :func:`attricam.training.second_opinion_fit.fit_blend`'s, fitted one stage after the other.
Scored the honest way: on the calibration slice (1,700 faces, 675 identities; the probes never saw it) each
candidate's blends are fitted on one identity half and scored on the other, both ways, over ``--splits`` random
splits; on val (which chose nothing) with blends from the whole calibration slice. The probes are the ones the
fits left beside their bundles (``model.probes.npz``), fitted on train faces outside the calibration slice.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from attricam.engine.attributes import ATTRIBUTE_NAMES
from attricam.engine.bundle import ModelBundle
from attricam.engine.decision import logit
from attricam.training.celeba import read_identities
from attricam.training.metrics import roc_auc
from attricam.training.second_opinion_fit import (
    FaceSet,
    fit_blend,
    identity_halves,
    load_faces,
    mean_auc,
    network_outputs,
)
from attricam.training.splits import calibration_mask

log = logging.getLogger(__name__)

Stages = list[np.ndarray]  # the candidate's logit sources, (n, 40) each: the base first, then what is blended in


def _fit_stages(stages: Stages, labels: np.ndarray) -> list[np.ndarray]:
    """Blend weights, one stage after the other: z = base + w1 * s1, then z + w2 * s2, ..."""
    weights, z = [], stages[0]
    for source in stages[1:]:
        w = fit_blend(z, source, labels)
        weights.append(w)
        z = z + w * source
    return weights


def _apply(stages: Stages, weights: Sequence[np.ndarray]) -> np.ndarray:
    z = stages[0].copy()
    for source, w in zip(stages[1:], weights):
        z += w * source
    return z


def _per_attribute_auc(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.array([roc_auc(z[:, j], labels[:, j]) for j in range(labels.shape[1])])


def crossfit_auc(stages: Stages, labels: np.ndarray, identities: np.ndarray, splits: int) -> np.ndarray:
    """(2 * splits, 40) AUC on one identity half with blends fitted on the other."""
    rows = []
    for seed in range(splits):
        half = identity_halves(identities, seed)
        for fit, score in ((half, ~half), (~half, half)):
            weights = _fit_stages([s[fit] for s in stages], labels[fit])
            rows.append(_per_attribute_auc(_apply([s[score] for s in stages], weights), labels[score]))
    return np.array(rows)


def _probe_logits(path: Path, descriptors: np.ndarray) -> np.ndarray:
    with np.load(path) as saved:
        mean, std, weight, bias = (saved[k] for k in ("mean", "std", "weight", "bias"))
    return np.asarray(((descriptors - mean) / std) @ weight.T + bias, np.float32)


def _same_faces(a: FaceSet, b: FaceSet) -> FaceSet:
    """``b`` reordered to ``a``'s faces (descriptor tables of two kinds share their boxes, not always their order)."""
    where = {p: i for i, p in enumerate(b.paths)}
    missing = [p for p in a.paths if p not in where]
    if missing:
        raise SystemExit(f"{len(missing)} faces lack a descriptor of the second kind, e.g. {missing[0]}")
    return b.subset(np.array([where[p] for p in a.paths]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--descriptors", type=Path, required=True)
    parser.add_argument("--data", type=Path, action="append", default=None)
    parser.add_argument("--probes", action="append", required=True, metavar="DESCRIPTOR=PROBES.npz")
    parser.add_argument("--network", type=Path, action="append", required=True)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None, help="also write the figures here as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from attricam.training.config import shared_data_dir

    roots = args.data or [shared_data_dir("celeba"), shared_data_dir("celeba-lowres")]
    identities = read_identities(roots[0])
    probe_specs = [spec.partition("=")[::2] for spec in args.probes]
    bundles = [ModelBundle.load(p) for p in args.network]
    fraction = float(bundles[0].metadata.get("train_config", {}).get("calibration_fraction", 0.12))

    sets: dict[str, tuple[FaceSet, FaceSet]] = {}  # descriptor -> (calibration slice, val)
    for descriptor, _ in probe_specs:
        train = load_faces(roots, "train", args.descriptors, descriptor)
        in_slice = calibration_mask([p.name for p in train.paths], identities, fraction)
        val = load_faces(roots[:1], "val", args.descriptors, descriptor)
        sets[descriptor] = (train.subset(np.nonzero(in_slice)[0]), val)
    first = probe_specs[0][0]
    cal, val = sets[first]
    probes_cal = [_probe_logits(Path(f), _same_faces(cal, sets[d][0]).descriptors) for d, f in probe_specs]
    probes_val = [_probe_logits(Path(f), _same_faces(val, sets[d][1]).descriptors) for d, f in probe_specs]
    nets_cal = [logit(network_outputs(b, cal)) for b in bundles]
    nets_val = [logit(network_outputs(b, val)) for b in bundles]
    log.info("calibration slice %d faces, val %d faces", len(cal), len(val))

    names = [d.removeprefix("dlib-resnet-v1").strip("-") or "128" for d, _ in probe_specs]
    candidates: dict[str, Callable[[bool], Stages]] = {
        "net": lambda v: [(nets_val if v else nets_cal)[0]],
        f"net+{names[0]}": lambda v: [(nets_val if v else nets_cal)[0], (probes_val if v else probes_cal)[0]],
        f"net+{'+'.join(names)}": lambda v: [(nets_val if v else nets_cal)[0], *(probes_val if v else probes_cal)],
    }
    if len(bundles) > 1:
        candidates["nets"] = lambda v: [np.mean(nets_val if v else nets_cal, 0)]
        candidates[f"nets+{names[0]}"] = lambda v: [
            np.mean(nets_val if v else nets_cal, 0),
            (probes_val if v else probes_cal)[0],
        ]
        candidates[f"nets+{'+'.join(names)}"] = lambda v: [
            np.mean(nets_val if v else nets_cal, 0),
            *(probes_val if v else probes_cal),
        ]

    figures: dict[str, dict[str, object]] = {}
    reference = f"net+{names[0]}"
    reference_rows = crossfit_auc(candidates[reference](False), cal.labels, cal.identities, args.splits)
    for name, stages in candidates.items():
        rows = crossfit_auc(stages(False), cal.labels, cal.identities, args.splits)
        gains = np.nanmean(rows - reference_rows, 1)
        weights = _fit_stages(stages(False), cal.labels)
        val_auc = mean_auc(_apply(stages(True), weights), val.labels)
        per_attribute = dict(zip(ATTRIBUTE_NAMES, np.round(np.nanmean(rows, 0), 4).tolist()))
        figures[name] = {
            "calibration_slice_auc": float(np.nanmean(rows)),
            f"gain_over_{reference}": [float(gains.mean()), float(gains.min()), float(gains.max())],
            "val_auc": val_auc,
            "per_attribute_calibration_auc": per_attribute,
        }
        print(
            f"{name:>24}: calibration slice {np.nanmean(rows):.4f} "
            f"({gains.mean():+.4f} over {reference}, splits {gains.min():+.4f}..{gains.max():+.4f}), val {val_auc:.4f}"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
