"""A camera that disappears mid-stream: message, automatic reconnect, frames again."""

from __future__ import annotations

import cv2
import numpy as np

from .helpers import wait_for_packet


class _FlakyCamera:
    """Stands in for cv2.VideoCapture: the first session dies after 5 frames, the next open fails, then it works."""

    opens = 0
    frame: np.ndarray | None = None

    def __init__(self, index):
        _FlakyCamera.opens += 1
        self.session = _FlakyCamera.opens
        self.reads = 0

    def isOpened(self):
        return self.session != 2

    def set(self, *args):
        return True

    def read(self):
        self.reads += 1
        if self.session == 1 and self.reads > 5:
            return False, None
        return True, cv2.cvtColor(_FlakyCamera.frame, cv2.COLOR_RGB2BGR)

    def release(self):
        pass


def test_camera_lost_mid_stream_reconnects(qtbot, make_window, celeba_faces, monkeypatch):
    from tests.conftest import paste_face

    _FlakyCamera.opens = 0
    _FlakyCamera.frame = paste_face(celeba_faces[0])
    monkeypatch.setattr("attricam.desktop.sources.cv2.VideoCapture", _FlakyCamera)
    monkeypatch.setattr("attricam.desktop.live_worker.probe_cameras", lambda *a, **k: [0])
    monkeypatch.setattr("attricam.desktop.live_playback._RECONNECT_INTERVAL_S", 0.05)
    window = make_window()
    messages = []
    window.live.worker.status.connect(lambda status: messages.append((status.level, status.text)))
    qtbot.waitUntil(lambda: window.live.spec is not None and window.live.spec.kind == "camera", timeout=10000)
    assert window.live.source_bar.camera_box.currentData() == 0
    qtbot.waitUntil(lambda: any("reconnected" in t for _, t in messages), timeout=20000)
    lost = [t for level, t in messages if level == "warning"]
    assert lost and "Camera 0" in lost[0] and "reconnecting" in lost[0]
    assert _FlakyCamera.opens >= 3
    wait_for_packet(qtbot, window)  # frames flow again
