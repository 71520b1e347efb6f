"""Does horizontal-flip test-time augmentation pay? Honest val figures with and without it.

The bundle's network scores the calibration slice of train and val, each face as is and
mirrored; the decision rule is refitted and val cross-fitted exactly as at the end of
training (:func:`attricam.training.crossfit.cross_fit`), once on the plain probabilities and once on
the mean of plain and mirrored. The cost side is printed too: flip TTA doubles the
network's work per face (ONNX faces/s halves).

    .venv/bin/python -m experiments.flip_tta --model runs/v3/model.pt
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from attricam.engine.bundle import ModelBundle
from attricam.training.augment import shifted_val_inputs
from attricam.training.celeba import read_identities
from attricam.training.config import TrainConfig, shared_data_dir
from attricam.training.crossfit import HeldOutPredictions, cross_fit
from attricam.training.data import CropSpec, load_face_arrays
from attricam.training.evaluation import center_crop
from attricam.training.splits import calibration_mask
from attricam.training.trainer import split_calibration


def _probabilities(model: torch.nn.Module, inputs: torch.Tensor, flip: bool) -> np.ndarray:
    out = []
    with torch.inference_mode():
        for start in range(0, len(inputs), 256):
            x = inputs[start : start + 256]
            p = torch.sigmoid(model(x)[0].float())
            if flip:
                p = (p + torch.sigmoid(model(x.flip(-1))[0].float())) / 2
            out.append(p)
    return torch.cat(out).numpy()


def held_out_predictions(model, faces, cfg: TrainConfig, flip: bool) -> HeldOutPredictions:
    clean = center_crop(faces.images, cfg.image_height, cfg.image_width)
    shifted = shifted_val_inputs(faces.images, cfg.image_height, cfg.image_width)
    return HeldOutPredictions(
        faces.labels.numpy(), _probabilities(model, clean, flip), _probabilities(model, shifted, flip)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--cache", default="cache")
    args = parser.parse_args()
    torch.set_num_threads(2)
    bundle = ModelBundle.load(args.model)
    cfg = TrainConfig.from_dict(bundle.metadata["train_config"])
    model = bundle.build_model().eval()
    spec = CropSpec(width=cfg.image_width, height=cfg.image_height, margin=cfg.margin)
    roots = [r if Path(r).is_dir() else str(shared_data_dir(Path(r).name)) for r in cfg.data]
    train, _ = load_face_arrays(roots, "train", cache_dir=args.cache, spec=spec)
    val, _ = load_face_arrays(roots, "val", cache_dir=args.cache, spec=spec)
    _, holdout = split_calibration(train, cfg, identities=read_identities(roots[0]))
    fold = calibration_mask(val.filenames, read_identities(roots[0]), 0.5, salt="attricam-val-fold")
    policy = bundle.metadata.get("threshold_policy", "hybrid_acc_balacc")
    print(f"{args.model}: calibration slice {len(holdout.labels)} faces, val {len(val.labels)} faces, policy {policy}")
    print(
        f"{'':10} {'AUC':>7} {'acc':>7} {'bal acc':>8} {'rare F1':>8} | shifted {'AUC':>6} {'acc':>7} {'bal':>7} {'rareF1':>7}"
    )
    for flip in (False, True):
        start = time.perf_counter()
        report = cross_fit(
            held_out_predictions(model, holdout, cfg, flip), held_out_predictions(model, val, cfg, flip), fold, policy
        )
        v, s = report.val_crossfit.summary(), report.shifted_val_crossfit.summary()
        label = "flip TTA" if flip else "plain"
        print(
            f"{label:10} {v['mean_auc']:7.4f} {v['mean_accuracy']:7.4f} {v['mean_balanced_accuracy']:8.4f} "
            f"{v['rare_mean_f1']:8.4f} | shifted {s['mean_auc']:6.4f} {s['mean_accuracy']:7.4f} "
            f"{s['mean_balanced_accuracy']:7.4f} {s['rare_mean_f1']:7.4f}   ({time.perf_counter() - start:.0f} s)"
        )


if __name__ == "__main__":
    main()
