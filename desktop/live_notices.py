"""What the live tab writes over its picture: status toasts that fade, and a busy sign while a request is slow.

Both only draw on the :class:`~attricam.desktop.video_view.VideoView`; what a request is and when it is done is
the :class:`~attricam.desktop.live_session.LiveSession`'s to say.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from .live_protocol import LiveStatus, StatusLevel
from .live_session import LiveSession
from .video_view import VideoView

__all__ = ["BusySign", "Toasts"]

_INFO_MS, _ERROR_MS = 4000, 10000
"""How long a status toast stays over the picture; errors too expire, the picture under them is valid."""
_BUSY_AFTER_S = 0.3
"""An analysis that takes longer than this gets a busy sign over the picture (a slow still, a model swap)."""


class Toasts(QObject):
    """Status messages over the picture, each also sent to the status bar (``message``: text, timeout ms)."""

    message = Signal(str, int)

    def __init__(self, video: VideoView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._video = video
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_INFO_MS)
        self._timer.timeout.connect(self.clear)

    def show(self, status: LiveStatus) -> None:
        """Every toast fades (errors later): a camera that keeps failing says so again each second."""
        self.show_text(status.text, status.level)

    def show_text(self, text: str, level: StatusLevel = "info", *, bar_ms: int | None = None) -> None:
        """``text`` over the picture and in the status bar (``bar_ms`` there, by default by its level)."""
        self._video.set_message(text, level)
        if not text:
            return
        self._timer.start(_INFO_MS if level == "info" else _ERROR_MS)
        self.message.emit(text, bar_ms if bar_ms is not None else (3000 if level == "info" else 6000))

    def clear(self) -> None:
        self._video.set_message("")

    def stop(self) -> None:
        self._timer.stop()


class BusySign(QObject):
    """After 300 ms of waiting for a frame-changing request, "Analysing …" over the picture with the time spent;
    ``settled`` when the session is no longer busy (the frame asked for is on screen, or nothing will come)."""

    settled = Signal()

    def __init__(self, video: VideoView, session: LiveSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._video, self._session = video, session
        self._since = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._tick)

    @property
    def waiting(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        self._since = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._video.set_busy("")

    def _tick(self) -> None:
        elapsed = time.perf_counter() - self._since
        if not self._session.busy:
            self.settled.emit()
        elif elapsed >= _BUSY_AFTER_S:
            self._video.set_busy(f"Analysing {self._session.waiting_for}…  {elapsed:.1f} s")
