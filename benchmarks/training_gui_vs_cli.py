"""Training throughput from the Training tab against the command line, on the same frozen-backbone recipe.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.training_gui_vs_cli [--data ROOT] [--loss weighted]
        [--epochs 3] [--train-limit N] [--rounds 1] [--live-shown] [--json out/training_gui_vs_cli.json]

The command line run is ``attricam train --data ROOT --from assets/attricam-default.pt --freeze backbone
--loss LOSS --epochs N --no-onnx --out DIR``. The GUI run is the real window (offscreen) playing the
two-face demo clip on the Live tab, then switched to the Training tab, its form set to the same recipe
(checked: the config it writes equals the one the command line builds, but for the run folder) and
started with its Start button; while it trains the Live tab is not on screen, so live analysis is held
(:mod:`attricam.desktop.cpu_share`). ``--live-shown`` adds a GUI run that keeps the Live tab on screen,
the clip analysed beside the trainer: what the hold saves.

Figures: ``images_per_s`` is the median over epochs of the trainer's own epoch rate (the ``epoch``
events); ``train_s`` the seconds of all epochs; ``wall_s`` from launching the job to its ``finished``
event (data reading, token cache, calibration, report and bundle included). The token cache is built by
the first run if it is missing, so the rounds alternate CLI and GUI and the first round's ``wall_s`` may
carry it. Target (issue 20): GUI within 15 % of the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.qt_wait import wait_until

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _cli_argv(args: argparse.Namespace, out: Path) -> list[str]:
    argv = ["train", "--data", str(args.data)]
    if args.more_data:
        argv += ["--data", str(args.more_data)]
    argv += ["--from", str(args.bundle), "--freeze", "backbone"]
    argv += ["--loss", args.loss, "--epochs", str(args.epochs), "--no-onnx", "--out", str(out)]
    if args.train_limit:
        argv += ["--train-limit", str(args.train_limit)]
    return argv


def _expected_config(argv: list[str]):
    """The TrainConfig ``attricam train ARGV`` runs (its own parser and builder)."""
    from attricam.training.cli import add_train_arguments, config_from_args

    parsed = add_train_arguments(argparse.ArgumentParser()).parse_args(argv[1:])
    return config_from_args(parsed, parsed.loss, parsed.out)


def _summary(epochs: list, started: float, finished: float | None) -> dict:
    rates = [e.images_per_s for e in epochs]
    return {
        "images_per_s": round(statistics.median(rates), 1) if rates else None,
        "epoch_images_per_s": [round(r, 1) for r in rates],
        "train_s": round(sum(e.seconds for e in epochs), 1),
        "wall_s": round(finished - started, 1) if finished else None,
    }


def run_cli(args: argparse.Namespace, out: Path) -> dict:
    from attricam.training.events import EpochEvent, EventStream, FinishedEvent

    argv = _cli_argv(args, out)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "attricam", *argv, "--json-events"], capture_output=True, cwd=REPO, check=False
    )
    stream = EventStream()
    events = [e for e in [*stream.feed(proc.stdout), *stream.flush()] if not isinstance(e, str)]
    finished = next((time.perf_counter() for e in events if isinstance(e, FinishedEvent)), None)
    if proc.returncode != 0 or finished is None:
        raise SystemExit(f"CLI run failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return {
        "command": "attricam " + " ".join(argv),
        **_summary([e for e in events if isinstance(e, EpochEvent)], started, finished),
    }


def run_gui(args: argparse.Namespace, out: Path, clip: Path, *, live_shown: bool) -> dict:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from attricam.desktop.main_window import MainWindow
    from attricam.desktop.settings import AppSettings
    from attricam.desktop.sources import SourceKind, SourceSpec
    from attricam.training.config import TrainConfig
    from attricam.training.events import EpochEvent, FinishedEvent

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="attricam-bench-") as tmp:
        settings = AppSettings(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings, initial_source=SourceSpec(SourceKind.VIDEO, paths=(str(clip),)))
        window.training.ask_before_close = False
        window.resize(1280, 800)
        window.show()
        live = window.live
        live.set_loop(True, remember=False)
        wait_until(app, lambda: live.packet is not None and live.packet.result.frame_index >= 20, 120)
        frames_before = live.packet.result.frame_index
        training = window.training
        if not live_shown:
            window.tabs.setCurrentIndex(1)  # Ctrl+2: the Training tab
        form = training.form
        form.data_root.setText(str(args.data))
        form.extra_root.setText(str(args.more_data or ""))  # the tab fills in celeba-lowres when it is there
        form.init_from.setText(str(args.bundle))
        form.freeze.setChecked(True)
        form.combo_box("loss").setCurrentIndex(form.combo_box("loss").findData(args.loss))
        form.spin_box("epochs").setValue(args.epochs)
        form.spin_box("train_limit").setValue(args.train_limit or 0)
        form.out.setText(str(out))
        training.extra_config = {"export_onnx": False}  # --no-onnx; the form has no field for it
        epochs: list = []
        finished: list[float] = []
        training.job.event.connect(lambda e: epochs.append(e) if isinstance(e, EpochEvent) else None)
        training.job.event.connect(
            lambda e: finished.append(time.perf_counter()) if isinstance(e, FinishedEvent) else None
        )
        started = time.perf_counter()
        training.start_button.click()
        held = window.cpu_share.held
        wait_until(app, lambda: not training.job.running, 3600)
        frames_during = live.packet.result.frame_index - frames_before
        window.training.ask_before_close = False
        window.close()
        window.shutdown()
        app.processEvents()
    if not finished:
        raise SystemExit(f"GUI run did not finish: {training.state_label.text()}")
    gui_config = TrainConfig.from_dict(json.loads((out / "gui_config.json").read_text()))
    return {
        "live_tab": "shown, clip playing" if live_shown else "hidden (live analysis held)",
        "held_while_training": held,
        "live_frames_analysed_while_training": frames_during,
        "config": gui_config,
        **_summary(epochs, started, finished[0]),
    }


def main() -> int:
    from attricam.engine.bundle import default_bundle_path
    from attricam.training.config import DATA_ROOT_HELP, default_data_root
    from tests.fixtures.demo_clip import make_demo_clip

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=default_data_root(), help=f"CelebA root ({DATA_ROOT_HELP})")
    parser.add_argument(
        "--more-data",
        type=Path,
        default=None,
        help="a second root of train faces for both runs (e.g. ../shared/celeba-lowres; default: none)",
    )
    parser.add_argument("--bundle", type=Path, default=default_bundle_path())
    parser.add_argument("--loss", default="weighted")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-limit", type=int, default=0, help="first N train images (0: all)")
    parser.add_argument("--rounds", type=int, default=1, help="CLI then GUI, this many times")
    parser.add_argument("--live-shown", action="store_true", help="also a GUI run with the Live tab on screen")
    parser.add_argument("--json", type=Path, default=REPO / "out" / "training_gui_vs_cli.json")
    args = parser.parse_args()
    args.data, args.bundle = args.data.resolve(), args.bundle.resolve()
    args.more_data = args.more_data.resolve() if args.more_data else None

    clip = make_demo_clip(REPO / "out" / "screenshot_2face.avi", args.data, frames=120, faces=2)
    runs: dict[str, list[dict]] = {"cli": [], "gui": [], "gui_live_shown": []}
    with tempfile.TemporaryDirectory(prefix="attricam-bench-runs-") as tmp:
        for i in range(args.rounds):
            cli_out, gui_out = Path(tmp) / f"cli-{i}", Path(tmp) / f"gui-{i}"
            runs["cli"].append(run_cli(args, cli_out))
            print("cli", json.dumps(runs["cli"][-1]), flush=True)
            gui = run_gui(args, gui_out, clip, live_shown=False)
            expected = _expected_config(_cli_argv(args, gui_out))
            gui_recipe = {**gui.pop("config").to_dict(), "name": ""}
            cli_recipe = {**expected.to_dict(), "name": ""}
            differing = sorted(
                k for k in gui_recipe.keys() | cli_recipe.keys() if gui_recipe.get(k) != cli_recipe.get(k)
            )
            if differing:
                detail = ", ".join(f"{k}: GUI {gui_recipe.get(k)!r}, CLI {cli_recipe.get(k)!r}" for k in differing)
                raise SystemExit(f"the GUI's recipe differs from the command line's ({detail}): not a fair comparison")
            runs["gui"].append(gui)
            print("gui", json.dumps(gui), flush=True)
            if args.live_shown:
                shown = run_gui(args, Path(tmp) / f"gui-shown-{i}", clip, live_shown=True)
                shown.pop("config")
                runs["gui_live_shown"].append(shown)
                print("gui, Live tab shown", json.dumps(shown), flush=True)
    cli = statistics.median(r["images_per_s"] for r in runs["cli"])
    gui = statistics.median(r["images_per_s"] for r in runs["gui"])
    result = {
        "recipe": runs["cli"][0]["command"],
        "cli_images_per_s": cli,
        "gui_images_per_s": gui,
        "gui_vs_cli": round(gui / cli, 3),
        "within_15_percent": gui >= 0.85 * cli,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "runs": runs,
    }
    if runs["gui_live_shown"]:
        result["gui_live_shown_images_per_s"] = statistics.median(r["images_per_s"] for r in runs["gui_live_shown"])
    print(f"command line: {cli:.0f} images/s   GUI (Live tab hidden): {gui:.0f} images/s   GUI/CLI {gui / cli:.2f}")
    if "gui_live_shown_images_per_s" in result:
        print(f"GUI with the Live tab on screen, clip playing: {result['gui_live_shown_images_per_s']:.0f} images/s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
