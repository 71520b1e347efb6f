"""A ``python -m desktop.jobs`` child process with its JSON-lines events turned into Qt signals.

Pause suspends the process (SIGSTOP/SIGCONT, POSIX); Stop sends SIGTERM (the
job turns it into KeyboardInterrupt, so the last per-epoch checkpoint stays
whole), waits, then kills. ``stop()`` always returns with the process gone.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import weakref
from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

__all__ = ["JobProcess"]

_REPO_ROOT = Path(__file__).resolve().parent.parent


class JobProcess(QObject):
    instances: ClassVar[weakref.WeakSet[JobProcess]] = weakref.WeakSet()
    """Every job runner ever made; tests assert no child process outlives its window."""

    event = Signal(dict)
    log = Signal(str)
    finished = Signal(int, bool)  # exit code, crashed/killed
    stateChanged = Signal(str)  # "running" | "paused" | "idle"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        JobProcess.instances.add(self)
        self._process: QProcess | None = None
        self._buffer = b""
        self.paused = False

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    def start(self, args: list[str]) -> None:
        if self.running:
            raise RuntimeError("a job is already running")
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("PYTHONPATH", os.pathsep.join(p for p in (str(_REPO_ROOT), env.value("PYTHONPATH")) if p))
        process.setProcessEnvironment(env)
        process.setWorkingDirectory(str(_REPO_ROOT))
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.readyReadStandardError.connect(self._read_stderr)
        process.finished.connect(self._finished)
        self._process, self._buffer, self.paused = process, b"", False
        process.start(sys.executable, ["-m", "desktop.jobs", *args])
        self.stateChanged.emit("running")

    def pause(self) -> None:
        if self.running and not self.paused and hasattr(signal, "SIGSTOP"):
            os.kill(int(self._process.processId()), signal.SIGSTOP)
            self.paused = True
            self.stateChanged.emit("paused")

    def resume(self) -> None:
        if self.running and self.paused:
            os.kill(int(self._process.processId()), signal.SIGCONT)
            self.paused = False
            self.stateChanged.emit("running")

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
        if self._process is None:
            return
        self._buffer += bytes(self._process.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                payload = json.loads(line)
            except json.JSONDecodeError:
                self.log.emit(line)
                continue
            if isinstance(payload, dict) and "kind" in payload:
                self.event.emit(payload)
            else:
                self.log.emit(line)

    def _read_stderr(self) -> None:
        if self._process is None:
            return
        text = bytes(self._process.readAllStandardError()).decode("utf-8", "replace")
        for line in text.replace("\r", "\n").splitlines():
            if line.strip():
                self.log.emit(line.rstrip())

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._drain()
        process, self._process = self._process, None
        self.paused = False
        if process is not None:
            process.deleteLater()
        self.stateChanged.emit("idle")
        self.finished.emit(int(code), status == QProcess.ExitStatus.CrashExit)
