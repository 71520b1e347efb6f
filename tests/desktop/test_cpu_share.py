"""Training and live share the CPU: a playing clip is not analysed while a job runs and the Live tab is hidden;
showing the Live tab or the job's end lets it go on."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt

from .helpers import settle, wait_for_packet


@pytest.fixture
def sleeping_job(monkeypatch):
    """Jobs run a child that sleeps instead of training (the same QProcess, signals and Stop)."""
    from attricam.desktop.job_process import JobProcess

    monkeypatch.setattr(
        JobProcess, "command", staticmethod(lambda args: (sys.executable, ["-c", "import time; time.sleep(120)"]))
    )


def _key(qtbot, window, key) -> None:
    qtbot.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)


@pytest.mark.slow
def test_live_analysis_waits_while_a_job_runs_behind_another_tab(
    qtbot, make_window, celeba_root, tmp_path, sleeping_job, playback_clock
):
    from attricam.desktop.sources import SourceSpec
    from tests.fixtures.demo_clip import make_demo_clip

    clip = make_demo_clip(tmp_path / "clip.avi", celeba_root, frames=40)
    window = make_window(SourceSpec("video", paths=(str(clip),)))
    live, training = window.live, window.training
    live.set_loop(True, remember=False)
    wait_for_packet(qtbot, window, lambda p: p.result.frame_index >= 2)

    _key(qtbot, window, Qt.Key.Key_2)  # the Training tab, nothing running: the clip goes on
    assert window.tabs.currentIndex() == 1
    wait_for_packet(qtbot, window)
    training.form.data_root.setText(str(celeba_root))
    training.form.out.setText(str(tmp_path / "run"))
    with qtbot.waitSignal(live.worker.heldChanged, timeout=10000) as held:
        qtbot.mouseClick(training.start_button, Qt.MouseButton.LeftButton)
    assert held.args == [True] and training.job.running
    settle(qtbot, window)  # the frame analysed before the hold reaches the screen
    shown = live.packet.result.frame_index
    playback_clock.advance(0.5)  # a 30 fps clip would have shown ~15 more frames
    settle(qtbot, window)
    assert live.packet.result.frame_index == shown
    assert not live.paused  # held, not paused: the user's own pause is untouched

    with qtbot.waitSignal(live.worker.heldChanged, timeout=10000) as held:
        _key(qtbot, window, Qt.Key.Key_1)  # the Live tab on screen: analysis goes on
    assert held.args == [False]
    wait_for_packet(qtbot, window)

    with qtbot.waitSignal(live.worker.heldChanged, timeout=10000):
        _key(qtbot, window, Qt.Key.Key_2)
    with qtbot.waitSignal(live.worker.heldChanged, timeout=20000) as held:
        qtbot.mouseClick(training.stop_button, Qt.MouseButton.LeftButton)  # the job ends: nothing to make room for
    assert held.args == [False] and window.tabs.currentIndex() == 1
    wait_for_packet(qtbot, window)
