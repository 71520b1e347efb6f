"""A headless run of the real window (``--screenshot`` / ``--exit-after-frames``): analyse N frames, grab, exit.

A filmstrip is stepped through one image per frame; a video ends with its last frame, whatever the loop
setting; a source or model that fails ends the run at once with the reason on stderr (exit 1), and so does
``--timeout``. Each way to end ends the run once.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer

from attricam.engine.atomic import atomic_path

from .live_protocol import LiveStatus
from .main_window import MainWindow

__all__ = ["HeadlessRun"]

_REPAINT_MS = 50
"""Between the last frame and the grab: the panels repaint with that frame."""


class HeadlessRun:
    """Ends ``window`` after ``frames`` analysed frames (or the clip's end), saving a grab to ``screenshot``.

    ``code`` is the exit code once the window has closed: 0, or 1 when the source or model failed, the grab
    could not be written or ``timeout_s`` passed."""

    def __init__(
        self, window: MainWindow, *, frames: int, screenshot: str | None, timeout_s: float, has_source: bool
    ) -> None:
        self.code = 0
        self._window, self._wanted, self._screenshot = window, max(1, frames), screenshot
        self._ending = False  # the clip ended
        self._failed = False  # the source or model failed
        live = window.live
        live.set_loop(False, remember=False)  # a video ends with its last frame
        live.frameShown.connect(self._frame_shown)
        live.worker.ended.connect(self._clip_ended)
        live.worker.status.connect(self._status)
        if not has_source:  # no frame will arrive: grab once the model has loaded (camera scan runs first)
            live.modelChanged.connect(lambda _: QTimer.singleShot(300, lambda: self.finish(0)))
        QTimer.singleShot(int(timeout_s * 1000), lambda: self.finish(1, f"timed out after {timeout_s:.0f} s"))

    def finish(self, code: int, reason: str = "") -> None:
        """Grab the window (if asked to and still open), say why it ended (if not well) and close it."""
        window = self._window
        if window.isVisible() and self._screenshot:
            code, reason = self._grab(self._screenshot, code, reason)
        if reason:
            print(f"attricam: {reason}", file=sys.stderr)
        self.code = code
        window.close()

    def _grab(self, path: str, code: int, reason: str) -> tuple[int, str]:
        from PySide6.QtWidgets import QApplication

        QApplication.processEvents()
        try:
            with atomic_path(path) as tmp:
                if not self._window.grab().save(str(tmp)):
                    raise OSError("Qt could not encode the image")
        except OSError as exc:
            return 1, f"could not write {path}: {exc}"
        return code, reason

    def _frame_shown(self, count: int) -> None:
        live = self._window.live
        packet = live.packet
        strip = packet.filmstrip if packet is not None else None
        at_end = strip is not None and strip[0] >= strip[1] - 1
        if count >= self._wanted or at_end:
            live.frameShown.disconnect(self._frame_shown)
            QTimer.singleShot(_REPAINT_MS, lambda: self.finish(0))
        elif strip is not None:
            live.step(1)

    def _clip_ended(self) -> None:
        """Fewer frames in the clip than asked for: the run ends with the clip."""
        if not self._ending:
            self._ending = True
            QTimer.singleShot(_REPAINT_MS, lambda: self.finish(0))

    def _status(self, status: LiveStatus) -> None:
        """A source that cannot be opened (or a model that cannot load) will never yield a frame: say why at
        once instead of waiting for the timeout."""
        if status.level == "error" and self._window.live.frames_shown == 0 and not self._failed:
            self._failed = True
            QTimer.singleShot(_REPAINT_MS, lambda: self.finish(1, status.text))
