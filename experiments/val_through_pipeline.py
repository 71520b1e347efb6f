"""Val-partition metrics measured through the whole product path: ``attricam analyze`` (detect -> align ->
classify -> calibrated decisions), then compared with the CelebA labels.

    .venv/bin/python -m experiments.val_through_pipeline [--data ../shared/celeba] [--model assets/attricam-default.pt]

The model card's figures come from the cached aligned crops; this script checks that the same numbers hold
when every val image goes through the CLI like a user's photo would. An image where no face is found counts
with all-negative decisions (the product would show nothing).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    from attricam.engine.attributes import ATTRIBUTE_NAMES
    from attricam.engine.bundle import ModelBundle
    from attricam.training.celeba import read_attributes, read_partitions
    from attricam.training.config import DATA_ROOT_HELP, default_data_root
    from attricam.training.metrics import evaluate_predictions

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=default_data_root(), help=f"CelebA root (default {DATA_ROOT_HELP})"
    )
    parser.add_argument("--model", type=Path, default=REPO / "assets" / "attricam-default.pt")
    args = parser.parse_args()

    partitions = read_partitions(args.data / "list_eval_partition.txt")
    labels, _ = read_attributes(args.data / "list_attr_celeba.txt")
    images = sorted(p for p in (args.data / "img_align_celeba").glob("*.jpg") if partitions.get(p.name) == 1)
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "val"
        listing.mkdir()
        for image in images:  # a folder of links keeps the command line short
            (listing / image.name).symlink_to(image.resolve())
        out = Path(tmp) / "val.csv"
        subprocess.run(
            [sys.executable, "-m", "attricam", "analyze", str(listing), "--csv", str(out), "--model", str(args.model)],
            check=True,
            cwd=REPO,
            stderr=subprocess.DEVNULL,
        )
        rows = list(csv.DictReader(out.open()))
    best: dict[str, dict] = {}
    for row in rows:  # the largest face of each image (face 0) is the labelled one
        name = Path(row["path"]).name
        if row["face"] in ("0", "-1") and name not in best:
            best[name] = row
    thresholds = np.asarray(ModelBundle.load(args.model).thresholds)
    probabilities, truth, missed = [], [], 0
    for image in images:
        row = best.get(image.name)
        if row is None or row["face"] == "-1":
            missed += 1
            probabilities.append(np.zeros(40))
        else:
            probabilities.append(np.array([float(row[f"p_{n}"]) for n in ATTRIBUTE_NAMES]))
        truth.append(labels[image.name] > 0)
    result = evaluate_predictions(np.stack(probabilities), np.stack(truth), thresholds=thresholds)
    figures = {"images": len(images), "no_face": missed, **{k: round(v, 4) for k, v in result.summary().items()}}
    never_positive = [m.name for m in result.attributes if m.predicted_positive_rate == 0]
    figures["attributes_never_predicted_positive"] = never_positive
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
