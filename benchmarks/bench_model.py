"""Attribute-model throughput: aligned faces per second, batched, torch vs onnxruntime, plus bundle size.

    .venv/bin/python -m benchmarks.bench_model [--model assets/attricam-default.pt] [--batch 64] [--repeats 20]

Target (engine issue): >= 500 faces/s with onnxruntime on 2 CPU cores; bundle <= 10 MB.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def faces_per_second(classifier, crops: np.ndarray, repeats: int) -> float:
    classifier.predict(crops)  # warm-up: allocations, kernel selection
    start = time.perf_counter()
    for _ in range(repeats):
        classifier.predict(crops)
    return len(crops) * repeats / (time.perf_counter() - start)


def faces_per_second_with_flip(classifier, crops: np.ndarray, repeats: int) -> float:
    """Flip test-time augmentation's cost: each face is classified as is and mirrored (one batch of 2n)."""
    both = np.concatenate([crops, crops[:, :, ::-1]])
    return faces_per_second(classifier, both, repeats) / 2


def main() -> int:
    from attricam.engine.bundle import ModelBundle, load_default_bundle
    from attricam.engine.onnx_export import export_onnx
    from attricam.engine.runtime import OnnxClassifier, TorchClassifier

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    bundle = ModelBundle.load(args.model) if args.model else load_default_bundle()
    if bundle.onnx_path is None or not bundle.onnx_path.exists():
        bundle.save(Path(tempfile.mkdtemp()) / "bench.pt")
        export_onnx(bundle)
    c = bundle.config
    crops = np.random.default_rng(0).integers(0, 256, (args.batch, c.image_height, c.image_width, 3), dtype=np.uint8)
    import torch

    figures = {
        "model": bundle.name,
        "trained": bundle.trained,
        "batch": args.batch,
        "threads": torch.get_num_threads(),
        "onnx_faces_per_s": round(faces_per_second(OnnxClassifier(bundle, "cpu"), crops, args.repeats), 1),
        "onnx_faces_per_s_flip_tta": round(
            faces_per_second_with_flip(OnnxClassifier(bundle, "cpu"), crops, args.repeats), 1
        ),
        "torch_faces_per_s": round(faces_per_second(TorchClassifier(bundle, "cpu"), crops, args.repeats), 1),
        "bundle_mb": round(bundle.path.stat().st_size / 1e6, 2),
        "onnx_mb": round(bundle.onnx_path.stat().st_size / 1e6, 2),
        "parameters": sum(int(np.prod(v.shape)) for v in bundle.state_dict.values()),
    }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
