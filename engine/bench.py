"""``attricam bench``: the live pipeline plus rendering over a clip, as fast as it goes.

Frame time covers detection/refinement, alignment, the model, tracking and
rendering — everything between a decoded frame and pixels to show. Decoding
is timed separately (a camera delivers decoded frames).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .output_paths import OutputPathError
from .runtime import BACKENDS, DEVICES

if TYPE_CHECKING:
    from .bundle import ModelBundle
    from .pipeline import FacePipeline, PipelineSettings

__all__ = ["add_bench_arguments", "run_bench", "process_start_time"]


def process_start_time() -> float:
    """Wall-clock time this process started (so startup includes interpreter and import time)."""
    import psutil

    return float(psutil.Process(os.getpid()).create_time())


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    from .arg_types import bounded_int, positive_int

    parser.add_argument("--source", type=Path, required=True, help="video file (looped if shorter than --frames)")
    parser.add_argument("--frames", type=positive_int, default=300)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--model", type=Path, help="bundle .pt (default: the shipped one)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--full-detect-every", type=positive_int, default=10, help="full MTCNN cadence in frames")
    parser.add_argument("--min-face-size", type=bounded_int(12, 100_000), default=60)
    parser.add_argument("--threads", type=positive_int, default=None, help="CPU threads for torch/onnxruntime")
    parser.add_argument("--no-render", action="store_true", help="skip rendering (pipeline only)")
    parser.add_argument(
        "--no-second-opinion",
        action="store_true",
        help="the attribute model alone (default: the bundle's face-descriptor probes, computed per track off the frame path)",
    )
    parser.add_argument(
        "--sync-detect", action="store_true", help="run the full cascade on the frame path (default: its own thread)"
    )


def _frames(path: Path) -> Iterator[np.ndarray]:
    """The clip's RGB frames over and over, read by :class:`attricam.engine.sources.VideoFrames` (the one video reader)."""
    from .sources import VideoFrames, VideoLoadError

    try:
        while True:
            for _, rgb in VideoFrames(path):
                yield rgb
    except VideoLoadError as exc:
        raise SystemExit(f"error: {exc}") from None


def _check_bench_paths(args: argparse.Namespace) -> Path | None:
    """The clip is a file and ``--json`` a writable file that is neither the clip nor the model; the resolved --json."""
    from .image_io import display_name
    from .output_guard import OutputGuard

    if not Path(args.source).is_file():
        raise OutputPathError(f"--source {display_name(args.source)} is not a video file")
    if args.model and not Path(args.model).is_file():
        raise OutputPathError(f"--model {display_name(args.model)}: model bundle not found")
    if not args.json:
        return None
    from .bundle import default_bundle_path

    guard = OutputGuard()
    guard.protect(args.source, "the clip (--source)")
    model = Path(args.model) if args.model else default_bundle_path()
    guard.protect(model, "the model (--model)" if args.model else "the shipped model")
    guard.protect(model.with_suffix(".onnx"), "the model's ONNX twin")
    return guard.file(args.json, "--json")


@dataclass
class _Samples:
    """Per-frame measurements of one benchmark run (milliseconds, face counts)."""

    frame_ms: list[float] = field(default_factory=list)
    decode_ms: list[float] = field(default_factory=list)
    faces: list[int] = field(default_factory=list)
    fused: list[int] = field(default_factory=list)
    stages: dict[str, list[float]] = field(
        default_factory=lambda: {"detect_ms": [], "align_ms": [], "classify_ms": [], "track_ms": []}
    )
    startup_s: float | None = None


def _measure(pipeline: FacePipeline, source: Path, frames: int, render: bool, started: float) -> _Samples:
    """Decode, analyse and (as the live app does) render ``frames`` frames of ``source``, looping it."""
    from .panel_layout import PanelMemory
    from .render import RenderOptions, render_frame

    options = RenderOptions(attribute=0, show_landmarks=True)
    panels = PanelMemory()  # as the live app renders: panels follow their faces between searches
    samples = _Samples()
    frame_source = _frames(source)
    for _ in range(frames):
        t0 = time.perf_counter()
        frame = next(frame_source)
        t1 = time.perf_counter()
        result = pipeline.process(frame)
        if render:
            render_frame(frame, result, options, panels)
        t2 = time.perf_counter()
        if samples.startup_s is None:
            samples.startup_s = time.time() - started
        samples.decode_ms.append((t1 - t0) * 1000)
        samples.frame_ms.append((t2 - t1) * 1000)
        samples.faces.append(len(result.faces))
        samples.fused.append(sum(f.second_opinion for f in result.faces))
        for key, values in samples.stages.items():
            values.append(getattr(result.timings, key))
    return samples


