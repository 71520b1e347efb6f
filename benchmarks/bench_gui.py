"""GUI benchmark: the real AttriCam window on a 640x480 clip of CelebA faces, overlays on.

Prints (and writes as JSON):

* frames shown per second by the GUI (each a new analysed frame, heatmap + boxes + landmarks drawn),
  next to the frames analysed per second by the worker;
* the longest gap between ticks of a 10 ms Qt timer on the GUI thread (event-loop stalls);
* RSS growth from after warm-up to the end, and its slope (MiB per 1,000 frames) over the whole run and its
  second half: a leak keeps the same slope, allocator warm-up flattens out (use ``--frames 6000`` or more);
* frame latency p50/p95 of the packets shown (capture -> rendered, and the pipeline's own time);
* garbage-collector pauses on any thread (count, longest) and how many event-loop gaps over 50 ms
  overlapped one, to tell a collection from painting or conversion work on the GUI thread;
* with ``--tracemalloc``, the Python allocation sites that grew most between the first RSS sample and the end.

Runs offscreen unless a display is set. The clip is composed on demand from
``../shared/celeba`` (``tests/fixtures/demo_clip.py``) and never committed.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_gui --frames 10000 --faces 2

``--real`` plays the real-looking 640x360 clip with cuts and 0-4 faces (``tests/fixtures/real_clip.py``) instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import emit_figures

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=10_000, help="frames to show after warm-up (default 10000)")
    parser.add_argument("--warmup", type=int, default=100, help="frames shown before measuring")
    parser.add_argument("--faces", type=int, choices=(1, 2), default=2)
    parser.add_argument("--clip", type=Path, help="a 640x480 clip to use instead of composing one")
    parser.add_argument(
        "--real", action="store_true", help="use the real-looking clip with cuts (tests/fixtures/real_clip.py)"
    )
    parser.add_argument("--data", type=Path, default=None, help="CelebA root (default: tests/fixtures/demo_clip.py's)")
    parser.add_argument("--attribute", default="Smiling", help="overlay attribute")
    parser.add_argument(
        "--realtime", action="store_true", help="pace the clip at its own fps (default: as fast as possible)"
    )
    parser.add_argument("--nice", type=int, default=None, help="worker thread niceness (default: the app's)")
    parser.add_argument("--compare", type=Path, help="a second model bundle beside the live one (Compare A | B)")
    parser.add_argument("--json", type=Path, default=REPO / "out" / "bench_gui.json")
    parser.add_argument("--tracemalloc", action="store_true", help="report Python allocation growth (slower)")
    args = parser.parse_args(argv)

    import gc
    import tracemalloc

    import numpy as np
    import psutil
    from PySide6.QtCore import QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from attricam.desktop.app import freeze_after_first_model
    from attricam.desktop.live_worker import LiveWorker
    from attricam.desktop.main_window import MainWindow
    from attricam.desktop.settings import AppSettings
    from attricam.desktop.sources import SourceKind, SourceSpec
    from attricam.engine.attributes import attribute_index
    from tests.fixtures.demo_clip import make_demo_clip

    if args.real and args.clip is None:
        from tests.fixtures.real_clip import make_real_clip

        args.clip = make_real_clip(REPO / "out" / "real_clip.avi")
    clip = args.clip or make_demo_clip(
        REPO / "out" / f"bench_gui_{args.faces}face.avi", args.data, frames=300, faces=args.faces
    )
    app = QApplication.instance() or QApplication([])
    workdir = tempfile.TemporaryDirectory(prefix="attricam-bench-")
    settings = AppSettings(QSettings(str(Path(workdir.name) / "bench.ini"), QSettings.Format.IniFormat))
    settings.overlay = {"attribute": attribute_index(args.attribute), "landmarks": True, "boxes": True, "opacity": 50}
    worker_options = {} if args.nice is None else {"nice": args.nice}
    worker = LiveWorker(realtime=args.realtime, scan_cameras=False, **worker_options)
    window = MainWindow(settings, worker=worker, initial_source=SourceSpec(SourceKind.VIDEO, paths=(str(clip),)))
    freeze_after_first_model(window)  # as the app does
    if args.compare:
        from attricam.engine.bundle import ModelBundle

        window.live.load_compare_bundle(ModelBundle.load(args.compare))
    window.training.ask_before_close = False
    window.resize(1400, 860)
    window.show()

    process = psutil.Process()
    state = {"t0": 0.0, "rss0": 0, "last_tick": 0.0, "gaps": [], "analysed0": 0, "paints0": 0, "done": False}
    tick = QTimer()
    tick.setTimerType(Qt.TimerType.PreciseTimer)
    tick.setInterval(10)

    def on_tick() -> None:
        now = time.perf_counter()
        if state["last_tick"] and state["t0"]:
            gap = (now - state["last_tick"]) * 1000.0
            state["gaps"].append(gap)
            if gap > 50:
                long_gaps.append((now, gap))
        state["last_tick"] = now

    tick.timeout.connect(on_tick)
    gc_pauses: list[tuple[float, float]] = []  # (start, end) perf_counter seconds
    gc_started: dict[int, float] = {}

    def on_gc(phase: str, info: dict) -> None:
        import threading

        now = time.perf_counter()
        key = threading.get_ident()
        if phase == "start":
            gc_started[key] = now
        elif key in gc_started and state["t0"]:
            gc_pauses.append((gc_started.pop(key), now))

    gc.callbacks.append(on_gc)
    long_gaps: list[tuple[float, float]] = []  # (end time, gap ms) of gaps over 50 ms
    latency_ms: list[float] = []
    pipeline_ms: list[float] = []
    snapshot0 = []
    tick.start()
    total = args.warmup + args.frames
    samples: list[tuple[int, int]] = []

    def on_frame(count: int) -> None:
        packet = window.live.packet
        if count == args.warmup:
            state.update(
                t0=time.perf_counter(),
                rss0=process.memory_info().rss,
                analysed0=packet.serial,
                paints0=window.live.video.paint_count,
            )
            samples.append((0, state["rss0"]))
            if args.tracemalloc:
                tracemalloc.start(8)
                snapshot0.append(tracemalloc.take_snapshot())
        elif count > args.warmup:
            latency_ms.append(packet.latency_ms)
            pipeline_ms.append(packet.result.timings.total_ms)
            if count % 250 == 0:
                samples.append((count - args.warmup, process.memory_info().rss))
            if count % 500 == 0:
                print(
                    f"  {count - args.warmup} frames, RSS {process.memory_info().rss / 2**20:.1f} MiB", file=sys.stderr
                )
        if count >= total and not state["done"]:
            state.update(
                done=True,
                t1=time.perf_counter(),
                rss1=process.memory_info().rss,
                analysed1=packet.serial,
                paints1=window.live.video.paint_count,
            )
            window.close()

    window.live.frameShown.connect(on_frame)
    window.closed.connect(app.quit)
    app.exec()
    tick.stop()
    window.shutdown()
    if not state["done"]:
        print("benchmark ended before all frames were shown", file=sys.stderr)
        return 1

    gc.callbacks.remove(on_gc)
    growth = []
    if args.tracemalloc:
        top = tracemalloc.take_snapshot().compare_to(snapshot0[0], "lineno")[:8]
        growth = [f"{stat.size_diff / 2**20:+.2f} MiB {stat.traceback[0]}" for stat in top]
        tracemalloc.stop()
    seconds = state["t1"] - state["t0"]
    gaps = np.asarray(state["gaps"]) if state["gaps"] else np.zeros(1)
    frames_at = np.array([f for f, _ in samples], float)
    rss_at = np.array([r for _, r in samples], float) / 2**20

    def slope(first: int) -> float | None:  # MiB per 1000 frames, least squares from sample ``first`` on
        x, y = frames_at[first:], rss_at[first:]
        return round(float(np.polyfit(x, y, 1)[0] * 1000), 2) if len(x) >= 3 else None

    gc_ms = np.array([(b - a) * 1000 for a, b in gc_pauses]) if gc_pauses else np.zeros(1)
    gaps_with_gc = sum(any(a < end and b > end - gap / 1000 for a, b in gc_pauses) for end, gap in long_gaps)
    figures = {
        "clip": str(clip),
        "faces": args.faces,
        "compare": str(args.compare) if args.compare else None,
        "frames_measured": args.frames,
        "seconds": round(seconds, 2),
        "gui_frames_per_s": round(args.frames / seconds, 2),
        "packets_published_per_s": round((state["analysed1"] - state["analysed0"]) / seconds, 2),
        "video_paints_per_s": round((state["paints1"] - state["paints0"]) / seconds, 2),
        "event_loop_gap_ms_max": round(float(gaps.max()), 2),
        "event_loop_gap_ms_p99": round(float(np.percentile(gaps, 99)), 2),
        "event_loop_gap_ms_median": round(float(np.median(gaps)), 2),
        "event_loop_gaps_over_50ms": int((gaps > 50).sum()),
        "event_loop_ticks": len(gaps),
        "rss_mib_after_warmup": round(state["rss0"] / 2**20, 1),
        "rss_mib_end": round(state["rss1"] / 2**20, 1),
        "rss_growth_percent": round(100.0 * (state["rss1"] - state["rss0"]) / state["rss0"], 2),
        "rss_slope_mib_per_1000_frames": slope(0),
        "rss_slope_second_half_mib_per_1000_frames": slope(len(samples) // 2),
        "rss_mib_samples": [[int(f), round(float(r), 1)] for f, r in zip(frames_at, rss_at)],
        "latency_ms_p50": round(float(np.percentile(latency_ms, 50)), 2),
        "latency_ms_p95": round(float(np.percentile(latency_ms, 95)), 2),
        "pipeline_ms_p95": round(float(np.percentile(pipeline_ms, 95)), 2),
        "gc_pauses": len(gc_pauses),
        "gc_pause_ms_max": round(float(gc_ms.max()), 2),
        "event_loop_gaps_over_50ms_during_gc": int(gaps_with_gc),
        "python_allocation_growth": growth,
        "cpu_count": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "realtime": args.realtime,
    }
    figures["checks"] = {
        "gui_fps >= 25": figures["gui_frames_per_s"] >= 25,
        "event_loop_gap_max <= 50 ms": figures["event_loop_gap_ms_max"] <= 50,
        "rss_growth < 5 %": figures["rss_growth_percent"] < 5,
        # the real clip's scenes (1-4 faces, sizes, cuts) grow onnxruntime's and MTCNN's buffers once, over its
        # first loop; a leak shows as a slope that does not flatten after that
        "rss_slope_second_half < 1 MiB per 1000 frames": (figures["rss_slope_second_half_mib_per_1000_frames"] or 0)
        < 1,
    }
    emit_figures(figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
