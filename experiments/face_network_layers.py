"""Which layer of dlib's face network should the attribute probes read? Linear probes per layer, scored on val.

dlib's 128-D descriptor is trained to tell identities apart, so it discards what does not identify a person:
expression, hair colour, hats, where on the face something is. Earlier layers keep more. For every face of the
descriptor tables in ``--tables`` (their boxes are reused, so nothing is detected again), this computes:

* ``descriptor``: the 128-D descriptor (what ``dlib-resnet-v1`` probes read);
* ``pooled``: the 256 channels of the last block, mean over space (the descriptor is a projection of these);
* ``block12``: the 256 channels of the block before, mean over its 4 x 4 map;
* ``grid``: the last block's 2 x 2 x 256 map itself (what ``dlib-resnet-v1-grid`` probes read);

fits one logistic probe per attribute on all train faces at each ridge, and prints val mean AUC. Val chose
nothing here except the layer, which is why the shipped blend is then scored on the calibration slice too.

    python -m experiments.face_network_layers --tables runs/teacher
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from attricam.engine import face_descriptor as fd
from attricam.engine.face_network_onnx import ensure_exported
from attricam.training.celeba import load_celeba
from attricam.training.config import shared_data_dir
from attricam.training.descriptors import load_descriptor_table, read_rgb, table_path
from attricam.training.second_opinion_fit import fit_logistic, mean_auc

LAYERS = {"descriptor": "descriptors", "pooled": "pooled", "block12": "block12.relu2", "grid": "grid"}


def _session() -> Any:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    dat_file = fd.network_file()
    if dat_file is None:
        raise SystemExit(fd.descriptor_unavailable_reason())
    model = onnx.load(str(ensure_exported(dat_file)))
    for name in ("pooled", "block12.relu2"):
        model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _features(root: Path, table: Path, session: Any, describer: fd.FaceDescriptor) -> tuple[list[str], dict]:
    source = load_descriptor_table(table)
    rows = np.nonzero(source.found)[0]
    out: dict[str, list[np.ndarray]] = {k: [] for k in LAYERS}
    for start in range(0, len(rows), 64):
        chips = []
        for i in rows[start : start + 64]:
            read = read_rgb(str(root), source.filenames[i])
            assert read is not None, source.filenames[i]
            image, factor = read
            chips.append(describer.chip(image, source.boxes[i] * factor))
        values = dict(zip(LAYERS, session.run(list(LAYERS.values()), {"chips": np.stack(chips)})))
        values["block12"] = values["block12"].mean((2, 3))
        for k in LAYERS:
            out[k].append(values[k].reshape(len(chips), -1))
    return [source.filenames[i] for i in rows], {k: np.concatenate(v) for k, v in out.items()}


def _split(
    roots: list[Path], tables: Path, partition: str, session: Any, describer: fd.FaceDescriptor
) -> tuple[dict, np.ndarray]:
    parts, labels = [], []
    for root in roots:
        table = table_path(tables, root, partition)
        if not table.is_file():
            continue
        split = load_celeba(root, (partition,))[partition]
        where = {f: i for i, f in enumerate(split.filenames)}
        names, features = _features(root, table, session, describer)
        keep = [i for i, n in enumerate(names) if n in where]
        parts.append({k: v[keep] for k, v in features.items()})
        labels.append(split.labels[[where[names[i]] for i in keep]])
    return {k: np.concatenate([p[k] for p in parts]) for k in LAYERS}, np.concatenate(labels).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=Path, required=True, help="folder of attricam.training.descriptors tables")
    parser.add_argument("--data", type=Path, action="append", default=None, help="CelebA roots (repeatable)")
    parser.add_argument("--ridge", type=float, action="append", default=None)
    args = parser.parse_args()
    roots = args.data or [shared_data_dir("celeba"), shared_data_dir("celeba-lowres")]
    torch.set_num_threads(2)
    cv2.setNumThreads(1)
    describer = fd.load_face_descriptor()
    if describer is None:
        raise SystemExit(fd.descriptor_unavailable_reason())
    session = _session()
    train, y_train = _split(roots, args.tables, "train", session, describer)
    val, y_val = _split(roots[:1], args.tables, "val", session, describer)
    print(f"probes fitted on {len(y_train)} train faces, scored on {len(y_val)} val faces")
    print(f"{'layer':<12}{'width':>7}{'ridge':>8}{'val mean AUC':>14}")
    for name in LAYERS:
        x, xv = train[name], val[name]
        mean, std = x.mean(0), x.std(0) + 1e-6
        x, xv = (x - mean) / std, (xv - mean) / std
        for ridge in args.ridge or (1e-3, 1e-2, 1e-1):
            w, b = fit_logistic(x, y_train, ridge)
            print(f"{name:<12}{x.shape[1]:>7}{ridge:>8g}{mean_auc(xv @ w.T + b, y_val):>14.4f}", flush=True)


if __name__ == "__main__":
    main()
