"""What the face network's second opinion costs: ``analyze`` throughput and the live frame path, with and without.

    .venv/bin/python -m benchmarks.bench_second_opinion [--images 150] [--frames 400] [--json out/bench_second_opinion.json]

Each comparison runs the product's own commands back to back on the same machine, so they share its load:

* ``attricam analyze`` over the first ``--images`` val images of CelebA (one face each), with and without
  ``--no-second-opinion``: images per second (target: fused at least half the model alone);
* ``attricam bench`` over the real-looking clip (``tests/fixtures/real_clip.py``), both ways: frame p50 / p95 (target:
  unchanged, descriptors never run on the frame path), and the descriptor's cost amortised per face and frame:
  descriptors computed x their measured cost / face-frames shown (target <= 5 ms with the model's own classify);
* the descriptor's own cost per face (chip + ResNet), timed in this process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.report import attricam_bench, emit_figures

REPO = Path(__file__).resolve().parent.parent


def _analyze_rate(images: list[Path], *extra: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for path in images:
            shutil.copy(path, folder / path.name)
        command = [sys.executable, "-m", "attricam", "analyze", str(folder), "--csv", str(Path(tmp) / "o.csv"), *extra]
        warm = [
            sys.executable,
            "-m",
            "attricam",
            "analyze",
            str(folder / images[0].name),
            "--csv",
            str(Path(tmp) / "w.csv"),
            *extra,
        ]
        subprocess.run(warm, check=True, cwd=REPO, capture_output=True)  # page cache, imports
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=REPO, capture_output=True)
        return len(images) / (time.perf_counter() - start)


def _descriptor_ms(images: list[Path], repeats: int = 20) -> float:
    from attricam.engine.detection import FaceDetector
    from attricam.engine.face_descriptor import load_face_descriptor
    from attricam.engine.image_io import load_image

    describer = load_face_descriptor()
    if describer is None:
        return float("nan")
    image = load_image(images[0])
    box = FaceDetector().detect(image)[0].box
    describer.describe(image, [box])
    start = time.perf_counter()
    for _ in range(repeats):
        describer.describe(image, [box])
    return (time.perf_counter() - start) / repeats * 1000


def main() -> int:
    from attricam.training.celeba import IMAGE_DIR, load_celeba
    from attricam.training.config import default_data_root

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data_root())
    parser.add_argument("--images", type=int, default=150)
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--clip", type=Path, default=None, help="default: tests/fixtures/real_clip.py's clip")
    parser.add_argument("--json", type=Path, default=REPO / "out" / "bench_second_opinion.json")
    args = parser.parse_args()

    val = load_celeba(args.data, ("val",))["val"]
    images = [args.data / IMAGE_DIR / name for name in val.filenames[: args.images]]
    descriptor_ms = _descriptor_ms(images)
    fused_rate = _analyze_rate(images)
    alone_rate = _analyze_rate(images, "--no-second-opinion")

    from tests.fixtures.real_clip import make_real_clip

    clip = args.clip or make_real_clip(REPO / "out" / "real_clip.avi")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    live_fused = attricam_bench(clip, args.frames, args.json.with_name("bench_fused.json"))
    live_alone = attricam_bench(clip, args.frames, args.json.with_name("bench_alone.json"), "--no-second-opinion")
    face_frames = max(1, live_fused["face_frames"])
    amortised = live_fused["descriptors_computed"] * descriptor_ms / face_frames
    classify_per_face = live_fused["stage_ms_p50"]["classify_ms"] / max(live_fused["faces_per_frame"], 1e-9)
    keys = (
        "frame_ms_p50",
        "frame_ms_p95",
        "frame_ms_max",
        "faces_per_frame",
        "fused_face_share",
        "descriptors_computed",
        "face_frames",
        "stage_ms_p50",
        "rss_mb",
        "load_avg_1m",
    )
    figures = {
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
        "descriptor_ms_per_face": round(descriptor_ms, 1),
        "analyze_images_per_s": {"fused": round(fused_rate, 2), "model_alone": round(alone_rate, 2)},
        "analyze_ratio": round(fused_rate / alone_rate, 3),
        "live": {"fused": {k: live_fused.get(k) for k in keys}, "model_alone": {k: live_alone.get(k) for k in keys}},
        "live_descriptor_ms_per_face_frame_amortised": round(amortised, 2),
        "live_classify_ms_per_face_p50": round(classify_per_face, 2),
        "checks": {
            "analyze fused >= half of model alone": fused_rate >= 0.5 * alone_rate,
            "classify + descriptor per face amortised <= 5 ms": classify_per_face + amortised <= 5.0,
            "frame p95 within 10 % of model alone": live_fused["frame_ms_p95"] <= 1.1 * live_alone["frame_ms_p95"],
        },
    }
    emit_figures(figures, args.json)
    return 0 if np.isfinite(descriptor_ms) else 1


if __name__ == "__main__":
    raise SystemExit(main())
