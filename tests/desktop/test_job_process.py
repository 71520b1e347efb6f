"""A job's state travels as :class:`JobState`: running, paused (suspended), running again, idle once it ended."""

from __future__ import annotations

import signal
import sys

import pytest


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="pause suspends the process (POSIX)")
def test_a_job_reports_its_state_as_it_starts_pauses_resumes_and_stops(qtbot, monkeypatch):
    from attricam.desktop.job_process import JobProcess, JobState

    monkeypatch.setattr(
        JobProcess, "command", staticmethod(lambda args: (sys.executable, ["-c", "import time; time.sleep(120)"]))
    )
    job = JobProcess()
    states: list[JobState] = []
    job.stateChanged.connect(states.append)
    assert job.state is JobState.IDLE
    with qtbot.waitSignal(job.stateChanged, timeout=10000):
        job.start(["train"])
    qtbot.waitUntil(lambda: job.running, timeout=10000)
    assert job.state is JobState.RUNNING
    job.pause()
    assert job.state is JobState.PAUSED
    job.resume()
    assert job.state is JobState.RUNNING
    with qtbot.waitSignal(job.finished, timeout=20000):
        job.stop()
    assert job.state is JobState.IDLE
    assert states == [JobState.RUNNING, JobState.PAUSED, JobState.RUNNING, JobState.IDLE]
    job.stateChanged.disconnect(states.append)
