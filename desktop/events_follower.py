"""Follow a training run's JSON-lines event log (``attricam train --events FILE``) as it grows.

Lets the training tab watch a run started from the command line, or replay a
finished one, with the same plots as a run started from the GUI.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

__all__ = ["EventsFollower"]


class EventsFollower(QObject):
    event = Signal(dict)

    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self._path: Path | None = None
        self._offset = 0
        self._partial = b""
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)

    @property
    def path(self) -> Path | None:
        return self._path

    def follow(self, path: str | Path) -> int:
        """Emit every event already in ``path`` now, then new ones as they are appended; returns the count so far."""
        self.stop()
        self._path, self._offset, self._partial = Path(path), 0, b""
        count = self.poll()
        self._timer.start()
        return count

    def stop(self) -> None:
        self._timer.stop()
        self._path = None

    def poll(self) -> int:
        if self._path is None:
            return 0
        try:
            with open(self._path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except OSError:
            return 0
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        count = 0
        for line in lines:
            try:
                payload = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(payload, dict) and "kind" in payload:
                self.event.emit(payload)
                count += 1
        return count
