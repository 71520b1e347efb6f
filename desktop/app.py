"""Start the desktop app: ``attricam [--source PATH|CAMERA] [--screenshot OUT.png --exit-after-frames N]``.

The headless hooks run the real window (also under ``QT_QPA_PLATFORM=offscreen``):
it analyses N frames of the source (a video ends with its last frame, whatever the loop setting), saves a
grab of the whole window and exits 0. Headless runs read and write no saved preferences except an INI file
named with ``--settings``, so the same command does the same on every machine.

Started with a display and a ``--source`` that cannot be opened, the window opens and says why (someone who
started it from a launcher sees no terminal); headless, the reason goes to stderr and the exit code is 2.
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt and the window load in main(), after the options are parsed
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .settings import AppSettings
    from .sources import SourceSpec

__all__ = ["build_parser", "freeze_after_first_model", "has_display", "main", "parse_source"]

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    from attricam.engine.arg_types import OneLineParser, bounded_float, positive_int

    parser = OneLineParser(prog="attricam", description="AttriCam desktop app (live facial-attribute analysis)")
    parser.add_argument(
        "--source", help="camera index (0, 1, …), a video file, image files (comma-separated) or a folder"
    )
    parser.add_argument(
        "--resolution", type=_size_option, default="640x480", help="camera resolution WxH (default 640x480)"
    )
    parser.add_argument("--bundle", help="model bundle (.pt) to load instead of the default")
    parser.add_argument(
        "--compare", metavar="BUNDLE.pt", help="a second model bundle whose answers stand beside the live model's"
    )
    parser.add_argument("--attribute", help="attribute whose attention to overlay, e.g. Eyeglasses")
    parser.add_argument("--tab", choices=("live", "training", "dashboard"), help="tab to show first")
    parser.add_argument("--screenshot", metavar="OUT.png", help="save a grab of the window, then exit")
    parser.add_argument(
        "--exit-after-frames",
        type=positive_int,
        metavar="N",
        help="exit after N analysed frames (with --screenshot: grab first)",
    )
    parser.add_argument(
        "--timeout",
        type=bounded_float(0, low_open=True),
        default=180.0,
        help="headless mode: give up after this many seconds (exit 1)",
    )
    parser.add_argument(
        "--settings",
        metavar="INI",
        help="keep preferences in this INI file instead of the user's store (headless runs use none without it)",
    )
    parser.add_argument(
        "--size", type=_size_option, default=None, help="window size WxH (default: remembered geometry)"
    )
    return parser


def _size_option(text: str) -> str:
    """``--size`` / ``--resolution``: checked as WIDTHxHEIGHT, kept as the text the rest of the app reads."""
    from attricam.engine.arg_types import size_wxh

    size_wxh(text)
    return text.lower()


def parse_source(text: str | None, resolution: str = "640x480") -> SourceSpec | None:
    """'0' -> camera 0; 'a.jpg,b.jpg' or a folder -> filmstrip; 'clip.mp4' -> video.

    Raises ValueError for a missing path or a folder without images or videos.
    """
    from .sources import SourceKind, SourceSpec, classify_paths

    if text is None:
        return None
    w, _, h = resolution.lower().partition("x")
    if text.strip().isdigit():
        return SourceSpec(SourceKind.CAMERA, camera=int(text), resolution=(int(w), int(h)))
    paths = [p for p in text.split(",") if p]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise ValueError(f"{missing[0]}: file not found")
    spec = classify_paths(paths)
    if spec is None:
        folders = [p for p in paths if Path(p).is_dir()]
        if folders:
            raise ValueError(f"{folders[0]}: no images or videos in this folder")
        raise ValueError(f"{text}: not an image or video")
    return spec


def freeze_after_first_model(window: MainWindow) -> None:
    """Once the first model has loaded, move everything alive then (Qt, the engine, the model) out of the
    garbage collector's sight: it lives for the whole session, and a full collection over it could stall the
    event loop for tens of milliseconds. Later objects are collected as usual."""

    def freeze(_bundle: object) -> None:
        window.live.modelChanged.disconnect(freeze)
        gc.collect()
        gc.freeze()

    window.live.modelChanged.connect(freeze)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    headless = args.screenshot is not None or args.exit_after_frames is not None
    startup_error = ""
    try:
        initial = parse_source(args.source, args.resolution)
    except ValueError as exc:
        print(f"attricam: {exc}", file=sys.stderr)
        if headless:
            return 2
        initial, startup_error = None, str(exc)

    app = _application()
    if startup_error and not has_display(app):
        return 2  # nobody would see the window: stderr said why
    scratch = tempfile.TemporaryDirectory(prefix="attricam-headless-") if headless and not args.settings else None
    try:
        settings = _settings(args, scratch)
        window = _window(args, settings, initial, startup_error) if settings is not None else None
        if window is None:
            return 2
        window.show()
        run = None
        if headless:
            from .headless import HeadlessRun

            run = HeadlessRun(
                window,
                frames=args.exit_after_frames or 1,
                screenshot=args.screenshot,
                timeout_s=args.timeout,
                has_source=initial is not None,
            )
        _exec(app, window, show_crash_dialog=not headless and has_display(app))
        return run.code if run is not None else 0
    finally:
        if scratch is not None:
            scratch.cleanup()


def _application() -> QApplication:
    """The running QApplication (tests make one), or a new one named for the saved settings."""
    from PySide6.QtWidgets import QApplication

    running = QApplication.instance()
    app = running if isinstance(running, QApplication) else QApplication(["attricam"])
    app.setApplicationName("AttriCam")
    app.setOrganizationName("AttriCam")
    return app


def _settings(args: argparse.Namespace, scratch: tempfile.TemporaryDirectory[str] | None) -> AppSettings | None:
    """The preferences: ``--settings`` INI, a scratch INI for a headless run (nothing read from or written to
    the user's saved state), else the user's store; ``--attribute`` overrides the overlay's. None (with the
    reason on stderr) for an unknown attribute."""
    from PySide6.QtCore import QSettings

    from .settings import AppSettings, default_settings

    if args.settings:
        store = QSettings(args.settings, QSettings.Format.IniFormat)
    elif scratch is not None:
        store = QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat)
    else:
        store = default_settings()
    settings = AppSettings(store)
    if args.attribute:
        from attricam.engine.attributes import attribute_index

        try:
            settings.overlay = {**settings.overlay, "attribute": attribute_index(args.attribute)}
        except KeyError as exc:
            print(f"attricam: {exc.args[0]}", file=sys.stderr)
            return None
    return settings


def _window(
    args: argparse.Namespace, settings: AppSettings, initial: SourceSpec | None, startup_error: str
) -> MainWindow | None:
    """The main window as the options ask (size, first tab, ``--bundle`` and ``--compare`` loaded); None (shut
    down, the reason on stderr) when a bundle cannot be loaded."""
    from attricam.engine.bundle import BundleError, ModelBundle

    from .main_window import MainWindow

    window = MainWindow(settings, initial_source=initial, startup_error=startup_error)
    freeze_after_first_model(window)
    if args.size:
        w, _, h = args.size.lower().partition("x")
        window.resize(int(w), int(h))
    if args.tab:
        window.tabs.setCurrentIndex(("live", "training", "dashboard").index(args.tab))
    for path, load in ((args.bundle, window.live.load_bundle), (args.compare, window.live.load_compare_bundle)):
        if not path:
            continue
        try:
            load(ModelBundle.load(path))
        except BundleError as exc:
            print(f"attricam: {exc}", file=sys.stderr)
            window.shutdown()
            return None
    return window


def _exec(app: QApplication, window: MainWindow, *, show_crash_dialog: bool) -> None:
    """Qt's event loop until the window closes (Ctrl+C closes it too), then the window's threads joined."""
    from PySide6.QtCore import QTimer

    from .crash_handler import install_crash_handler

    window.closed.connect(app.quit)
    signal.signal(signal.SIGINT, lambda *_: window.close())
    wake = QTimer()  # lets Python run its Ctrl+C handler while Qt's loop is in C++
    wake.timeout.connect(lambda: None)
    wake.start(250)
    restore_hooks = install_crash_handler(show_dialog=show_crash_dialog)
    try:  # an exception in a slot or thread is one line and a log file, not a traceback
        app.exec()
    finally:
        restore_hooks()
    window.shutdown()


def has_display(app: QGuiApplication) -> bool:
    """False on Qt's windowless platforms (``offscreen``, ``minimal``), where a window helps nobody."""
    return app.platformName() not in ("offscreen", "minimal", "")
