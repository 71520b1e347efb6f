"""Helpers shared by the desktop tests."""

from __future__ import annotations

import warnings


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
