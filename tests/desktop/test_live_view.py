"""The live view as a person uses it (issue 21): selection that follows the person, one frame index everywhere,
seek clicks, the end of a clip, toasts, a busy sign for slow stills, a window that fits 1280x720, relaunch."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from .helpers import drop_files, settle, wait_for_packet


def _numbered_clip(path, frames: int = 40, fps: float = 25.0):
    """A small MJPG clip whose frame k is a flat grey of brightness 5*k (so a frame names its own index)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 120))
    for k in range(frames):
        writer.write(np.full((120, 160, 3), 5 * k, np.uint8))
    writer.release()
    return path


def _brightness_index(frame) -> int:
    return round(float(frame.mean()) / 5.0)


def _crossing_clip(path, faces, frames: int = 8):
    """Two real faces side by side; the left one shrinks and the right one grows (they cross at frame 3), so a
    track restart after frame 3 numbers them the other way round (ids go largest first)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (640, 400))
    for k in range(frames):
        j = k % 14 if k % 14 < 8 else 14 - k % 14  # longer clips swing back and forth
        canvas = np.full((400, 640, 3), 128, np.uint8)
        for face, centre, scale in ((faces[0], 160, 1.5 - 0.1 * j), (faces[1], 480, 0.9 + 0.1 * j)):
            w, h = int(178 * scale), int(218 * scale)
            tile = cv2.resize(face, (w, h))
            x, y = centre - w // 2, 200 - h // 2
            canvas[y : y + h, x : x + w] = tile
        writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def _selected_centre_x(live) -> float:
    face = live.packet.result.face(live.selected_face)
    return float(face.box[0] + face.box[2]) / 2


def _assert_one_frame(live) -> None:
    """Toolbar, seek bar, HUD, face list and attribute panel all describe the packet on screen."""
    packet = live.packet
    assert live.panel_serial == packet.serial, "the panels show an older frame than the picture"
    assert live.source_bar.position.text().startswith(packet.position)
    assert packet.position in live.video.hud[0]
    if packet.video_frame is not None:
        assert live.source_bar.seek_slider.value() == packet.video_frame[0] - 1
    ids = [f.face_id for f in packet.result.faces]
    assert [live.face_list.item(i).text().split()[1] for i in range(live.face_list.count())] == [f"#{i}" for i in ids]
    face = packet.result.face(live.selected_face) if live.selected_face is not None else None
    if face is None:
        assert live.attributes.bars.probabilities is None
    else:
        np.testing.assert_array_equal(live.attributes.bars.probabilities, face.probabilities)
        assert f"{int(face.decisions.sum())} positive" in live.attributes.title.text()


def test_selection_follows_the_person_when_stepping_back_and_forth(qtbot, make_window, celeba_faces, tmp_path):
    from PySide6.QtCore import Qt

    from attricam.desktop.sources import SourceSpec

    clip = _crossing_clip(tmp_path / "cross.avi", celeba_faces)
    window = make_window(SourceSpec("video", paths=(str(clip),)))
    live = window.live
    wait_for_packet(qtbot, window, lambda p: p.video_frame is not None)
    live.set_paused(True)
    live.seek(1)  # frame 2: the left face is the larger one, so it is #0 and the right one #1
    qtbot.waitUntil(lambda: not live.busy and live.packet.video_frame[0] == 2, timeout=30000)
    assert len(live.packet.result.faces) == 2
    left = min(live.packet.result.faces, key=lambda f: f.box[0])
    assert left.face_id == 0
    live.video.setFocus()
    for number in (3, 4, 5, 6):  # tracked forward: ids stay, although the right face is the larger one now
        qtbot.keyClick(live.video, Qt.Key.Key_Right)
        wait_for_packet(qtbot, window, lambda p, n=number: p.video_frame[0] == n and len(p.result.faces) == 2)
    right = max(live.packet.result.faces, key=lambda f: f.box[0])
    assert right.face_id == 1
    live.select_face(right.face_id)  # Michelle, say
    assert _selected_centre_x(live) > 320

    qtbot.keyClick(live.video, Qt.Key.Key_Left)  # frame 5: tracks restart, the right face is #0 now
    packet = wait_for_packet(qtbot, window, lambda p: p.video_frame[0] == 5 and len(p.result.faces) == 2)
    assert max(packet.result.faces, key=lambda f: f.box[0]).face_id == 0, "the clip no longer renumbers"
    qtbot.waitUntil(lambda: live.selected_face == 0, timeout=5000)
    assert _selected_centre_x(live) > 320, "the selection went to the other person"
    qtbot.waitUntil(lambda: live.packet.options.selected_face == 0, timeout=5000)  # the yellow box too
    assert live.face_list.currentRow() == [f.face_id for f in live.packet.result.faces].index(0)
    assert live.attributes.title.text().startswith("Face #0")

    qtbot.keyClick(live.video, Qt.Key.Key_Left)  # frame 4
    wait_for_packet(qtbot, window, lambda p: p.video_frame[0] == 4)
    assert _selected_centre_x(live) > 320
    qtbot.keyClick(live.video, Qt.Key.Key_Right)  # and forward again: frame 5
    wait_for_packet(qtbot, window, lambda p: p.video_frame[0] == 5)
    assert _selected_centre_x(live) > 320
    assert live.packet.options.selected_face == live.selected_face


def test_one_frame_index_everywhere_while_playing_pausing_stepping_and_exporting(
    qtbot, make_window, celeba_faces, settings, tmp_path
):
    from PySide6.QtCore import Qt

    from attricam.desktop.sources import SourceSpec

    clip = _crossing_clip(tmp_path / "cross.avi", celeba_faces, frames=30)
    window = make_window(SourceSpec("video", paths=(str(clip),)))
    live = window.live
    wait_for_packet(qtbot, window, lambda p: p.video_frame is not None and p.video_frame[0] >= 3)
    for _ in range(5):  # playing: the toolbar names the frame the HUD names, not one of 100 ms ago
        wait_for_packet(qtbot, window)
        assert live.source_bar.position.text() == live.packet.position and live.packet.position in live.video.hud[0]
    qtbot.mouseClick(live.source_bar.pause_button, Qt.MouseButton.LeftButton)  # as a person pauses
    assert live.paused and "PAUSED" in live.video.hud[0]
    assert "fps shown" not in live.video.hud[1], "the HUD quotes a rate while nothing plays"
    _assert_one_frame(live)  # right after pausing,
    settle(qtbot, window)  # and once a frame still in flight arrived
    _assert_one_frame(live)
    live.video.setFocus()
    for _ in range(3):
        qtbot.keyClick(live.video, Qt.Key.Key_Right)
        wait_for_packet(qtbot, window)
        _assert_one_frame(live)
    qtbot.keyClick(live.video, Qt.Key.Key_Left)
    wait_for_packet(qtbot, window)
    _assert_one_frame(live)
    with qtbot.waitSignal(live.worker.snapshotSaved, timeout=20000) as saved:
        qtbot.keyClick(live.video, Qt.Key.Key_S)
    _assert_one_frame(live)
    sidecar = json.loads(Path(saved.args[1]).read_text())
    assert sidecar["video_frame"] == live.packet.video_frame[0]
    assert f"frame {sidecar['video_frame']} " in live.source_bar.position.text() + " "
    assert len(sidecar["faces"]) == live.face_list.count()


def test_a_click_on_the_seek_bar_jumps_to_the_clicked_place(qtbot, make_window, tmp_path):
    from PySide6.QtCore import QPoint, Qt

    from attricam.desktop.sources import SourceSpec

    clip = _numbered_clip(tmp_path / "clip.avi", frames=40)
    window = make_window(SourceSpec("video", paths=(str(clip),)))
    live = window.live
    wait_for_packet(qtbot, window, lambda p: p.video_frame is not None)
    live.set_paused(True)
    slider = live.source_bar.seek_slider
    qtbot.waitUntil(lambda: slider.maximum() == 39, timeout=5000)
    for fraction in (0.75, 0.25):
        x = next(x for x in range(slider.width()) if slider.value_at(x) >= round(39 * fraction))
        seeks = []
        live.source_bar.seekRequested.connect(seeks.append)
        qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(x, slider.height() // 2))
        live.source_bar.seekRequested.disconnect(seeks.append)
        assert seeks == [round(39 * fraction)], "one seek, to the clicked place (not a page step)"
        packet = wait_for_packet(qtbot, window, lambda p, n=seeks[0]: p.video_frame[0] == n + 1)
        assert _brightness_index(packet.frame) == seeks[0]
        assert slider.value() == seeks[0] and live.paused


def test_the_end_of_a_clip_without_loop_says_so_and_space_plays_it_again(qtbot, make_window, tmp_path):
    from PySide6.QtCore import Qt

    from attricam.desktop.sources import SourceSpec

    clip = _numbered_clip(tmp_path / "clip.avi", frames=15)
    window = make_window()
    live = window.live
    qtbot.mouseClick(live.source_bar.loop_button, Qt.MouseButton.LeftButton)
    assert not live.source_bar.loop_button.isChecked()
    live.open_source(SourceSpec("video", paths=(str(clip),)))
    qtbot.waitUntil(lambda: live.session.ended, timeout=20000)
    assert live.paused and live.source_bar.pause_button.text() == "Play again"
    assert live.packet.video_frame == (15, 15) and live.packet.ended
    assert "ENDED" in live.video.hud[0] and "ended" in live.source_bar.position.text()
    assert "End of the video" in live.video.message[0]
    _assert_one_frame(live)
    live.video.setFocus()
    qtbot.keyClick(live.video, Qt.Key.Key_Space)
    wait_for_packet(qtbot, window, lambda p: p.video_frame[0] <= 3)
    assert not live.paused and not live.session.ended
    assert live.source_bar.pause_button.text() == "Pause" and "ENDED" not in live.video.hud[0]
    qtbot.waitUntil(lambda: live.session.ended, timeout=20000)  # and it ends again, once
    qtbot.mouseClick(live.source_bar.pause_button, Qt.MouseButton.LeftButton)  # the button restarts it too
    wait_for_packet(qtbot, window, lambda p: p.video_frame[0] <= 3)
    assert not live.paused


def test_an_error_toast_over_a_still_goes_away(qtbot, make_window, celeba_face_paths, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt

    monkeypatch.setattr("attricam.desktop.live_notices._ERROR_MS", 400)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    window = make_window()
    live = window.live
    drop_files(window, [celeba_face_paths[0], broken])
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (0, 2))
    live.video.setFocus()
    qtbot.keyClick(live.video, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: live.video.message[1] == "error" and "broken.jpg" in live.video.message[0], timeout=10000)
    assert live.packet.filmstrip == (0, 2)  # the valid image stays on screen under the toast
    live.select_attribute(3)  # drawn again: its packet still names the picture on screen, not the broken file
    packet = wait_for_packet(qtbot, window, lambda p: p.options.attribute == 3)
    assert packet.filmstrip == (0, 2) and packet.source_path == str(celeba_face_paths[0].resolve())
    assert live.source_bar.position.text().startswith("1 / 2")
    qtbot.waitUntil(lambda: live.video.message[0] == "", timeout=3000)
    assert live.video.has_frame()


def test_a_slow_still_shows_a_busy_sign_and_keys_wait_or_are_refused(
    qtbot, make_window, celeba_face_paths, face_pipeline, monkeypatch
):
    import threading

    from PySide6.QtCore import Qt

    slow_shape = cv2.imread(str(celeba_face_paths[1])).shape
    analyse = face_pipeline.analyze_image
    release = threading.Event()

    def slow(image):
        if image.shape == slow_shape and image.mean() == pytest.approx(slow_mean[0]):
            assert release.wait(30), "the test never let the slow image's analysis finish"
        return analyse(image)

    from attricam.engine.image_io import load_image

    slow_mean = [float(load_image(celeba_face_paths[1]).mean())]
    monkeypatch.setattr(face_pipeline, "analyze_image", slow)
    window = make_window()
    live = window.live
    drop_files(window, celeba_face_paths[:3])
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (0, 3))
    assert not live.busy and live.video.busy == ""
    live.video.setFocus()
    qtbot.keyClick(live.video, Qt.Key.Key_Right)  # the slow one
    qtbot.waitUntil(lambda: celeba_face_paths[1].name in live.video.busy, timeout=10000)
    assert live.video.cursor().shape() == Qt.CursorShape.BusyCursor
    qtbot.keyClick(live.video, Qt.Key.Key_Right)  # refused: it would skip past the slow image
    assert "Still analysing" in live.video.message[0]
    with qtbot.waitSignal(live.worker.snapshotSaved, timeout=20000) as saved:
        qtbot.keyClick(live.video, Qt.Key.Key_S)  # waits, then exports the slow image, not the previous one
        release.set()  # the slow analysis ends only now, with the snapshot waiting for it
    sidecar = json.loads(Path(saved.args[1]).read_text())
    assert sidecar["source_path"] == str(celeba_face_paths[1].resolve())
    assert live.packet.filmstrip == (1, 3) and not live.busy and live.video.busy == ""
    assert live.source_bar.position.text().startswith("2 / 3")
    assert live.video.cursor().shape() != Qt.CursorShape.BusyCursor
    qtbot.keyClick(live.video, Qt.Key.Key_Right)  # accepted again
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (2, 3))


def test_the_window_fits_a_1280x720_screen(qtbot, make_window, celeba_face_paths, tmp_path):
    """Resized to what a 1280x720 screen leaves under a title bar, every tab fits and the Live tab stays usable."""
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QApplication

    window = make_window()
    drop_files(window, celeba_face_paths[:2])
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (0, 2))
    window.resize(1280, 690)
    qtbot.waitUntil(lambda: window.size() == QSize(1280, 690), timeout=5000)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 690, hint
    live = window.live
    assert live.video.height() >= 300 and live.video.width() >= 480
    assert live.attributes.scroll_area.height() >= 150, "the attribute bars are squeezed away"
    bar = live.source_bar
    for button in (bar.open_video, bar.open_images, bar.prev_button, bar.next_button, bar.snapshot_button):
        assert button.isVisible() and bar.rect().contains(button.geometry()), button.text()
    window.grab().save(str(tmp_path / "live-1280x720.png"))
    bar.set_source_kind("video")  # the widest toolbar: a video played from a folder (seek bar, Loop, Back)
    bar.set_back("12 images + 1 video")
    QApplication.processEvents()  # the layout requests these posted, not a wait on the clock
    assert window.width() == 1280 and window.minimumSizeHint().width() <= 1280, window.minimumSizeHint()
    bar.set_back("")
    bar.set_source_kind("images")
    for index in (1, 2):
        window.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        page = window.tabs.currentWidget()
        assert page.height() <= 690 and window.size() == QSize(1280, 690)
        window.grab().save(str(tmp_path / f"tab{index}-1280x720.png"))


def test_a_relaunch_without_camera_shows_the_empty_state_and_offers_the_last_file(
    qtbot, make_window, settings, tmp_path
):
    from PySide6.QtCore import Qt

    from attricam.desktop.sources import SourceSpec

    clip = _numbered_clip(tmp_path / "clip.avi", frames=15)
    settings.last_source = SourceSpec("video", paths=(str(clip),)).to_text()
    window = make_window()
    live = window.live
    qtbot.waitUntil(lambda: live.cameras == [], timeout=10000)
    settle(qtbot, window)  # a clip resumed on the scan's answer would be open by now
    assert live.spec is None and live.packet is None
    assert live.stack.currentWidget() is live.empty_state
    assert live.empty_state.headline.text() == "No camera found"
    reopen = live.empty_state.reopen
    assert reopen.isVisibleTo(live) and reopen.text() == "Reopen clip.avi"
    qtbot.mouseClick(reopen, Qt.MouseButton.LeftButton)
    wait_for_packet(qtbot, window, lambda p: p.video_frame is not None)
    assert live.stack.currentWidget() is live.view_tabs


def test_a_bad_source_with_a_display_opens_the_window_and_says_why(qtbot, make_window, monkeypatch):
    monkeypatch.setattr("attricam.desktop.live_worker.probe_cameras", lambda *a, **k: [0])
    opened = []
    monkeypatch.setattr("attricam.desktop.live_playback.open_source", lambda spec, **_: opened.append(spec))
    window = make_window(window_options={"startup_error": "/videos/nope.mp4: file not found"})
    live = window.live
    qtbot.waitUntil(lambda: live.cameras == [0], timeout=10000)
    settle(qtbot, window)  # every command the scan's answer caused has been applied
    assert opened == [], "a camera replaced the source that was asked for"
    assert live.stack.currentWidget() is live.empty_state
    assert live.empty_state.headline.text() == "This file cannot be read"
    assert "/videos/nope.mp4: file not found" in live.empty_state.hint.text()


def _run_app(tmp_path, *args, config=None):
    import os
    import subprocess
    import sys

    from .test_headless import REPO

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(config)}
    command = [sys.executable, "-m", "attricam.desktop", *args]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("saved_loop", ["true", "false"])
def test_headless_runs_end_with_the_clip_and_ignore_the_saved_gui_state(tmp_path, saved_loop):
    import time

    clip = _numbered_clip(tmp_path / "clip.avi", frames=15)
    config = tmp_path / "config"
    store = config / "AttriCam" / "AttriCam.conf"
    store.parent.mkdir(parents=True)
    store.write_text(f"[live]\nloop={saved_loop}\nlast_source=images:{tmp_path / 'gone.jpg'}\n")
    before = store.read_bytes()
    out = tmp_path / "shot.png"
    started = time.monotonic()
    done = _run_app(
        tmp_path,
        "--source",
        str(clip),
        "--screenshot",
        str(out),
        "--exit-after-frames",
        "500",
        "--timeout",
        "100",
        config=config,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert time.monotonic() - started < 60, "it waited for the time-out instead of ending with the clip"
    assert out.is_file() and store.read_bytes() == before


def test_a_bad_source_without_a_display_exits_at_once_with_the_reason(tmp_path):
    done = _run_app(tmp_path, "--source", str(tmp_path / "nope.mp4"), config=tmp_path / "config")
    assert done.returncode == 2 and "nope.mp4: file not found" in done.stderr


def test_every_key_is_listed_in_help_and_menus_name_their_keys(qtbot, make_window):
    from PySide6.QtGui import QKeySequence

    from attricam.desktop.main_window import SHORTCUTS

    window = make_window()
    listed = " / ".join(k for k, _ in SHORTCUTS)
    for shortcut in window._shortcuts:
        key = shortcut.key().toString()
        assert key.split("+")[-1] in listed, f"{key} missing from Help > Keyboard shortcuts"
    for menu in (a.menu() for a in window.menuBar().actions()):
        for action in menu.actions():
            key = action.shortcut().toString(QKeySequence.SequenceFormat.PortableText)
            if key:
                assert key in listed, f"{action.text()}: {key} missing from Help > Keyboard shortcuts"
    assert window.snapshot_action.text().endswith("\tS")


def test_open_folder_shows_its_videos_too_and_plays_them(qtbot, make_window, celeba_face_paths, tmp_path, monkeypatch):
    import shutil

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    folder = tmp_path / "trip"
    (folder / "clips").mkdir(parents=True)
    shutil.copy(celeba_face_paths[0], folder / "a.jpg")
    shutil.copy(celeba_face_paths[1], folder / "b.jpg")
    _numbered_clip(folder / "clips" / "c.avi", frames=15)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    window = make_window()
    live = window.live
    window.open_folder_action.trigger()  # File > Open folder…
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (0, 3))
    assert live.spec.paths[-1] == str(folder / "clips" / "c.avi")
    live.video.setFocus()
    qtbot.keyClick(live.video, Qt.Key.Key_Right)
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (1, 3))
    qtbot.keyClick(live.video, Qt.Key.Key_Right)
    packet = wait_for_packet(qtbot, window, lambda p: p.filmstrip == (2, 3))
    assert _brightness_index(packet.frame) == 0  # the video's first frame
    assert "c.avi" in live.source_bar.position.text() and "Space plays it" in live.video.hud[0]
    assert live.source_bar.pause_button.isEnabled() and live.source_bar.pause_button.text() == "Play video"
    qtbot.keyClick(live.video, Qt.Key.Key_Space)
    wait_for_packet(qtbot, window, lambda p: p.video_frame is not None and p.video_frame[0] >= 3)
    assert live.spec.kind == "video" and live.source_bar.back_button.isVisible()
    assert live.source_bar.back_button.toolTip() == "Back to 2 images + 1 video (Backspace)"
    qtbot.mouseClick(live.source_bar.back_button, Qt.MouseButton.LeftButton)
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (2, 3))
    assert live.spec.kind == "images" and not live.source_bar.back_button.isVisible()
    qtbot.mouseClick(live.source_bar.pause_button, Qt.MouseButton.LeftButton)  # the button plays it too
    wait_for_packet(qtbot, window, lambda p: p.video_frame is not None)
    qtbot.keyClick(live.video, Qt.Key.Key_Backspace)
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (2, 3))


def _label_height_on_screen(packet) -> int:
    """Rows of the black id-label box above the first face, in the pixels of the picture on screen."""
    scale = packet.annotated.shape[1] / packet.frame.shape[1]
    face = packet.result.faces[0]
    x, top = int(face.box[0] * scale) + 1, int(face.box[1] * scale)
    column = packet.annotated[max(top - 40, 0) : top + 1, x]
    black = (column.max(axis=1) == 0)[::-1]  # from the box's top edge upwards
    start = int(np.argmax(black))
    return int(np.argmin(black[start:])) if black.any() else 0


def test_id_labels_are_the_same_size_on_screen_for_a_tiny_and_a_huge_image(qtbot, make_window, celeba_faces, tmp_path):
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), cv2.cvtColor(celeba_faces[0], cv2.COLOR_RGB2BGR))  # 178 x 218, shown ~3x larger
    huge = np.full((2333, 1434, 3), 120, np.uint8)
    huge[500:1724, 220:1220] = cv2.resize(celeba_faces[1], (1000, 1224))  # shown at about a quarter
    large = tmp_path / "large.png"
    cv2.imwrite(str(large), cv2.cvtColor(huge, cv2.COLOR_RGB2BGR))
    window = make_window()
    live = window.live
    drop_files(window, [small, large])
    heights = []
    for index in (0, 1):
        if index:
            live.step(1)
        packet = wait_for_packet(qtbot, window, lambda p, i=index: p.filmstrip == (i, 2) and len(p.result.faces) >= 1)
        view_w, view_h = live.video.device_size()
        assert packet.annotated.shape[1] <= view_w and packet.annotated.shape[0] <= view_h  # drawn at screen size
        heights.append(_label_height_on_screen(packet))
    assert 12 <= heights[0] <= 24 and abs(heights[0] - heights[1]) <= 1, heights
    # the snapshot is still drawn on the image itself, like `attricam analyze --annotate`
    assert live.packet.frame.shape[:2] == (2333, 1434)


def test_bars_on_the_video_keep_off_the_hud(qtbot, make_window, celeba_faces, tmp_path):
    from attricam.desktop.screen_render import render_for_view

    canvas = np.full((640, 800, 3), 110, np.uint8)
    for i, (y, x) in enumerate(((0, 10), (300, 10), (300, 300), (300, 580))):  # one face in the top-left corner:
        canvas[y : y + 245, x : x + 200] = cv2.resize(celeba_faces[i % 3], (200, 245))  # its bars go beside it
    path = tmp_path / "row.png"
    cv2.imwrite(str(path), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    window = make_window()
    live = window.live
    live.overlay.bars.setChecked(True)
    drop_files(window, [path])
    wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 2 and p.options.show_bars)
    hud = live.painter.hud_sent
    qtbot.waitUntil(lambda: live.worker._renderer.hud_rect == hud, timeout=5000)
    settle(qtbot, window)  # the frame drawn again once the HUD was known is on screen
    packet, view = live.packet, live.worker._renderer.view_size
    assert hud is not None and hud[2] > 100
    plain, _ = render_for_view(
        packet.frame, packet.result, dataclasses.replace(packet.options, show_bars=False), None, view
    )
    picture = packet.annotated
    ox, oy = (view[0] - picture.shape[1]) // 2, (view[1] - picture.shape[0]) // 2
    x0, y0 = max(hud[0] - ox, 0), max(hud[1] - oy, 0)
    x1, y1 = hud[0] + hud[2] - ox, hud[1] + hud[3] - oy
    assert x1 > x0 and y1 > y0, "the HUD does not cover the picture here"
    assert (picture != plain).any(), "no bars were drawn"
    np.testing.assert_array_equal(picture[y0:y1, x0:x1], plain[y0:y1, x0:x1], "a bar panel lies under the HUD")


def test_the_selection_follows_the_person_when_the_model_is_swapped_on_a_paused_frame(
    qtbot, make_window, celeba_faces, tmp_path
):
    from PySide6.QtCore import Qt

    from attricam.desktop.sources import SourceSpec
    from attricam.engine.bundle import random_bundle

    clip = _crossing_clip(tmp_path / "cross.avi", celeba_faces)
    window = make_window(SourceSpec("video", paths=(str(clip),)))
    live = window.live
    wait_for_packet(qtbot, window, lambda p: p.video_frame is not None)
    live.set_paused(True)
    live.seek(1)
    qtbot.waitUntil(lambda: not live.busy and live.packet.video_frame[0] == 2, timeout=30000)
    live.video.setFocus()
    for number in (3, 4, 5, 6):  # tracked: the left face keeps #0 although the right one is larger now
        qtbot.keyClick(live.video, Qt.Key.Key_Right)
        wait_for_packet(qtbot, window, lambda p, n=number: p.video_frame[0] == n and len(p.result.faces) == 2)
    right = max(live.packet.result.faces, key=lambda f: f.box[0])
    assert right.face_id == 1
    live.select_face(right.face_id)
    live.load_bundle(random_bundle(seed=3))  # the frame is analysed again afresh: the larger (right) face is #0
    wait_for_packet(qtbot, window)
    qtbot.waitUntil(lambda: not live.busy and len(live.packet.result.faces) == 2, timeout=30000)
    qtbot.waitUntil(lambda: max(live.packet.result.faces, key=lambda f: f.box[0]).face_id == 0, timeout=10000)
    assert live.packet.video_frame[0] == 6
    assert _selected_centre_x(live) > 320, "the model swap handed the selection to the other person"
    assert live.attributes.title.text().startswith(f"Face #{live.selected_face}")
