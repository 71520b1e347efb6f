"""The live tab end to end on real CelebA faces: empty state, drops, overlays, export, settings."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from attricam.engine.attributes import attribute_index

from .helpers import drop_files, settle, wait_for_packet


def test_window_without_camera_shows_empty_state(qtbot, make_window):
    window = make_window()
    live = window.live
    qtbot.waitUntil(lambda: live.empty_state.headline.text() == "No camera found", timeout=10000)
    assert live.stack.currentWidget() is live.empty_state
    assert live.empty_state.isVisible()
    assert "drop" in live.empty_state.hint.text().lower() and "open" in live.empty_state.hint.text().lower()
    assert not live.source_bar.camera_box.isEnabled()
    assert "UNTRAINED" in window.model_label.text()


def test_dropping_an_image_analyses_it(qtbot, make_window, celeba_face_paths):
    window = make_window()
    drop_files(window, [celeba_face_paths[0]])
    packet = wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    live = window.live
    assert live.stack.currentWidget() is live.view_tabs
    assert live.selected_face == packet.result.faces[0].face_id
    assert live.attributes.bars.probabilities is not None
    assert "Face #" in live.attributes.title.text()
    assert "UNTRAINED" in live.video.model_warning  # the untrained model says so in plain words


def test_several_images_become_a_filmstrip(qtbot, make_window, celeba_face_paths):
    window = make_window()
    drop_files(window, celeba_face_paths[:3])
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (0, 3))
    window.live.step(1)
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (1, 3))
    assert "2 / 3" in window.live.source_bar.position.text()
    window.live.step(-1)
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (0, 3))


def test_dropping_a_broken_file_keeps_the_previous_result(qtbot, make_window, celeba_face_paths, tmp_path):
    window = make_window()
    drop_files(window, [celeba_face_paths[0]])
    first = wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    messages = []
    window.live.message.connect(lambda text, _: messages.append(text))
    drop_files(window, [broken])
    qtbot.waitUntil(lambda: any("broken.jpg" in m for m in messages), timeout=10000)
    settle(qtbot, window)
    assert window.live.packet.result is first.result  # nothing replaced the analysed face
    text, level = window.live.video.message
    assert "broken.jpg" in text and level == "error"
    assert window.live.spec.paths == (str(celeba_face_paths[0]),)


def _overlay_for(qtbot, window, name: str | None):
    index = None if name is None else attribute_index(name)
    if window.live.packet is not None and window.live.packet.options.attribute == index:
        return window.live.packet  # already shown: selecting it again renders nothing new
    window.live.select_attribute(index)
    return wait_for_packet(qtbot, window, lambda p: p.options.attribute == index)


def test_switching_the_overlay_attribute_changes_the_rendered_overlay(qtbot, make_window, celeba_face_paths):
    window = make_window()
    drop_files(window, [celeba_face_paths[0]])
    wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    plain = _overlay_for(qtbot, window, None).annotated.astype(np.int16)
    smiling = _overlay_for(qtbot, window, "Smiling").annotated.astype(np.int16)
    hat = _overlay_for(qtbot, window, "Wearing_Hat").annotated.astype(np.int16)
    assert np.abs(smiling - plain).mean() > 5.0, "the heatmap is not drawn"
    # the overlay fades out towards the edge of the face, where this random model's two maps differ most
    changed = np.abs(hat - smiling).max(axis=2) > 15
    assert changed.mean() > 0.01, f"only {changed.mean():.4f} of the pixels changed between two attributes"
    # the attribute panel follows the overlay and the explorer shows 40 maps of the face
    assert window.live.attributes.bars.selected == attribute_index("Wearing_Hat")
    window.live.toggle_explorer()
    packet = wait_for_packet(qtbot, window, lambda p: p.tiles is not None)
    assert len(packet.tiles) == 40 and packet.tiles[0].shape[2] == 3


def test_arrow_keys_step_through_attributes_in_panel_order(qtbot, make_window, celeba_face_paths):
    window = make_window()
    drop_files(window, [celeba_face_paths[0]])
    wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    window.live.attributes.set_order("name", "rare")
    order = window.live.attributes.bars.visible_attributes()
    window.live.select_attribute(order[0])
    window.live.step_attribute(1)
    assert window.live.overlay.attribute == order[1]
    window.live.step_attribute(-2)
    assert window.live.overlay.attribute == order[-1]


def test_snapshot_writes_png_and_json(qtbot, make_window, celeba_face_paths, settings, tmp_path):
    window = make_window()
    drop_files(window, [celeba_face_paths[0]])
    wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    with qtbot.waitSignal(window.live.worker.snapshotSaved, timeout=10000) as saved:
        window.live.snapshot()
    png, sidecar = saved.args
    assert png.startswith(settings.export_folder)
    image = cv2.imread(png)
    assert image is not None and image.shape[:2] == window.live.packet.frame.shape[:2]
    payload = json.loads(Path(sidecar).read_text())
    assert len(payload["faces"]) == len(window.live.packet.result.faces)
    assert payload["model_trained"] is False and len(payload["faces"][0]["probabilities"]) == 40


def test_snapshot_failing_mid_write_leaves_no_file(qtbot, make_window, celeba_face_paths, settings, monkeypatch):
    import attricam.engine.export
    from attricam.engine.atomic import atomic_path

    def half_then_fail(target, text):
        with atomic_path(target) as tmp:
            tmp.write_text(text[: len(text) // 2])
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(attricam.engine.export, "atomic_write_text", half_then_fail)
    window = make_window()
    drop_files(window, [celeba_face_paths[0]])
    wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    with qtbot.waitSignal(window.live.worker.snapshotFailed, timeout=10000) as failed:
        window.live.snapshot()
    assert "No space left" in failed.args[0]
    from pathlib import Path

    leftovers = (
        sorted(p.name for p in Path(settings.export_folder).glob("*")) if Path(settings.export_folder).exists() else []
    )
    assert leftovers == [], f"partial files left behind: {leftovers}"


def test_settings_survive_a_restart(qtbot, make_window, settings):
    window = make_window()
    window.live.select_attribute(attribute_index("Eyeglasses"))
    window.live.overlay.opacity.setValue(70)
    window.live.attributes.set_order("rarity", "rare")
    window.close()
    again = make_window(app_settings=settings)
    assert again.live.overlay.attribute == attribute_index("Eyeglasses")
    assert again.live.overlay.opacity.value() == 70
    assert (again.live.attributes.sort, again.live.attributes.filter) == ("rarity", "rare")


def test_clicking_a_face_selects_it(qtbot, make_window, celeba_faces, tmp_path):
    from PySide6.QtCore import QPoint, QPointF, Qt

    canvas = np.full((480, 640, 3), 120, np.uint8)
    for x in (40, 360):
        face = cv2.resize(celeba_faces[0] if x == 40 else celeba_faces[1], (240, 294))
        canvas[90:384, x : x + 240] = face
    path = tmp_path / "two.png"
    cv2.imwrite(str(path), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    window = make_window()
    drop_files(window, [path])
    packet = wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 2, timeout=60000)
    video = window.live.video
    target = max(packet.result.faces, key=lambda f: f.box[0])  # the right-hand face
    centre = video.frame_to_widget((target.box[0] + target.box[2]) / 2, (target.box[1] + target.box[3]) / 2)
    point = QPoint(int(centre.x()), int(centre.y()))
    assert video.face_at(QPointF(point)) == target.face_id
    qtbot.mouseClick(video, Qt.MouseButton.LeftButton, pos=point)
    assert window.live.selected_face == target.face_id
    assert window.live.face_list.currentRow() == [f.face_id for f in packet.result.faces].index(target.face_id)


@pytest.mark.slow
def test_video_pause_and_single_step(qtbot, make_window, celeba_root, tmp_path, playback_clock):
    from attricam.desktop.sources import SourceSpec
    from tests.fixtures.demo_clip import make_demo_clip

    clip = make_demo_clip(tmp_path / "clip.avi", celeba_root, frames=40)
    window = make_window(SourceSpec("video", paths=(str(clip),)))
    wait_for_packet(qtbot, window, lambda p: p.result.frame_index >= 3)
    window.live.set_paused(True)
    settle(qtbot, window)  # the frame in flight when Pause was pressed is on screen
    paused_at = window.live.packet.result.frame_index
    playback_clock.advance(0.5)  # 15 frames of a 30 fps clip fall due
    settle(qtbot, window)  # the worker has gone round its loop since: a frame read would be on screen
    assert window.live.packet.result.frame_index == paused_at
    window.live.step(1)
    packet = wait_for_packet(qtbot, window)
    assert packet.result.frame_index == paused_at + 1
    window.live.toggle_pause()
    wait_for_packet(qtbot, window, lambda p: p.result.frame_index > paused_at + 2)


def test_keyboard_shortcuts_on_the_live_tab(qtbot, make_window, celeba_face_paths):
    from PySide6.QtCore import Qt

    window = make_window()
    drop_files(window, celeba_face_paths[:2])
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (0, 2) and len(p.result.faces) >= 1)
    video = window.live.video
    video.setFocus()
    qtbot.keyClick(video, Qt.Key.Key_Right)
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (1, 2))
    qtbot.keyClick(video, Qt.Key.Key_Down)
    first = window.live.attributes.bars.visible_attributes()[0]
    assert window.live.overlay.attribute == first
    qtbot.keyClick(video, Qt.Key.Key_Escape)
    assert window.live.overlay.attribute is None
    qtbot.keyClick(video, Qt.Key.Key_L)
    assert window.live.overlay.landmarks.isChecked()
    with qtbot.waitSignal(window.live.worker.snapshotSaved, timeout=10000):
        qtbot.keyClick(video, Qt.Key.Key_S)
    qtbot.keyClick(video, Qt.Key.Key_G)
    assert window.live.view_tabs.currentWidget() is window.live.explorer
