"""Which input change moves an attribute? Val faces altered one factor at a time, next to real photos.

    .venv/bin/python -m experiments.attribute_sensitivity [--model assets/attricam-default.pt]
        [--attribute Chubby --attribute Double_Chin ...] [--faces 150]

Chubby and Double_Chin fire on many ordinary faces in ``../shared/real-photos`` but rarely on val. This
asks whether a camera factor explains the gap. Each line gives, per attribute, the mean calibrated
probability and the share of faces at or above the attribute's shipped threshold:

* *face size*: val images shrunk so the face is 60, 45 or 35 px wide, then detected and aligned by the
  product path (:class:`FacePipeline`), as small faces in a group photo are;
* *camera and light*: colour casts, gamma, contrast and saturation on the aligned crop;
* *face shape*: the aligned crop stretched 10 % wider or narrower;
* *real photos*: every face of at least 40 px in ``../shared/real-photos``, through the same path.

A factor that lifts the val rate towards the real-photo rate is a lead for augmentation; if none does,
the gap is in who is in the photos, which CelebA's labels cannot teach.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from attricam.training.config import default_data_root, shared_data_dir

if TYPE_CHECKING:
    from attricam.engine.results import FaceResult

REPO = Path(__file__).resolve().parent.parent

Transform = Callable[[torch.Tensor], torch.Tensor]


def _channel_gain(gains: tuple[float, float, float]) -> Transform:
    return lambda x: (x * torch.tensor(gains).view(1, 3, 1, 1)).clamp(0, 1)


def _stretch(factor: float) -> Transform:
    def apply(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        resized = F.interpolate(x, size=(h, round(w * factor)), mode="bilinear", align_corners=False)
        excess = resized.shape[-1] - w
        if excess >= 0:
            return resized[..., excess // 2 : excess // 2 + w]
        return F.pad(resized, (-excess // 2, -excess - (-excess // 2), 0, 0), mode="replicate")

    return apply


CROP_TRANSFORMS: dict[str, Transform] = {
    "warm cast": _channel_gain((1.15, 1.0, 0.8)),
    "cool cast": _channel_gain((0.85, 1.0, 1.15)),
    "dark (gamma 1.8)": lambda x: x.clamp(1e-4, 1) ** 1.8,
    "bright (gamma 0.6)": lambda x: x.clamp(1e-4, 1) ** 0.6,
    "contrast x1.5": lambda x: ((x - 0.5) * 1.5 + 0.5).clamp(0, 1),
    "contrast x0.6": lambda x: ((x - 0.5) * 0.6 + 0.5).clamp(0, 1),
    "saturation x1.5": lambda x: (x.mean(1, keepdim=True) + (x - x.mean(1, keepdim=True)) * 1.5).clamp(0, 1),
    "10 % wider": _stretch(1.1),
    "10 % narrower": _stretch(0.9),
}


def main() -> int:
    from attricam.engine.attributes import ATTRIBUTE_NAMES
    from attricam.engine.bundle import ModelBundle
    from attricam.engine.image_io import load_image
    from attricam.engine.pipeline import FacePipeline, PipelineSettings
    from attricam.training.celeba import IMAGE_DIR
    from attricam.training.config import TrainConfig
    from attricam.training.data import CropSpec, load_face_arrays
    from attricam.training.evaluation import center_crop

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "assets" / "attricam-default.pt")
    parser.add_argument("--data", type=Path, default=default_data_root())
    parser.add_argument("--photos", type=Path, default=shared_data_dir("real-photos"))
    parser.add_argument("--attribute", action="append", default=None)
    parser.add_argument("--faces", type=int, default=150, help="val images for the face-size lines")
    parser.add_argument("--cache", default=str(REPO / "cache"))
    args = parser.parse_args()
    names = args.attribute or ["Chubby", "Double_Chin"]
    columns = [ATTRIBUTE_NAMES.index(n) for n in names]
    torch.set_num_threads(2)

    bundle = ModelBundle.load(args.model)
    rule = bundle.decision_rule
    thresholds = rule.thresholds[columns]

    def line(label: str, probabilities: np.ndarray) -> None:
        cells = [
            f"{n} {probabilities[:, i].mean():.3f} / {(probabilities[:, i] >= thresholds[i]).mean():5.1%}"
            for i, n in enumerate(names)
        ]
        print(f"{label:28} n={len(probabilities):4d}  " + "   ".join(cells))

    print(f"{args.model}: mean calibrated p / share at or above the shipped threshold " + str(thresholds.round(2)))
    cfg = TrainConfig.from_dict(bundle.metadata["train_config"])
    model = bundle.build_model().eval()
    spec = CropSpec(width=cfg.image_width, height=cfg.image_height, margin=cfg.margin)
    val, _ = load_face_arrays([args.data], "val", cache_dir=args.cache, spec=spec)
    crops = center_crop(val.images, cfg.image_height, cfg.image_width)

    def classify(x: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            raw = torch.sigmoid(model(x)[0].float()).numpy()
        return rule.calibrate(raw)[:, columns]

    line("val, as aligned", classify(crops))
    line("val, true rate (labels)", val.labels.numpy()[:, columns].astype(float))
    for label, transform in CROP_TRANSFORMS.items():
        line(f"val, {label}", classify(transform(crops)))

    pipeline = FacePipeline(bundle, PipelineSettings(threads=2))

    def largest_face(image: np.ndarray) -> FaceResult | None:
        return max(pipeline.analyze_image(image).faces, key=_width, default=None)

    native = []  # (image, its largest face): each val image is detected at full size once
    for filename in val.filenames[: args.faces]:
        image = cv2.cvtColor(cv2.imread(str(args.data / IMAGE_DIR / filename)), cv2.COLOR_BGR2RGB)
        image = cv2.copyMakeBorder(image, 60, 60, 60, 60, cv2.BORDER_REPLICATE)  # room around a small face
        if (face := largest_face(image)) is not None:
            native.append((image, face))
    line("val via detector, native", np.array([face.raw_probabilities[columns] for _, face in native]))
    for width in (60, 45, 35):
        rows = []
        for image, face in native:
            scale = width / _width(face)
            small = largest_face(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
            if small is not None:
                rows.append(small.raw_probabilities[columns])
        line(f"val via detector, {width} px", np.array(rows))

    real, groups = [], []
    male, young = ATTRIBUTE_NAMES.index("Male"), ATTRIBUTE_NAMES.index("Young")
    for photo in sorted(args.photos.glob("*.jpg")):
        for face in pipeline.analyze_image(load_image(photo)).faces:
            if _width(face) >= 40:
                real.append(np.asarray(face.raw_probabilities[columns]))
                groups.append(_group(bool(face.decisions[male]), bool(face.decisions[young])))
    line("real photos, faces >= 40 px", np.array(real))

    # CelebA's own labels, train partition: how often its annotators give these attributes per group.
    labels = _train_labels(args.data)
    celeba_groups = np.array([_group(bool(m), bool(y)) for m, y in zip(labels[:, male], labels[:, young])])
    for group in GROUPS:
        in_group = np.array([g == group for g in groups])
        if in_group.any():
            line(f"  real, model says {group}", np.array(real)[in_group])
        line(f"  CelebA train labels, {group}", labels[celeba_groups == group][:, columns].astype(float))
    return 0


GROUPS = ("man, not young", "man, young", "woman, not young", "woman, young")


def _group(male: bool, young: bool) -> str:
    return f"{'man' if male else 'woman'}, {'young' if young else 'not young'}"


def _width(face: FaceResult) -> float:
    return float(face.box[2] - face.box[0])


def _train_labels(root: Path) -> np.ndarray:
    """CelebA's attribute labels (0/1) of the official train partition, all 162,770 rows (images or not)."""
    from attricam.training.celeba import ATTR_FILE, PARTITION_FILE, PARTITIONS, read_attributes, read_partitions

    attributes, _ = read_attributes(root / ATTR_FILE)
    partition_of = read_partitions(root / PARTITION_FILE)
    train = [name for name, part in partition_of.items() if part == PARTITIONS["train"] and name in attributes]
    return np.stack([attributes[name] > 0 for name in train])


if __name__ == "__main__":
    raise SystemExit(main())
