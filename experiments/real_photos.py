"""What the shipped model says about real, non-CelebA photos: rare attributes per face, for a person to check.

    .venv/bin/python -m experiments.real_photos [--photos ../shared/real-photos] [--model assets/attricam-default.pt]
        [--annotate out/real-photos] [--floor Chubby=0.5 ...]

Runs ``attricam analyze`` (the product path: detect, align, classify, the bundle's decision rule) over
every photo and prints, per photo, how many faces were found and which rare attributes (train rate < 10 %)
fired on which face, with the calibrated probability. With ``--annotate`` the annotated PNGs are written
for looking at. There are no labels: the figures to read are how often each rare attribute fires, and
whether a person looking at the annotated photo agrees (Bald belongs to the men in ``bald_guys.jpg``).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from attricam.training.config import shared_data_dir

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    from attricam.engine.attributes import ATTRIBUTES, RARE_ATTRIBUTES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=shared_data_dir("real-photos"))
    parser.add_argument("--model", type=Path, default=REPO / "assets" / "attricam-default.pt")
    parser.add_argument("--annotate", type=Path, default=None)
    parser.add_argument("--min-face", type=float, default=40.0, help="faces narrower than this (px) are listed apart")
    parser.add_argument("--all", action="store_true", help="list every positive per face, not only the rare ones")
    parser.add_argument("--no-second-opinion", action="store_true", help="the attribute model alone")
    parser.add_argument(
        "--floor", action="append", default=[], metavar="NAME=P", help="count NAME only where its probability >= P too"
    )
    args = parser.parse_args()
    floors = {name: float(value) for name, _, value in (spec.partition("=") for spec in args.floor)}

    photos = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "faces.csv"
        command = [sys.executable, "-m", "attricam", "analyze", *map(str, photos), "--csv", str(csv_path)]
        command += ["--model", str(args.model)]
        if args.no_second_opinion:
            command.append("--no-second-opinion")
        if args.annotate:
            command += ["--annotate", str(args.annotate)]
        subprocess.run(command, check=True, cwd=REPO)
        with open(csv_path, newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["face"] != "-1"]

    from attricam.engine.bundle import ModelBundle
    from attricam.engine.reliability import ModelReliability

    bundle = ModelBundle.load(args.model)
    fused = bundle.second_opinion is not None and not args.no_second_opinion
    figures = ModelReliability.from_metadata(bundle.metadata, fused=fused)
    reliable = figures.reliable if figures is not None else [True] * len(ATTRIBUTES)
    fired: Counter[str] = Counter()
    faces = 0
    per_photo = {}
    for row in rows:
        name = Path(row["path"]).name
        width = float(row["w"])
        small = width < args.min_face
        faces += not small
        positives = [
            f"{a.name} {float(row['p_' + a.name]):.2f}"
            for a in RARE_ATTRIBUTES
            if row["y_" + a.name] == "1" and float(row["p_" + a.name]) >= floors.get(a.name, 0.0)
        ]
        if not small:
            fired.update(p.split()[0] for p in positives)
        entry = {"face": int(row["face"]), "width": round(width), "small": small, "rare_positives": positives}
        if args.all:  # "?" marks an attribute the app dims and does not highlight (under the reliability bar)
            entry["positives"] = [
                f"{a.name}{'' if reliable[a.index] else '?'} {float(row['p_' + a.name]):.2f}"
                for a in ATTRIBUTES
                if row["y_" + a.name] == "1"
            ]
        per_photo.setdefault(name, []).append(entry)
    for name, entries in per_photo.items():
        print(f"{name}: {len(entries)} faces")
        for e in entries:
            tag = " (small)" if e["small"] else ""
            print(f"  face {e['face']} w={e['width']}px{tag}: {', '.join(e['rare_positives']) or '-'}")
            if "positives" in e:
                print(f"      all: {', '.join(e['positives']) or '-'}")
    summary = {
        "photos": len(photos),
        "faces_at_least_min_face": faces,
        "rare_positive_counts": {a.name: fired.get(a.name, 0) for a in RARE_ATTRIBUTES},
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
