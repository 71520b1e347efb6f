"""Fixtures for the desktop tests: an offscreen window on a temporary settings file, a fresh pipeline per
test (MTCNN's weights load once per process, so a pipeline costs ~0.1 s), and checks that no thread, child
process or top-level widget outlives its test."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest.importorskip("PySide6", reason="PySide6 is not installed")
pytest.importorskip("pytestqt", reason="pytest-qt is not installed")


@pytest.fixture(autouse=True)
def no_leaked_threads(qapp):
    """Fail a test that leaves a Python thread, a LiveWorker QThread or a job process running."""
    from attricam.desktop.job_process import JobProcess
    from attricam.desktop.live_worker import LiveWorker

    before = {t.ident for t in threading.enumerate()}
    yield
    qapp.processEvents()
    running_workers = [w for w in list(LiveWorker.instances) if w.isRunning()]
    running_jobs = [j for j in list(JobProcess.instances) if j.running]
    leaked = [
        t
        for t in threading.enumerate()
        if t.ident not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
    ]
    assert not running_workers, f"LiveWorker threads still running: {running_workers}"
    assert not running_jobs, f"job processes still running: {running_jobs}"
    assert not leaked, f"leaked threads: {[t.name for t in leaked]}"


_QT_SINGLETONS = {"QTipLabel"}
"""Top-level widgets Qt itself keeps for the whole process (the tooltip label)."""


@pytest.fixture(autouse=True)
def no_leaked_widgets(qapp):
    """Fail a test that leaves a top-level widget alive: every window and tab a test makes is closed and deleted.

    Set up before pytest-qt's ``qtbot`` is torn down, so the widgets a test registered with
    ``qtbot.addWidget`` have been closed and scheduled for deletion by the time this checks.
    """
    import gc

    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication, QMenu

    before = set(QApplication.topLevelWidgets())
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()  # pyqtgraph's parentless context menus go with the Python objects that own them
    qapp.processEvents()
    leaked = [
        w
        for w in QApplication.topLevelWidgets()
        if w not in before
        and type(w).__name__ not in _QT_SINGLETONS
        and w.parent() is None
        and (w.isVisible() or not isinstance(w, QMenu))  # a hidden menu is a popup waiting for a right-click
    ]
    names = [f"{type(w).__name__}({w.objectName()!r})" for w in leaked]
    for widget in leaked:  # do not let one leak fail every later test
        widget.close()
        widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not leaked, f"leaked top-level widgets: {names}"


@pytest.fixture
def settings(tmp_path: Path):
    from PySide6.QtCore import QSettings

    from attricam.desktop.settings import AppSettings

    store = AppSettings(QSettings(str(tmp_path / "attricam.ini"), QSettings.Format.IniFormat))
    store.export_folder = str(tmp_path / "exports")
    return store


@pytest.fixture
def face_pipeline():
    """An untrained pipeline of this test's own: tests change its settings or wrap its methods, and no change
    may reach the next test."""
    from attricam.engine.bundle import random_bundle
    from attricam.engine.pipeline import FacePipeline

    pipeline = FacePipeline(bundle=random_bundle(seed=0))
    yield pipeline
    pipeline.close()


@pytest.fixture
def playback_clock(monkeypatch):
    """Paced playback on a clock the test moves (:class:`tests.desktop.helpers.PlaybackClock`)."""
    import attricam.desktop.sources
    from tests.desktop.helpers import PlaybackClock

    clock = PlaybackClock()
    monkeypatch.setattr(attricam.desktop.sources, "time", clock)
    return clock


@pytest.fixture
def no_cameras(monkeypatch):
    monkeypatch.setattr("attricam.desktop.live_worker.probe_cameras", lambda *a, **k: [])


@pytest.fixture
def make_window(qtbot, settings, face_pipeline, no_cameras):
    """Factory: a shown MainWindow whose worker uses the test's pipeline; closed (and joined) after the test."""
    import torch

    from attricam.desktop.live_worker import LiveWorker
    from attricam.desktop.main_window import MainWindow

    windows = []
    threads = torch.get_num_threads()  # the live worker sets 1 intra-op thread for the whole process

    def factory(initial_source=None, app_settings=None, window_options=None, **worker_options):
        if windows:  # a second window of the same test starts from the untrained model too
            face_pipeline.set_bundle(_random_bundle())
        worker = LiveWorker(lambda: face_pipeline, **worker_options)
        window = MainWindow(
            app_settings or settings, worker=worker, initial_source=initial_source, **(window_options or {})
        )
        window.training.ask_before_close = False
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        windows.append(window)
        qtbot.waitUntil(lambda: window.live.bundle is not None, timeout=30000)
        return window

    yield factory
    for window in windows:
        window.close()
        window.shutdown()
    torch.set_num_threads(threads)


def _random_bundle():
    from attricam.engine.bundle import random_bundle

    return random_bundle(seed=0)
