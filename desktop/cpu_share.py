"""Training and live analysis share the CPU: live analysis is held while a job runs and nobody watches it.

On a 2-core laptop a playing clip analysed behind the Training tab took about a third of the trainer's speed
(``benchmarks/training_gui_vs_cli.py`` measures it; the README gives the figures). So while a
training or evaluation job runs (not paused) and the Live tab is not the tab on screen, the live worker
stops analysing; showing the Live tab again, or the job ending, lets it go on at once. The user's own
pause is never touched (:meth:`~attricam.desktop.live_worker.LiveWorker.set_held`).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QTabWidget, QWidget

from .job_process import JobProcess, JobState
from .live_worker import LiveWorker

__all__ = ["CpuShare"]


class CpuShare(QObject):
    """Holds ``worker`` while one of ``jobs`` runs and ``live_page`` is not the current tab of ``tabs``."""

    def __init__(
        self,
        tabs: QTabWidget,
        live_page: QWidget,
        worker: LiveWorker,
        jobs: Sequence[JobProcess],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tabs, self._live_page, self._worker = tabs, live_page, worker
        self._jobs = tuple(jobs)
        self.held = False
        tabs.currentChanged.connect(self.update)
        for job in self._jobs:
            job.stateChanged.connect(self.update)

    def update(self, *_: object) -> None:
        busy = any(job.state is JobState.RUNNING for job in self._jobs)
        held = busy and self._tabs.currentWidget() is not self._live_page
        if held != self.held:
            self.held = held
            self._worker.set_held(held)

    def close(self) -> None:
        """Disconnect and let the worker go (window close)."""
        self._tabs.currentChanged.disconnect(self.update)
        for job in self._jobs:
            job.stateChanged.disconnect(self.update)
        if self.held:
            self.held = False
            self._worker.set_held(False)
