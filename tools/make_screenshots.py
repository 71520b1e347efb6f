"""Regenerate docs/screenshots/*.png from the real window (offscreen).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tools.make_screenshots [--events runs/default/events.jsonl]
        [--journey runs/journey] [--only live,training,dashboard,journey]

Live: the 640x480 demo clip of two CelebA faces (composed on demand, never
committed), paused with an attention overlay. Training: the plots of a run's
event log (a real ``attricam train --events`` run) or, without one, a tiny run
trained here. Dashboard: an evaluation of the live model on CelebA val.
Journey (``training_journey.png``): the imbalance journey's comparison of the
``--journey`` folder, or, when it holds none, the journey run here from the
Training tab's button (all train faces of ``--data`` and, when present, ``../shared/celeba-lowres``, the form's
More faces folder; on 2 shared cores the whole ``--only journey`` run took 297 s, the six recipes 4.7 min
of it). Side by side (``live_compare.png``, and the exported PNG
``live_compare_export.png``): the journey's "naive vs best" button, then a frame of
a clip of two CelebA faces with rare attributes (:data:`COMPARE_FACES`) seen by
both models, the overlay on the rarest attribute they disagree on.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from tools.qt_wait import wait_until

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _show_tab(window, label: str) -> None:
    """Select a main tab by its label: Training and Dashboard sit inside scroll areas, so their widgets are not
    the tab pages themselves (``setCurrentWidget`` on them silently does nothing)."""
    index = next(i for i in range(window.tabs.count()) if window.tabs.tabText(i) == label)
    window.tabs.setCurrentIndex(index)


COMPARE_FACES = ("040595.jpg", "022397.jpg")
"""CelebA train faces with rare attributes (bald, goatee; gray hair, double chin) for the side-by-side picture:
where a naive and a weighted recipe part ways."""


def _side_by_side(app, window, out: Path, workdir: Path, clip: Path) -> None:
    """The journey's "naive vs best" button, then a paused frame of ``clip`` seen by both models with the overlay
    on the rarest attribute they disagree on; the window and the exported PNG (S)."""
    from attricam.desktop.sources import SourceKind, SourceSpec

    live = window.live
    _show_tab(window, "Live")
    live.open_source(SourceSpec(SourceKind.VIDEO, paths=(str(clip),)))
    assert wait_until(
        app,
        lambda: (
            live.packet is not None
            and live.packet.source_path.endswith(clip.name)
            and live.packet.result.frame_index >= 40
            and len(live.packet.result.faces) >= 2
        ),
        120,
    )
    live.set_paused(True)
    window.training.journey.side_by_side_button.click()
    wanted = window.training.journey.naive_and_best()
    assert wanted is not None, "the journey has no naive and best recipe to compare"

    def compared() -> bool:
        p = live.packet
        return (
            not live.busy
            and live.compare_bundle is not None
            and p is not None
            and p.comparison is not None
            and p.comparison.second.model_name == live.compare_bundle.name
            and p.comparison.pair(live.selected_face) is not None
        )

    assert wait_until(app, compared, 120), "the side-by-side view never showed both models"
    comparison = live.packet.comparison
    face = min(comparison.first.faces, key=lambda f: _rarest(comparison.disagreements(f.face_id)))
    if face.face_id != live.selected_face:
        live.select_face(face.face_id)
        wait_until(app, lambda: compared() and live.packet.options.selected_face == face.face_id, 20)
    differ = live.packet.comparison.disagreements(live.selected_face)
    if differ:
        live.select_attribute(differ[0])
        wait_until(
            app, lambda: live.packet.options.attribute == differ[0] and live.packet.compare_tiles is not None, 20
        )
    wait_until(app, lambda: False, 0.5)
    window.grab().save(str(out / "live_compare.png"))
    window.settings.export_folder = str(workdir / "exports")
    saved: list[str] = []
    live.worker.snapshotSaved.connect(lambda png, _: saved.append(png))
    live.snapshot()
    assert wait_until(app, lambda: bool(saved), 30), "the side-by-side snapshot was not saved"
    Path(saved[0]).replace(out / "live_compare_export.png")


_PARTS = ("live", "training", "dashboard", "journey")
"""journey: training_journey.png, live_compare.png and live_compare_export.png."""


def _rarest(attributes: list[int]) -> float:
    """Frequency of the rarest attribute in the list (1 when empty): the face whose disagreement is rarest shows
    the story best."""
    from attricam.engine.attributes import ATTRIBUTES

    return min((ATTRIBUTES[i].frequency for i in attributes), default=1.0)


def main() -> int:
    from attricam.training.config import DATA_ROOT_HELP, default_data_root

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=Path, default=REPO / "runs" / "default" / "events.jsonl")
    parser.add_argument(
        "--data", type=Path, default=default_data_root(), help=f"CelebA root (default {DATA_ROOT_HELP})"
    )
    parser.add_argument("--journey", type=Path, default=REPO / "runs" / "journey")
    parser.add_argument("--attribute", default="Smiling")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--size", default="1440x900")
    parser.add_argument(
        "--only", default=",".join(_PARTS), help=f"comma-separated pictures to regenerate ({', '.join(_PARTS)})"
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    if only - set(_PARTS):
        parser.error(f"unknown --only {', '.join(sorted(only - set(_PARTS)))}; valid: {', '.join(_PARTS)}")

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from attricam.desktop.main_window import MainWindow
    from attricam.desktop.settings import AppSettings
    from attricam.desktop.sources import SourceKind, SourceSpec
    from attricam.engine.attributes import attribute_index
    from tests.fixtures.demo_clip import make_demo_clip

    args.out.mkdir(parents=True, exist_ok=True)
    clip = make_demo_clip(REPO / "out" / "screenshot_2face.avi", args.data, frames=120, faces=2)
    app = QApplication.instance() or QApplication([])
    workdir = tempfile.TemporaryDirectory(prefix="attricam-shots-")
    settings = AppSettings(QSettings(str(Path(workdir.name) / "s.ini"), QSettings.Format.IniFormat))
    settings.overlay = {"attribute": attribute_index(args.attribute), "landmarks": True, "opacity": 45}
    window = MainWindow(settings, initial_source=SourceSpec(SourceKind.VIDEO, paths=(str(clip),)))
    window.training.ask_before_close = False
    w, _, h = args.size.partition("x")
    window.resize(int(w), int(h))
    window.show()
    live = window.live
    assert wait_until(
        app,
        lambda: live.packet is not None and live.packet.result.frame_index >= 40 and len(live.packet.result.faces) >= 2,
        180,
    ), "no frames with two faces"
    live.set_paused(True)
    wait_until(app, lambda: False, 0.5)
    window.tabs.setCurrentWidget(live)
    wait_until(app, lambda: False, 0.3)
    if "live" in only:
        window.grab().save(str(args.out / "live.png"))
        live.toggle_explorer()
        wait_until(app, lambda: live.packet is not None and live.packet.tiles is not None, 10)
        wait_until(app, lambda: False, 0.3)
        window.grab().save(str(args.out / "live_explorer.png"))
        live.toggle_explorer()

    training = window.training
    if "training" in only:
        _training_plots(app, window, args, Path(workdir.name))
    if "dashboard" in only:
        _dashboard(app, window, args)
    if "journey" in only:
        _show_tab(window, "Training")
        if not training.journey.show_comparison(args.journey):
            training.form.data_root.setText(str(args.data))
            training.form.out.setText(str(args.journey))
            training.extra_config = {}
            training.journey_button.click()
            wait_until(app, lambda: not training.job.running, 1800)
        training.right_tabs.setCurrentWidget(training.journey)
        wait_until(app, lambda: False, 0.5)
        window.grab().save(str(args.out / "training_journey.png"))
        faces = make_demo_clip(
            REPO / "out" / "screenshot_compare.avi", args.data, frames=120, faces=2, names=COMPARE_FACES
        )
        _side_by_side(app, window, args.out, Path(workdir.name), faces)
    window.close()
    window.shutdown()
    print("\n".join(str(p) for p in sorted(args.out.glob("*.png"))))
    return 0


def _training_plots(app, window, args, workdir: Path) -> None:
    training = window.training
    _show_tab(window, "Training")
    if args.events.is_file():
        training.watch_events(args.events)
        training.follower.stop()
    else:
        training.form.data_root.setText(str(args.data))
        training.form.out.setText(str(workdir / "run"))
        for spin, value in (
            (training.form.epochs, 3),
            (training.form.batch_size, 16),
            (training.form.train_limit, 96),
            (training.form.val_limit, 48),
        ):
            spin.setValue(value)
        training.extra_config = {"export_onnx": False}
        training.start()
        wait_until(app, lambda: not training.job.running, 900)
    training.right_tabs.setCurrentIndex(0)  # the live plots: loss, is-it-stuck, rare vs common F1
    wait_until(app, lambda: False, 0.5)
    window.grab().save(str(args.out / "training.png"))


def _dashboard(app, window, args) -> None:
    dashboard = window.dashboard
    _show_tab(window, "Dashboard")
    dashboard.root_edit.setText(str(args.data))
    dashboard.limit.setValue(100)
    if dashboard.evaluate():
        wait_until(app, lambda: not dashboard.job.running, 600)
    wait_until(app, lambda: False, 0.5)
    window.grab().save(str(args.out / "dashboard.png"))
    dashboard.tabs.setCurrentIndex(2)
    wait_until(app, lambda: False, 0.3)
    window.grab().save(str(args.out / "dashboard_attention_flow.png"))


if __name__ == "__main__":
    sys.exit(main())