def run_bench(args: argparse.Namespace) -> int:
    """Run the live pipeline over ``--source``; print its figures (and write them to ``--json``). 2: bad input."""
    from .bundle import BundleError
    from .image_io import MediaLoadError
    from .pipeline import FacePipeline

    started = process_start_time()
    try:  # every input and output is checked before the pipeline starts
        json_out, bundle = _checked_inputs(args)
    except (OutputPathError, MediaLoadError, BundleError) as exc:
        print(f"attricam bench: error: {exc}", file=sys.stderr)
        return 2
    pipeline = FacePipeline(bundle, _pipeline_settings(args))
    samples = _measure(pipeline, args.source, args.frames, not args.no_render, started)
    descriptors = pipeline.descriptors_computed
    pipeline.close()
    _publish(_figures(args, bundle, pipeline, samples, descriptors), json_out)
    if not bundle.trained:
        print(f"WARNING: model {bundle.name} is UNTRAINED (random weights)", file=sys.stderr)
    return 0


def _checked_inputs(args: argparse.Namespace) -> tuple[Path | None, ModelBundle]:
    """The resolved ``--json`` (or None) and the model, once the clip opens within bounds; raises on bad input."""
    from .bundle import ModelBundle, load_default_bundle
    from .sources import VideoReader

    json_out = _check_bench_paths(args)
    with VideoReader(args.source):  # opens, and its frame size is within bounds
        pass
    return json_out, ModelBundle.load(args.model) if args.model else load_default_bundle()


def _pipeline_settings(args: argparse.Namespace) -> PipelineSettings:
    """The live app's pipeline as the options ask for it."""
    from .pipeline import PipelineSettings

    return PipelineSettings(
        backend=args.backend,
        device=args.device,
        threads=args.threads,
        full_detect_every=args.full_detect_every,
        min_face_size=args.min_face_size,
        background_detection=not args.sync_detect,
        second_opinion=not args.no_second_opinion,
        descriptor_async=True,  # as the live app: descriptors in their own process, never on the frame path
    )


def _figures(
    args: argparse.Namespace, bundle: ModelBundle, pipeline: FacePipeline, samples: _Samples, descriptors: int
) -> dict[str, object]:
    """The run's figures (rates, percentiles in ms, memory, the setup that produced them), JSON-able."""
    import psutil

    frame_ms, faces = samples.frame_ms, samples.faces
    total_s = sum(frame_ms) / 1000
    return {
        "source": str(args.source),
        "frames": args.frames,
        "fps": round(args.frames / total_s, 2),
        "frame_ms_p50": round(float(np.percentile(frame_ms, 50)), 2),
        "frame_ms_p95": round(float(np.percentile(frame_ms, 95)), 2),
        "frame_ms_max": round(float(np.max(frame_ms)), 2),
        "faces_per_frame": round(float(np.mean(faces)), 3),
        "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
        "startup_s": round(samples.startup_s or 0.0, 3),
        "backend": pipeline.classifier.backend,
        "device": pipeline.device,
        "threads": args.threads,
        "torch_imported": "torch" in sys.modules,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
        "full_detect_every": args.full_detect_every,
        "background_detection": not args.sync_detect,
        "model": bundle.name,
        "model_trained": bundle.trained,
        "second_opinion": pipeline.second_opinion_active,
        "fused_face_share": round(sum(samples.fused) / max(1, sum(faces)), 3),
        "descriptors_computed": descriptors,
        "face_frames": int(sum(faces)),
        "decode_ms_p50": round(float(np.median(samples.decode_ms)), 2),
        "stage_ms_p50": {k: round(float(np.median(v)), 2) for k, v in samples.stages.items()},
        "render": not args.no_render,
    }


def _publish(figures: dict[str, object], json_out: Path | None) -> None:
    """The figures as indented JSON on stdout and, atomically, in ``json_out``."""
    text = json.dumps(figures, indent=2)
    print(text)
    if json_out:
        from .atomic import atomic_write_text

        atomic_write_text(json_out, text + "\n")
