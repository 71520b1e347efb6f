"""How far can attributes be read off small faces? Per-attribute AUC on val faces shrunk to a given width.

Real group photos hold many faces 25-60 px wide, while CelebA's are ~100 px and more. Each val image is shrunk
(area resampling) so its face is ``--widths`` pixels wide, and the product path (`FacePipeline.analyze_image`:
detect, align, classify, fuse with the face network's probes) scores it; per width it prints how many faces
were found and the mean AUC, and lists the attributes under the reliability bar (AUC 0.80), then the decisions'
false-positive / true-positive rates of the attributes the real photos get wrong. Val chose nothing
in the shipped bundle's weights or blend, only (with the calibration slice) its decision rule, which AUC ignores.

    python -m experiments.reliability_by_size [--widths 24 32 48 64] [--model assets/attricam-default.pt]
        [--json out/reliability_by_size.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from attricam.engine.attributes import ATTRIBUTE_NAMES
from attricam.engine.bundle import ModelBundle
from attricam.engine.image_io import load_image
from attricam.engine.pipeline import FacePipeline, PipelineSettings
from attricam.engine.reliability import RELIABLE_AUC
from attricam.training.celeba import IMAGE_DIR, load_celeba
from attricam.training.config import shared_data_dir
from attricam.training.metrics import roc_auc

_NATIVE_WIDTH = 0
_WATCHED = ("Male", "Young", "Chubby", "Double_Chin", "Bald", "Wearing_Necktie", "Wearing_Hat", "Eyeglasses")


def _scores(
    pipeline: FacePipeline, root: Path, filenames: list[str], width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, 40) probabilities, (n, 40) decisions and (n,) found flags; width 0 keeps the image as it is."""
    probabilities = np.full((len(filenames), len(ATTRIBUTE_NAMES)), np.nan, np.float32)
    decisions = np.zeros((len(filenames), len(ATTRIBUTE_NAMES)), bool)
    found = np.zeros(len(filenames), bool)
    for i, name in enumerate(filenames):
        image = load_image(root / IMAGE_DIR / name)
        faces = pipeline.analyze_image(image).faces
        if width and faces:  # shrink so the detected face is ``width`` px wide, then detect again
            x1, _, x2, _ = faces[0].box
            scale = min(1.0, width / max(float(x2 - x1), 1.0))
            size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
            faces = pipeline.analyze_image(cv2.resize(image, size, interpolation=cv2.INTER_AREA)).faces
        if faces:
            probabilities[i], decisions[i], found[i] = faces[0].probabilities, faces[0].decisions, True
    return probabilities, decisions, found


def _decision_rates(decisions: np.ndarray, labels: np.ndarray) -> dict[str, tuple[float, float]]:
    """Per watched attribute, (false-positive rate, true-positive rate) of the bundle's decisions.

    AUC ignores a shift of every score; a shrunk face that tips decisions one way (Male on women, Chubby on
    slim faces) shows here instead.
    """
    rates = {}
    for name in _WATCHED:
        j = ATTRIBUTE_NAMES.index(name)
        positive = labels[:, j] > 0
        rates[name] = (float(decisions[~positive, j].mean()), float(decisions[positive, j].mean()))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=shared_data_dir("celeba"))
    parser.add_argument(
        "--model", type=Path, default=Path(__file__).resolve().parent.parent / "assets/attricam-default.pt"
    )
    parser.add_argument("--widths", type=int, nargs="+", default=[24, 32, 48, 64])
    parser.add_argument("--limit", type=int, default=0, help="only the first N val faces (0: all)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    split = load_celeba(args.data, ("val",))["val"]
    filenames = list(split.filenames[: args.limit or None])
    labels = split.labels[: len(filenames)]
    pipeline = FacePipeline(ModelBundle.load(args.model), PipelineSettings(device="cpu"))
    report = {"model": str(args.model), "faces": len(filenames), "widths": {}}
    print(f"{'face width':>10}{'found':>8}{'mean AUC':>10}  attributes under AUC {RELIABLE_AUC:.2f}")
    for width in [_NATIVE_WIDTH, *args.widths]:
        probabilities, decisions, found = _scores(pipeline, args.data, filenames, width)
        auc = [roc_auc(probabilities[found, j], labels[found, j]) for j in range(len(ATTRIBUTE_NAMES))]
        under = [n for n, a in zip(ATTRIBUTE_NAMES, auc) if a == a and a < RELIABLE_AUC]
        label = "native" if width == _NATIVE_WIDTH else f"{width} px"
        print(f"{label:>10}{int(found.sum()):>8}{np.nanmean(auc):>10.4f}  {len(under)}: {', '.join(under)}", flush=True)
        rates = _decision_rates(decisions[found], labels[found])
        print(" " * 10 + "  ".join(f"{n} {fpr:.3f}/{tpr:.3f}" for n, (fpr, tpr) in rates.items()), flush=True)
        report["widths"][label] = {
            "found": int(found.sum()),
            "auc": dict(zip(ATTRIBUTE_NAMES, map(float, auc))),
            "false_positive_rate": {n: fpr for n, (fpr, _) in rates.items()},
            "true_positive_rate": {n: tpr for n, (_, tpr) in rates.items()},
        }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
