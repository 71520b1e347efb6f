"""Follow a training run's JSON-lines event log (``attricam train --events FILE``) as it grows.

Lets the training tab watch a run started from the command line, or replay a
finished one, with the same plots as a run started from the GUI. The file is
read with :class:`attricam.training.events.EventStream`, the reader a job's stdout uses.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from attricam.training.events import EventStream

__all__ = ["EventsFollower"]


class EventsFollower(QObject):
    # a attricam.training.events dataclass; the name (JobProcess.event's too) hides QObject.event to mypy only:
    # PySide never routes the virtual event(QEvent) to a Signal
    event = Signal(object)  # type: ignore[assignment]

    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self._path: Path | None = None
        self._offset = 0
        self._stream = EventStream()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)

    @property
    def path(self) -> Path | None:
        return self._path

    def follow(self, path: str | Path) -> int:
        """Emit every event already in ``path`` now, then new ones as they are appended; returns the count so far."""
        self.stop()
        self._path, self._offset, self._stream = Path(path), 0, EventStream()
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
        events = [item for item in self._stream.feed(data) if not isinstance(item, str)]
        for event in events:
            self.event.emit(event)
        return len(events)
