"""An ``attricam train|evaluate --json-events`` child process, its events turned into Qt signals.

The GUI runs the same commands a user runs, as ``python -m attricam`` with this
interpreter, so the job needs no repository checkout or working directory: the child imports
the installed package (a wheel, or an editable install of a checkout) as the window did.
Standard output is read with :class:`attricam.training.events.EventStream` (the reader
:class:`~attricam.desktop.events_follower.EventsFollower` uses on a file): ``event``
carries the typed dataclasses, ``log`` every other line, stderr included.

Pause suspends the process (SIGSTOP/SIGCONT, POSIX); Stop sends SIGTERM (the
command turns it into KeyboardInterrupt, so the last per-epoch checkpoint stays
whole, and reports ``stopped``), waits, then kills. ``stop()`` always returns
with the process gone.
"""

from __future__ import annotations

import os
import signal
import sys
import weakref
from enum import Enum
from typing import ClassVar

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from attricam.training.events import Event, EventStream

__all__ = ["JobProcess", "JobState"]


class JobState(Enum):
    """What :attr:`JobProcess.stateChanged` carries."""

    RUNNING = "running"
    PAUSED = "paused"
    """Suspended (SIGSTOP): it holds its memory but takes no CPU."""
    IDLE = "idle"
    """No process: not started yet, or finished."""


class JobProcess(QObject):
    instances: ClassVar[weakref.WeakSet[JobProcess]] = weakref.WeakSet()
    """Every job runner ever made; tests assert no child process outlives its window."""

    # a attricam.training.events dataclass; the name (EventsFollower.event's too) hides QObject.event to mypy only:
    # PySide never routes the virtual event(QEvent) to a Signal
    event = Signal(object)  # type: ignore[assignment]
    log = Signal(str)
    finished = Signal(int, bool)  # exit code, crashed/killed
    stateChanged = Signal(object)  # JobState

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        JobProcess.instances.add(self)
        self._process: QProcess | None = None
        self._stream = EventStream()
        self.paused = False

    @property
    def state(self) -> JobState:
        if not self.running:
            return JobState.IDLE
        return JobState.PAUSED if self.paused else JobState.RUNNING

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    @staticmethod
    def command(args: list[str]) -> tuple[str, list[str]]:
        """(program, arguments) of ``attricam ARGS --json-events`` run with this interpreter."""
        return sys.executable, ["-m", "attricam", *args, "--json-events"]

    def start(self, args: list[str]) -> None:
        """Run ``attricam ARGS --json-events``, e.g. ``["train", "--config", path]``."""
        if self.running:
            raise RuntimeError("a job is already running")
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(env)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._finished)
        self._process, self._stream, self.paused = process, EventStream(), False
        process.start(*self.command(args))
        self.stateChanged.emit(JobState.RUNNING)

    def pause(self) -> None:
        if self._process is not None and self.running and not self.paused and hasattr(signal, "SIGSTOP"):
            os.kill(int(self._process.processId()), signal.SIGSTOP)
            self.paused = True
            self.stateChanged.emit(JobState.PAUSED)

    def resume(self) -> None:
        if self._process is not None and self.running and self.paused:
            os.kill(int(self._process.processId()), signal.SIGCONT)
            self.paused = False
            self.stateChanged.emit(JobState.RUNNING)

    def stop(self, timeout_ms: int = 10000) -> None:
        """Ask the job to stop, wait up to ``timeout_ms``, then kill it. Blocks until it is gone."""
        process = self._process
        if process is None:
            return
        if process.state() != QProcess.ProcessState.NotRunning:
            if self.paused:
                self.resume()
            process.terminate()
            if not process.waitForFinished(timeout_ms):
                process.kill()
                process.waitForFinished(5000)
        self._drain()

    def _drain(self) -> None:
        if self._process is not None:
            self._read_stdout()
            self._read_stderr()

    def _read_stdout(self) -> None:
        if self._process is not None:
            self._deliver(self._stream.feed(bytes(self._process.readAllStandardOutput().data())))

    def _deliver(self, items: list[Event | str]) -> None:
        for item in items:
            if isinstance(item, str):
                self.log.emit(item)
            else:
                self.event.emit(item)

    def _read_stderr(self) -> None:
        if self._process is None:
            return
        text = bytes(self._process.readAllStandardError().data()).decode("utf-8", "replace")
        for line in text.replace("\r", "\n").splitlines():
            if line.strip():
                self.log.emit(line.rstrip())

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._drain()
        self._deliver(self._stream.flush())
        process, self._process = self._process, None
        self.paused = False
        if process is not None:
            process.deleteLater()
        self.stateChanged.emit(JobState.IDLE)
        self.finished.emit(int(code), status == QProcess.ExitStatus.CrashExit)
