"""The live worker's own lifecycle (the background detection thread it starts ends with it) and what its status says."""

from __future__ import annotations

import os
import threading

import cv2
import pytest

from tests.conftest import paste_face


def _detect_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "attricam-detect" and t.is_alive()]


@pytest.fixture
def face_clip(tmp_path, celeba_faces):
    path = tmp_path / "face.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (320, 240))
    for i in range(30):
        frame = paste_face(celeba_faces[0], (320, 240), at=(80 + i % 5, 20), scale=1.0)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def test_stop_joins_the_background_detection_thread(qtbot, face_clip, face_pipeline):
    """The GUI's pipeline searches in full on its own thread; stopping the worker closes the pipeline, which
    joins that thread (the autouse fixture fails the test on any thread left behind, too)."""
    from attricam.desktop.live_worker import LiveWorker
    from attricam.desktop.sources import SourceSpec

    assert not _detect_threads()
    face_pipeline.update_settings(background_detection=True, full_detect_every=3)  # this test's pipeline only
    worker = LiveWorker(lambda: face_pipeline, realtime=False, scan_cameras=False)
    worker.open_source(SourceSpec("video", paths=(str(face_clip),)))
    worker.start()
    try:
        qtbot.waitUntil(lambda: bool(_detect_threads()), timeout=180000)
    finally:
        worker.stop()
    assert not worker.isRunning()
    assert not _detect_threads(), "the attricam-detect thread outlived LiveWorker.stop()"


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="thread niceness is a Linux feature")
def test_analysis_runs_at_a_lower_priority_than_the_gui_thread(qtbot):
    """On two busy cores the GUI thread must win: the worker builds its pipeline (and analyses) niced."""
    from attricam.desktop.live_worker import WORKER_NICE, LiveWorker

    seen = []

    def factory():
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        raise RuntimeError("no pipeline needed here")

    gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = LiveWorker(factory, realtime=False, scan_cameras=False)
    worker.start()
    try:
        qtbot.waitUntil(lambda: bool(seen), timeout=30000)
    finally:
        worker.stop()
    assert WORKER_NICE > 0 and seen == [min(gui + WORKER_NICE, 19)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == gui


class _NoCamera:
    def __init__(self, index):
        pass

    def isOpened(self):
        return False

    def release(self):
        pass


def test_status_says_what_failed_by_its_kind(qtbot, tmp_path, monkeypatch):
    """The Live tab decides how to show a message (the empty page's "file" or "source" headline) by the status
    kind the worker gives it, never by the message's words."""
    from types import SimpleNamespace

    from attricam.desktop.live_protocol import LiveStatus, StatusKind
    from attricam.desktop.live_worker import LiveWorker
    from attricam.desktop.sources import SourceSpec

    monkeypatch.setattr("attricam.desktop.sources.cv2.VideoCapture", _NoCamera)
    seen: list[LiveStatus] = []
    no_model = LiveWorker(lambda: 1 / 0, realtime=False, scan_cameras=False)
    worker = LiveWorker(lambda: SimpleNamespace(bundle=None, close=lambda: None), realtime=False, scan_cameras=False)
    for w in (no_model, worker):
        w.status.connect(seen.append)
    worker.open_source(SourceSpec("video", paths=(str(tmp_path / "gone.mp4"),)))
    worker.open_source(SourceSpec("camera", camera=7))
    try:
        no_model.start()
        qtbot.waitUntil(lambda: any(s.kind is StatusKind.MODEL_ERROR for s in seen), timeout=30000)
        worker.start()
        qtbot.waitUntil(lambda: sum(s.level == "error" for s in seen) == 3, timeout=30000)
    finally:
        no_model.stop()
        worker.stop()
    errors = [(s.kind, s.text) for s in seen if s.level == "error"]
    assert errors[0][0] is StatusKind.MODEL_ERROR and errors[0][1].startswith("Model could not be loaded")
    assert errors[1] == (StatusKind.ERROR, f"{tmp_path / 'gone.mp4'}: video file not found")
    assert errors[2] == (StatusKind.CAMERA_ERROR, "Camera 7 cannot be opened")
