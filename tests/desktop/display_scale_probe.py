"""Run by test_display_scale.py in a process of its own (Qt reads QT_SCALE_FACTOR once, at start): the window on
a still with one face, at 1280x690, at 1024x546 and (with a folder's video's toolbar) at 853x450 logical pixels;
prints one JSON line of what was drawn.

    QT_SCALE_FACTOR=1.5 QT_QPA_PLATFORM=offscreen python tests/desktop/display_scale_probe.py IMAGE SETTINGS.ini
"""

from __future__ import annotations

import json
import sys
import time

import cv2
import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QScrollArea


def _label_height(annotated: np.ndarray, frame_width: int, box: np.ndarray) -> int:
    """Device-pixel height of the black id-label box whose left edge sits at the face box's, just above it."""
    scale = annotated.shape[1] / frame_width
    x, top = int(box[0] * scale), int(box[1] * scale)
    count, _, stats, _ = cv2.connectedComponentsWithStats((annotated.max(axis=2) < 30).astype(np.uint8))
    heights = [
        int(h) for lx, ly, lw, h, _ in stats[1:count] if abs(lx - x) <= 4 and top - 40 <= ly + h <= top + 4 and lw > 20
    ]
    return max(heights, default=0)


def main(image: str, settings_file: str) -> None:
    app = QApplication([])
    from attricam.desktop.live_worker import LiveWorker
    from attricam.desktop.main_window import MainWindow
    from attricam.desktop.settings import AppSettings
    from attricam.desktop.sources import SourceSpec
    from attricam.engine.bundle import random_bundle
    from attricam.engine.pipeline import FacePipeline

    pipeline = FacePipeline(bundle=random_bundle(seed=0))
    store = AppSettings(QSettings(settings_file, QSettings.Format.IniFormat))
    window = MainWindow(store, worker=LiveWorker(lambda: pipeline), initial_source=SourceSpec("images", paths=(image,)))
    window.training.ask_before_close = False
    window.resize(1280, 690)
    window.show()
    live = window.live

    def settle(predicate, timeout: float = 60.0) -> bool:
        end = time.monotonic() + timeout
        while not predicate() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)
        return predicate()

    def drawn_at_view_size() -> bool:
        packet = live.packet
        if packet is None or not packet.result.faces:
            return False
        view_w, view_h = live.video.device_size()
        return abs(packet.annotated.shape[1] - view_w) <= 2 or abs(packet.annotated.shape[0] - view_h) <= 2

    try:
        assert settle(drawn_at_view_size), "no frame drawn at the view's size"
        packet = live.packet
        ratio = live.video.devicePixelRatioF()
        metrics = QFontMetrics(app.font())
        report = {
            "ratio": ratio,
            "label_height": _label_height(packet.annotated, packet.frame.shape[1], packet.result.faces[0].box),
            "font_height": metrics.height() * ratio,
        }
        window.resize(1024, 546)
        settle(lambda: False, 0.3)
        hint = window.minimumSizeHint()
        report.update(
            window=[window.width(), window.height()],
            minimum=[max(hint.width(), window.minimumWidth()), max(hint.height(), window.minimumHeight())],
            video=[live.video.width(), live.video.height()],
        )
        bar, side = live.source_bar, live.findChild(QScrollArea, "LiveSidePanel")
        bar.set_source_kind("video")  # the widest toolbar: a folder's video played (◂ Back, seek bar, Loop)
        bar.set_back("2 images + 1 video")
        window.resize(853, 450)  # 1280x720 at 150 % under a title bar
        settle(lambda: False, 0.3)
        hint = window.minimumSizeHint()
        report.update(
            narrow_window=[window.width(), window.height()],
            narrow_minimum=[max(hint.width(), window.minimumWidth()), max(hint.height(), window.minimumHeight())],
            narrow_wrapped=bar.wrapped,
            narrow_side_scrolls_sideways=side.horizontalScrollBar().maximum() > 0,
        )
        print(json.dumps(report), flush=True)
    finally:
        window.close()
        window.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
