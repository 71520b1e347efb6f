"""Would a gender and age network trained on faces in the wild fix what CelebA cannot teach? Measured, not shipped.

The real photos' Male errors (an elderly woman of 26 px, a woman of 29 px and a young woman of 30 px called men,
an elderly man of 34 px missed) are faces unlike CelebA's young, posed celebrities, and CelebA val shrunk to those
sizes shows no such bias (``experiments/reliability_by_size.py``). face-api.js's age and gender network
(Vincent Mühler, MIT; a TinyXception on 112 x 112 crops, trained on UTK, FG-NET, ChaLearn, IMDB-WIKI, CACD and
MegaAge per its README) has seen such faces. Its weights ship in the npm package ``@vladmandic/face-api``
(MIT), which is not part of this project; fetch them once, beside the checkout::

    npm pack @vladmandic/face-api@1.7.15 && tar xzf vladmandic-face-api-1.7.15.tgz   # -> package/model/
    .venv/bin/python -m experiments.age_gender_teacher --weights package/model --descriptors runs/teacher \\
        --data ../shared/celeba --data ../shared/celeba-lowres --out runs/fused-age-gender/model.pt

Steps, all through the product's own code:

1. the network alone on val, on dlib's chip of each face (the second opinion's chip, resized to 112 px): Male AUC
   of its gender output, Young AUC of its (negated) age;
2. descriptor tables ``grid+age-gender``: the grid descriptor of ``runs/teacher`` with the network's 512 pooled
   features, its gender logit and its age appended (same faces and boxes);
3. :mod:`attricam.training.second_opinion_fit` with that descriptor registered in this process only: probes,
   blends, the fused rule, and the honest figures (calibration slice cross-fitted, val);
4. the real photos through :class:`~attricam.engine.pipeline.FacePipeline`: per face, Male from the shipped
   bundle, from the network alone and from the candidate bundle, and the rare-attribute counts of both bundles.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from attricam.engine import face_descriptor
from attricam.engine.attributes import ATTRIBUTE_NAMES, RARE_ATTRIBUTES
from attricam.engine.bundle import ModelBundle
from attricam.engine.image_io import load_image
from attricam.engine.pipeline import FacePipeline, PipelineSettings
from attricam.training.celeba import load_celeba
from attricam.training.config import shared_data_dir
from attricam.training.descriptors import load_descriptor_table, read_rgb, table_path
from attricam.training.metrics import roc_auc

REPO = Path(__file__).resolve().parent.parent
CANDIDATE = "grid+age-gender"
_BASE = "dlib-resnet-v1-grid"
_FEATURES = 512 + 2  # pooled features, gender logit (male minus female), age in years
_INPUT = 112
_MEAN_RGB = torch.tensor([122.782, 117.001, 104.298]).view(1, 3, 1, 1)


# --- the network (face-api's TinyXception with two main blocks, and its age and gender heads) -----------------
def read_tfjs_weights(folder: Path) -> dict[str, torch.Tensor]:
    """``age_gender_model-weights_manifest.json`` and its shard: uint8-quantised tensors (value = q * scale + min)."""
    manifest = json.loads((folder / "age_gender_model-weights_manifest.json").read_text())[0]
    data = (folder / manifest["paths"][0]).read_bytes()
    weights, offset = {}, 0
    for entry in manifest["weights"]:
        count = int(np.prod(entry["shape"]))
        quantised = entry.get("quantization")
        if quantised:
            values = np.frombuffer(data, np.uint8, count, offset) * quantised["scale"] + quantised["min"]
            offset += count
        else:
            values = np.frombuffer(data, "<f4", count, offset)
            offset += 4 * count
        weights[entry["name"]] = torch.from_numpy(values.astype(np.float32).reshape(entry["shape"]))
    if offset != len(data):
        raise ValueError(f"{folder}: the manifest describes {offset} bytes, the shard holds {len(data)}")
    return weights


def _same(x: torch.Tensor, kernel: int, stride: int, value: float = 0.0) -> torch.Tensor:
    """TensorFlow's 'same' padding: the odd pixel goes below and right."""
    h, w = x.shape[-2:]
    ph = max((-(-h // stride) - 1) * stride + kernel - h, 0)
    pw = max((-(-w // stride) - 1) * stride + kernel - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=value)


class AgeGenderNet:
    """112 x 112 RGB crops -> 512 pooled features, the gender logit (male minus female) and the age in years."""

    def __init__(self, folder: Path) -> None:
        self.w = read_tfjs_weights(folder)

    def _conv(self, x: torch.Tensor, name: str, stride: int) -> torch.Tensor:
        kernel = self.w[f"{name}/filters"].permute(3, 2, 0, 1)
        return F.conv2d(_same(x, kernel.shape[-1], stride), kernel, self.w[f"{name}/bias"], stride)

    def _separable(self, x: torch.Tensor, name: str) -> torch.Tensor:
        depthwise = self.w[f"{name}/depthwise_filter"].permute(2, 3, 0, 1)
        x = F.conv2d(_same(x, 3, 1), depthwise, None, 1, groups=depthwise.shape[0])
        return F.conv2d(x, self.w[f"{name}/pointwise_filter"].permute(3, 2, 0, 1), self.w[f"{name}/bias"])

    def _reduction(self, x: torch.Tensor, name: str, activate: bool = True) -> torch.Tensor:
        y = self._separable(F.relu(x) if activate else x, f"{name}/separable_conv0")
        y = self._separable(F.relu(y), f"{name}/separable_conv1")
        y = F.max_pool2d(_same(y, 3, 2, float("-inf")), 3, 2)
        return y + self._conv(x, f"{name}/expansion_conv", 2)

    def _main(self, x: torch.Tensor, name: str) -> torch.Tensor:
        y = x
        for k in range(3):
            y = self._separable(F.relu(y), f"{name}/separable_conv{k}")
        return y + x

    @torch.no_grad()
    def __call__(self, crops: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(np.asarray(crops), dtype=torch.float32).permute(0, 3, 1, 2)
        x = F.relu(self._conv((x - _MEAN_RGB) / 255, "entry_flow/conv_in", 2))
        x = self._reduction(x, "entry_flow/reduction_block_0", activate=False)
        x = self._reduction(x, "entry_flow/reduction_block_1")
        x = self._main(self._main(x, "middle_flow/main_block_0"), "middle_flow/main_block_1")
        x = self._reduction(x, "exit_flow/reduction_block")
        pooled = F.avg_pool2d(F.relu(self._separable(x, "exit_flow/separable_conv")), 7, 2).flatten(1)
        gender = pooled @ self.w["fc/gender/weights"] + self.w["fc/gender/bias"]
        age = pooled @ self.w["fc/age/weights"] + self.w["fc/age/bias"]
        return torch.cat([pooled, gender[:, :1] - gender[:, 1:], age], 1).numpy()


def _resize(chips: np.ndarray) -> np.ndarray:
    return np.stack([cv2.resize(c, (_INPUT, _INPUT), interpolation=cv2.INTER_AREA) for c in chips])


def register(network: AgeGenderNet) -> None:
    """Make ``grid+age-gender`` a descriptor in this process: the grid network and this one on the same chip."""
    face_descriptor.DESCRIPTOR_SIZES[CANDIDATE] = face_descriptor.DESCRIPTOR_SIZES[_BASE] + _FEATURES
    make_network = face_descriptor._network

    def candidate_network(path: Path, name: str) -> Callable[[np.ndarray], np.ndarray] | None:
        if name != CANDIDATE:
            return make_network(path, name)
        grid = make_network(path, _BASE)
        if grid is None:
            return None
        return lambda chips: np.concatenate([grid(chips), network(_resize(chips))], 1)

    face_descriptor._network = candidate_network  # type: ignore[assignment]


# --- the steps ----------------------------------------------------------------------------------------------
def network_alone_on_val(network: AgeGenderNet, root: Path, descriptors: Path) -> None:
    describer = face_descriptor.load_face_descriptor(_BASE)
    assert describer is not None
    table = load_descriptor_table(table_path(descriptors, root, "val", _BASE))
    split = load_celeba(root, ("val",))["val"]
    rows = table.rows(split.filenames)
    keep = np.nonzero((rows >= 0) & table.found[np.maximum(rows, 0)])[0]
    outputs = []
    for i in rows[keep]:
        image, factor = read_rgb(str(root), table.filenames[i]) or (None, 1)
        assert image is not None
        outputs.append(network(_resize(describer.chip(image, table.boxes[i] * factor)[None]))[0, -2:])
    gender, age = np.array(outputs).T
    labels = split.labels[keep]
    male, young = ATTRIBUTE_NAMES.index("Male"), ATTRIBUTE_NAMES.index("Young")
    print(
        f"network alone on {len(keep)} val faces: Male AUC {roc_auc(gender, labels[:, male]):.4f} "
        f"(accuracy {np.mean((gender > 0) == labels[:, male]):.3f}), Young AUC {roc_auc(-age, labels[:, young]):.4f}"
    )


def write_tables(network: AgeGenderNet, roots: list[Path], descriptors: Path) -> None:
    describer = face_descriptor.load_face_descriptor(_BASE)
    assert describer is not None
    for root in roots:
        for partition in ("train", "val"):
            source, out = (
                table_path(descriptors, root, partition, _BASE),
                table_path(descriptors, root, partition, CANDIDATE),
            )
            if out.is_file() or not source.is_file():
                continue
            table = load_descriptor_table(source)
            extra = np.zeros((len(table.filenames), _FEATURES), np.float32)
            found = np.nonzero(table.found)[0]
            for start in range(0, len(found), 64):
                rows = found[start : start + 64]
                chips = []
                for i in rows:
                    image, factor = read_rgb(str(root), table.filenames[i]) or (None, 1)
                    assert image is not None, table.filenames[i]
                    chips.append(describer.chip(image, table.boxes[i] * factor))
                extra[rows] = network(_resize(np.stack(chips)))
            descriptors_out = np.concatenate([table.descriptors, extra], 1)
            columns = {"boxes": table.boxes, "landmarks": table.landmarks, "found": table.found}
            np.savez(out, filenames=np.array(table.filenames), descriptors=descriptors_out, **columns)
            print(f"wrote {out} ({len(found)} faces)", flush=True)


def real_photos(photos: Path, shipped: Path, candidate: Path, network: AgeGenderNet) -> None:
    male = ATTRIBUTE_NAMES.index("Male")
    settings = PipelineSettings(device="cpu")
    pipelines = {
        name: FacePipeline(ModelBundle.load(path), settings)
        for name, path in (("shipped", shipped), ("candidate", candidate))
    }
    describer = face_descriptor.load_face_descriptor(_BASE)
    assert describer is not None
    counts: dict[str, Counter[str]] = {name: Counter() for name in pipelines}
    print("photo            face   width  Male: shipped  network alone  candidate")
    for path in sorted(photos.glob("*.jpg")):
        image = load_image(path)
        results = {name: pipeline.analyze_image(image).faces for name, pipeline in pipelines.items()}
        for k, (old, new) in enumerate(zip(results["shipped"], results["candidate"])):
            alone = 1 / (1 + np.exp(-network(_resize(describer.chip(image, old.box)[None]))[0, -2]))
            width = float(old.box[2] - old.box[0])
            shipped_call = f"{old.probabilities[male]:.2f} {'M' if old.decisions[male] else '-'}"
            candidate_call = f"{new.probabilities[male]:.2f} {'M' if new.decisions[male] else '-'}"
            print(f"{path.stem[:16]:<16} {k:>4} {width:6.0f}  {shipped_call:>13}  {alone:13.2f}  {candidate_call:>9}")
            for name, face in (("shipped", old), ("candidate", new)):
                if width >= 40:
                    counts[name].update(
                        a.name for a in RARE_ATTRIBUTES if face.shown_positive[ATTRIBUTE_NAMES.index(a.name)]
                    )
    for name, count in counts.items():
        print(f"{name}: rare attributes shown on the faces of at least 40 px: {dict(sorted(count.items()))}")


def main() -> int:
    from attricam.training import second_opinion_fit

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, required=True, help="the npm package's model/ folder")
    parser.add_argument("--descriptors", type=Path, default=REPO / "runs" / "teacher")
    parser.add_argument("--data", type=Path, action="append", default=None)
    parser.add_argument(
        "--shipped",
        type=Path,
        default=REPO / "assets" / "attricam-default.pt",
        help="the bundle to compare with; its network gets the candidate second opinion in place of its own",
    )
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "fused-age-gender" / "model.pt")
    parser.add_argument("--photos", type=Path, default=shared_data_dir("real-photos"))
    args = parser.parse_args()
    roots = args.data or [shared_data_dir("celeba"), shared_data_dir("celeba-lowres")]
    torch.set_num_threads(2)
    network = AgeGenderNet(args.weights)
    register(network)
    network_alone_on_val(network, roots[0], args.descriptors)
    write_tables(network, roots, args.descriptors)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fit_args = ["--model", str(args.shipped), "--descriptors", str(args.descriptors), "--descriptor", CANDIDATE]
    fit_args += [a for root in roots for a in ("--data", str(root))]
    fit_args += ["--ridge", "0.01", "--ridge", "0.03", "--ridge", "0.1", "--out", str(args.out), "--splits", "10"]
    fit_args += ["--floor", "Chubby=0.5", "--floor", "Double_Chin=0.5"]
    second_opinion_fit.main(fit_args)
    real_photos(args.photos, args.shipped, args.out, network)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
