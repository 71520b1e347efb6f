"""Helpers shared by the desktop tests."""

from __future__ import annotations

import time
import warnings


class PlaybackClock:
    """The clock of :mod:`attricam.desktop.sources` (paced playback), real time plus jumps the test makes.

    ``advance(0.5)`` is half a second passing for the video at once: what a paced player would catch up
    on, without the test sleeping. Installed by the ``playback_clock`` fixture."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def perf_counter(self) -> float:
        return time.perf_counter() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds)


def settle(qtbot, window, timeout=10000) -> None:
    """Wait until the live worker has applied every command sent before this call (a pause, a hold, a dropped
    file) and the tab has taken the last frame the worker published: the worker's own acknowledgement, not a
    sleep. A step of 0 frames is a request that changes nothing; the tab shows the latest packet on every
    ``requestDone`` before this helper's slot runs (slots run in connection order)."""
    worker = window.live.worker
    sent: list[int] = []
    with qtbot.waitSignal(worker.requestDone, timeout=timeout, check_params_cb=lambda rid: rid in sent):
        sent.append(worker.step(0))


def wait_for_packet(qtbot, window, predicate=lambda p: True, timeout=60000):
    """Wait until the live tab shows a packet newer than the current one that satisfies ``predicate``."""
    start = window.live.packet.serial if window.live.packet is not None else 0
    qtbot.waitUntil(
        lambda: window.live.packet is not None and window.live.packet.serial > start and predicate(window.live.packet),
        timeout=timeout,
    )
    return window.live.packet


def drop_files(window, paths) -> None:
    """Deliver a real QDropEvent with file URLs to the window (what a drag from a file manager does)."""
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    point = QPointF(window.width() / 2, window.height() / 2)
    with warnings.catch_warnings():  # PySide 6.12 marks the QPoint overload deprecated; it is the only one
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(
            point.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted(), "the window refused the drag"
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
