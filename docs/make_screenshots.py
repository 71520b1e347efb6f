"""Regenerate docs/screenshots/{live,training,dashboard}.png from the real window (offscreen).

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py [--events runs/default/events.jsonl]

Live: the 640x480 demo clip of two CelebA faces (composed on demand, never
committed), paused with an attention overlay. Training: the plots of a run's
event log (a real ``attricam train --events`` run) or, without one, a tiny run
trained here. Dashboard: an evaluation of the live model on CelebA val.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _show_tab(window, label: str) -> None:
    """Select a main tab by its label: Training and Dashboard sit inside scroll areas, so their widgets are not
    the tab pages themselves (``setCurrentWidget`` on them silently does nothing)."""
    index = next(i for i in range(window.tabs.count()) if window.tabs.tabText(i) == label)
    window.tabs.setCurrentIndex(index)


def _wait(app, predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if predicate():
            return True
        time.sleep(0.02)
    return False


def main() -> int:
    from attricam.training.config import DATA_ROOT_HELP, default_data_root

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=Path, default=REPO / "runs" / "default" / "events.jsonl")
    parser.add_argument(
        "--data", type=Path, default=default_data_root(), help=f"CelebA root (default {DATA_ROOT_HELP})"
    )
    parser.add_argument("--attribute", default="Smiling")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--size", default="1440x900")
    args = parser.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from attricam.desktop.main_window import MainWindow
    from attricam.desktop.settings import AppSettings
    from attricam.desktop.sources import SourceSpec
    from attricam.engine.attributes import attribute_index
    from benchmarks.make_clip import make_demo_clip

    args.out.mkdir(parents=True, exist_ok=True)
    clip = make_demo_clip(REPO / "out" / "screenshot_2face.avi", args.data, frames=120, faces=2)
    app = QApplication.instance() or QApplication([])
    workdir = tempfile.TemporaryDirectory(prefix="attricam-shots-")
    settings = AppSettings(QSettings(str(Path(workdir.name) / "s.ini"), QSettings.Format.IniFormat))
    settings.overlay = {"attribute": attribute_index(args.attribute), "landmarks": True, "opacity": 45}
    window = MainWindow(settings, initial_source=SourceSpec("video", paths=(str(clip),)))
    window.training.ask_before_close = False
    w, _, h = args.size.partition("x")
    window.resize(int(w), int(h))
    window.show()
    live = window.live
    assert _wait(app, lambda: live.packet is not None and live.packet.result.frame_index >= 40
                 and len(live.packet.result.faces) >= 2, 180), "no frames with two faces"  # fmt: skip
    live.set_paused(True)
    _wait(app, lambda: False, 0.5)
    window.tabs.setCurrentWidget(live)
    _wait(app, lambda: False, 0.3)
    window.grab().save(str(args.out / "live.png"))
    live.toggle_explorer()
    _wait(app, lambda: live.packet is not None and live.packet.tiles is not None, 10)
    _wait(app, lambda: False, 0.3)
    window.grab().save(str(args.out / "live_explorer.png"))
    live.toggle_explorer()

    training = window.training
    _show_tab(window, "Training")
    if args.events.is_file():
        training.watch_events(args.events)
        training.follower.stop()
    else:
        training.form.data_root.setText(str(args.data))
        training.form.out.setText(str(Path(workdir.name) / "run"))
        for spin, value in ((training.form.epochs, 3), (training.form.batch_size, 16),
                            (training.form.train_limit, 96), (training.form.val_limit, 48)):  # fmt: skip
            spin.setValue(value)
        training.extra_config = {"export_onnx": False}
        training.start()
        _wait(app, lambda: not training.job.running, 900)
    training.right_tabs.setCurrentIndex(0)  # the live plots: loss, is-it-stuck, rare vs common F1
    _wait(app, lambda: False, 0.5)
    window.grab().save(str(args.out / "training.png"))

    dashboard = window.dashboard
    _show_tab(window, "Dashboard")
    dashboard.root_edit.setText(str(args.data))
    dashboard.limit.setValue(100)
    if dashboard.evaluate():
        _wait(app, lambda: not dashboard.job.running, 600)
    _wait(app, lambda: False, 0.5)
    window.grab().save(str(args.out / "dashboard.png"))
    dashboard.tabs.setCurrentIndex(2)
    _wait(app, lambda: False, 0.3)
    window.grab().save(str(args.out / "dashboard_attention_flow.png"))
    window.close()
    window.shutdown()
    print("\n".join(str(p) for p in sorted(args.out.glob("*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
