"""The live worker's own lifecycle: the background detection thread it starts ends with it."""

from __future__ import annotations

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


def test_stop_joins_the_background_detection_thread(qtbot, face_clip, shared_pipeline):
    """The GUI's pipeline searches in full on its own thread; stopping the worker closes the pipeline, which
    joins that thread (the autouse fixture fails the test on any thread left behind, too)."""
    from attricam.desktop.live_worker import LiveWorker
    from attricam.desktop.sources import SourceSpec

    assert not _detect_threads()
    before = shared_pipeline.settings
    shared_pipeline.update_settings(background_detection=True, full_detect_every=3)
    worker = LiveWorker(lambda: shared_pipeline, realtime=False, scan_cameras=False)
    worker.open_source(SourceSpec("video", paths=(str(face_clip),)))
    worker.start()
    try:
        qtbot.waitUntil(lambda: bool(_detect_threads()), timeout=180000)
    finally:
        worker.stop()
        shared_pipeline.update_settings(
            background_detection=before.background_detection, full_detect_every=before.full_detect_every
        )
    assert not worker.isRunning()
    assert not _detect_threads(), "the attricam-detect thread outlived LiveWorker.stop()"
