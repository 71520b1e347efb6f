"""Stepping a paused video with → never blinks a face out and back in (issue 21, defect 11), in the window, with
the live pipeline the app runs (background search on its own thread)."""

from __future__ import annotations

import pytest

from attricam.training.config import shared_data_dir

from .helpers import wait_for_packet

REAL_PHOTOS = shared_data_dir("real-photos")


def test_stepping_a_shot_of_turned_faces_with_the_arrow_key_never_blinks_a_face(
    qtbot, settings, no_cameras, celeba_root, tmp_path
):
    from PySide6.QtCore import Qt

    from attricam.desktop.live_worker import LiveWorker
    from attricam.desktop.main_window import MainWindow
    from attricam.desktop.sources import SourceSpec
    from attricam.engine.bundle import random_bundle
    from attricam.engine.pipeline import FacePipeline, PipelineSettings
    from tests.fixtures.real_clip import Scene, make_real_clip

    if not (REAL_PHOTOS / "2008_002079.jpg").is_file():
        pytest.skip(f"{REAL_PHOTOS}: real photos not found")
    scene = Scene("2008_002079.jpg", (0.5, 0.5, 1.0), (0.52, 0.45, 0.85), 60)  # a man half out of the picture
    clip = make_real_clip(tmp_path / "turned.avi", REAL_PHOTOS, celeba_root, scenes=(scene,))
    pipeline = FacePipeline(
        random_bundle(seed=0), PipelineSettings(device="cpu", background_detection=True, second_opinion=False)
    )
    window = MainWindow(
        settings, worker=LiveWorker(lambda: pipeline), initial_source=SourceSpec("video", paths=(str(clip),))
    )
    window.training.ask_before_close = False
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    try:
        live = window.live
        wait_for_packet(qtbot, window, lambda p: p.video_frame is not None)
        live.video.setFocus()
        qtbot.keyClick(live.video, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: live.paused, timeout=10000)
        live.seek(34)
        wait_for_packet(qtbot, window, lambda p: p.video_frame is not None and p.video_frame[0] == 35)
        shown: list[dict[int, bool]] = []
        for number in range(36, 60):
            assert pipeline.wait_for_detection(30)  # a person's pace: the search answers before the next press
            qtbot.keyClick(live.video, Qt.Key.Key_Right)
            packet = wait_for_packet(qtbot, window, lambda p, n=number: p.video_frame[0] == n)
            shown.append({face.face_id: face.held for face in packet.result.faces})
    finally:
        window.close()
        window.shutdown()
    blinks = [
        (36 + t, face_id)
        for t in range(1, len(shown))
        for face_id in set(shown[t - 1]) - set(shown[t])
        if any(face_id in later for later in shown[t + 1 : t + 4])
    ]
    assert blinks == [], shown  # before: the man at the edge went ##..#. around frame 53
    assert any(held for frame in shown for held in frame.values()), "no face was held: nothing was stepped over"
