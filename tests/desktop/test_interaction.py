"""Interaction defects a user hit: keys that went to the wrong place, stepping, folders, models, stale panels."""

from __future__ import annotations

from attricam.engine.attributes import attribute_index

from .helpers import drop_files, settle, wait_for_packet


def _open_popup(qtbot, box):
    box.showPopup()
    qtbot.waitUntil(lambda: box.view().isVisible(), timeout=5000)
    view = box.view()
    view.setFocus()
    return view


def test_typing_into_an_open_combo_box_fires_no_shortcut(qtbot, make_window):
    from PySide6.QtCore import Qt

    window = make_window()
    live = window.live
    live.select_attribute(attribute_index("Smiling"))
    fired = []
    live.message.connect(lambda text, _: fired.append(text))  # S without a frame says "Nothing to save yet"
    tab, landmarks = live.view_tabs.currentIndex(), live.overlay.landmarks.isChecked()

    view = _open_popup(qtbot, live.overlay.attribute_box)
    qtbot.keyClicks(view, "Eyeglasses")
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert live.view_tabs.currentIndex() == tab, "G toggled the attention explorer"
    assert live.overlay.landmarks.isChecked() == landmarks, "L toggled the landmarks"
    assert not any("save" in m.lower() for m in fired), "S asked for a snapshot"
    assert not live.paused
    live.overlay.attribute_box.hidePopup()

    view = _open_popup(qtbot, live.overlay.layer_box)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert live.overlay.attribute == attribute_index("Smiling"), "Down in the Layer list changed the attribute"
    live.overlay.layer_box.hidePopup()

    # with the focus back on the video the same keys are shortcuts again
    live.video.setFocus()
    qtbot.keyClick(live.video, Qt.Key.Key_Down)
    assert live.overlay.attribute != attribute_index("Smiling")
    qtbot.keyClick(live.video, Qt.Key.Key_L)
    assert live.overlay.landmarks.isChecked() != landmarks


def test_keys_typed_into_a_focused_closed_combo_box_stay_there(qtbot, make_window):
    from PySide6.QtCore import Qt

    window = make_window()
    live = window.live
    box = live.attributes.sort_box
    box.setFocus()
    qtbot.waitUntil(box.hasFocus, timeout=5000)
    tab = live.view_tabs.currentIndex()
    qtbot.keyClick(box, Qt.Key.Key_G)
    qtbot.keyClick(box, Qt.Key.Key_L)
    assert live.view_tabs.currentIndex() == tab
    assert not live.overlay.landmarks.isChecked()


def _numbered_clip(path, frames: int = 40, fps: float = 25.0):
    """A small MJPG clip whose frame k is a flat grey of brightness 5*k (so a frame names its own index)."""
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 120))
    for k in range(frames):
        writer.write(np.full((120, 160, 3), 5 * k, np.uint8))
    writer.release()
    return path


def _brightness_index(frame) -> int:
    return round(float(frame.mean()) / 5.0)


def test_video_source_single_step_is_one_frame_even_after_a_long_pause(tmp_path, playback_clock):
    from attricam.desktop.sources import SourceSpec, VideoFileSource

    source = VideoFileSource(SourceSpec("video", paths=(str(_numbered_clip(tmp_path / "n.avi")),)))
    try:
        assert _brightness_index(source.read()) == 0
        playback_clock.advance(0.3)  # ~7 frame intervals: paced playback would skip ahead, a step must not
        assert _brightness_index(source.read(paced=False)) == 1
        playback_clock.advance(0.3)
        assert _brightness_index(source.read(paced=False)) == 2
        assert source.frame_number == 3
        source.seek(30)
        assert _brightness_index(source.read(paced=False)) == 30
        source.loop = False
        source.seek(39)
        assert source.read(paced=False) is not None and source.read(paced=False) is None
    finally:
        source.close()


def test_paused_video_steps_one_frame_each_way_and_seeks(qtbot, make_window, tmp_path, playback_clock):
    from PySide6.QtCore import Qt

    from attricam.desktop.sources import SourceSpec

    clip = _numbered_clip(tmp_path / "clip.avi")
    window = make_window(SourceSpec("video", paths=(str(clip),)))
    live = window.live
    wait_for_packet(qtbot, window, lambda p: p.video_frame is not None and p.video_frame[0] >= 3)
    assert live.source_bar.seek_slider.isVisibleTo(live) and live.source_bar.loop_button.isVisibleTo(live)
    live.set_paused(True)
    settle(qtbot, window)
    start = live.packet.video_frame[0]
    assert _brightness_index(live.packet.frame) == start - 1
    live.video.setFocus()
    for expected in (start + 1, start + 2):  # the second press used to jump 16 frames
        playback_clock.advance(0.25)  # time passes between presses: a paced read would skip ahead
        qtbot.keyClick(live.video, Qt.Key.Key_Right)
        packet = wait_for_packet(qtbot, window)
        assert packet.video_frame[0] == expected and _brightness_index(packet.frame) == expected - 1
    qtbot.keyClick(live.video, Qt.Key.Key_Left)
    packet = wait_for_packet(qtbot, window)
    assert packet.video_frame[0] == start + 1 and _brightness_index(packet.frame) == start
    assert f"frame {start + 1} / 40" in live.source_bar.position.text()
    live.source_bar.seekRequested.emit(20)  # what a click on the seek bar sends
    packet = wait_for_packet(qtbot, window)
    assert packet.video_frame == (21, 40) and _brightness_index(packet.frame) == 20
    qtbot.waitUntil(lambda: live.source_bar.seek_slider.value() == 20, timeout=5000)
    assert live.paused


def _photo_folder(tmp_path, celeba_face_paths):
    import shutil

    folder = tmp_path / "photos"
    (folder / "day2").mkdir(parents=True)
    shutil.copy(celeba_face_paths[0], folder / "a.jpg")
    shutil.copy(celeba_face_paths[1], folder / "day2" / "b.jpg")
    (folder / "notes.txt").write_text("not an image")
    (folder / "._a.jpg").write_bytes(b"macOS resource fork")
    return folder


def test_dropping_a_folder_opens_its_images_recursively_and_remembers_it(
    qtbot, make_window, celeba_face_paths, tmp_path
):
    folder = _photo_folder(tmp_path, celeba_face_paths)
    window = make_window()
    drop_files(window, [folder])
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (0, 2))
    assert window.live.spec.paths == (str(folder / "a.jpg"), str(folder / "day2" / "b.jpg"))
    assert window.settings.recent_sources[0] == [str(folder)]
    window._fill_recent_menu()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert texts and texts[0].startswith("photos/")


def test_empty_folder_is_refused_with_a_reason(qtbot, make_window, tmp_path):
    window = make_window()
    (tmp_path / "empty").mkdir()
    assert not window.live.open_paths([str(tmp_path / "empty")])
    assert "folder" in window.live.video.message[0]


def test_source_option_accepts_a_folder(tmp_path, celeba_face_paths):
    import pytest

    from attricam.desktop.app import parse_source

    folder = _photo_folder(tmp_path, celeba_face_paths)
    spec = parse_source(str(folder))
    assert spec.kind == "images" and len(spec.paths) == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images or videos in this folder"):
        parse_source(str(tmp_path / "empty"))


def _saved_bundle(folder, *, seed: int = 1, threshold: float = 0.3):
    """A random bundle with its own thresholds, saved as ``folder/model.pt`` the way a training run saves it."""
    from attricam.engine.bundle import random_bundle

    bundle = random_bundle(seed=seed)
    bundle.thresholds = [threshold] * 40
    folder.mkdir(parents=True, exist_ok=True)
    return bundle.save(folder / "model.pt")


def test_model_menu_loads_a_bundle_from_disk_labelled_by_its_run_folder(qtbot, make_window, tmp_path, monkeypatch):
    path = _saved_bundle(tmp_path / "runs" / "focal-3")
    monkeypatch.setattr(
        "attricam.desktop.model_files.QFileDialog.getOpenFileName", staticmethod(lambda *a, **k: (str(path), ""))
    )
    window = make_window()
    window.open_bundle_dialog()
    qtbot.waitUntil(lambda: "focal-3/model.pt" in window.model_label.text(), timeout=30000)
    assert window.live.bundle.path == path
    assert "focal-3/model.pt" in window.training.live_label.text()

    junk = tmp_path / "notes.pt"
    junk.write_text("not a bundle")
    path = junk
    window.open_bundle_dialog()
    assert "notes.pt" in window.live.video.message[0] and window.live.video.message[1] == "error"


def test_loading_model_message_leaves_the_status_bar_once_the_model_is_there(qtbot, make_window):
    window = make_window()
    qtbot.waitUntil(lambda: not window.statusBar().currentMessage().startswith("Loading model"), timeout=5000)
    assert "model:" in window.model_label.text() and "loading" not in window.model_label.text()


def test_model_swap_while_paused_updates_bars_thresholds_and_hud(qtbot, make_window, celeba_root, tmp_path):
    import numpy as np

    from attricam.desktop.sources import SourceSpec
    from tests.fixtures.demo_clip import make_demo_clip

    clip = make_demo_clip(tmp_path / "clip.avi", celeba_root, frames=20)
    window = make_window(SourceSpec("video", paths=(str(clip),)))
    live = window.live
    wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    live.set_paused(True)
    settle(qtbot, window)
    old = live.packet
    from attricam.engine.bundle import ModelBundle

    bundle = ModelBundle.load(_saved_bundle(tmp_path / "runs" / "asl-1", seed=7, threshold=0.3))
    window._load_bundle(bundle)
    packet = wait_for_packet(qtbot, window, lambda p: p.result.model_name == "model.pt", timeout=30000)
    assert live.paused and packet.video_frame == old.video_frame  # the same frame, analysed by the new model
    face = packet.result.face(live.selected_face)
    qtbot.waitUntil(lambda: live.attributes.bars.probabilities is not None, timeout=5000)
    np.testing.assert_allclose(live.attributes.bars.probabilities, face.probabilities)
    np.testing.assert_allclose(face.thresholds, 0.3)
    assert any("asl-1/model.pt" in line for line in live.video.hud)


def test_face_list_follows_the_face_size_of_the_next_image(qtbot, make_window, celeba_face_paths):
    import dataclasses

    window = make_window()
    drop_files(window, [celeba_face_paths[0]])
    packet = wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    face_list = window.live.face_list
    face = packet.result.faces[0]
    smaller = dataclasses.replace(face, box=face.box * 0.5)
    face_list.set_faces(dataclasses.replace(packet.result, faces=(smaller,)), face.face_id)
    w, h = int(smaller.box[2] - smaller.box[0]), int(smaller.box[3] - smaller.box[1])
    assert f"{w}x{h}px" in face_list.item(0).text()
    assert face_list.currentRow() == 0


def test_load_button_loads_the_last_finished_run_after_another_run_stopped(
    qtbot, settings, celeba_root, tmp_path, monkeypatch
):
    from attricam.desktop.training_tab import TrainingTab
    from attricam.training.events import FinishedEvent, JsonLinesWriter

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    first = _saved_bundle(tmp_path / "runs" / "first")
    writer = JsonLinesWriter(tmp_path / "first.jsonl")
    writer(FinishedEvent(str(first), "", 0, None))
    writer.close()
    tab.watch_events(tmp_path / "first.jsonl")  # the first run finished
    monkeypatch.setattr(tab.job, "start", lambda args: None)  # a second run that never really trains
    tab.form.data_root.setText(str(celeba_root))
    tab.form.out.setText(str(tmp_path / "runs" / "second"))
    assert tab.start()
    tab.job.finished.emit(130, True)  # the second run stopped
    assert tab.load_button.isEnabled()
    with qtbot.waitSignal(tab.loadBundleRequested, timeout=5000) as loaded:
        tab.load_button.click()
    assert loaded.args[0].path == first


def _snapshot_payload(qtbot, window) -> dict:
    import json
    from pathlib import Path

    with qtbot.waitSignal(window.live.worker.snapshotSaved, timeout=10000) as saved:
        window.live.snapshot()
    return json.loads(Path(saved.args[1]).read_text())


def test_snapshot_sidecar_names_the_file_the_overlay_and_the_frame_the_hud_shows(
    qtbot, make_window, celeba_face_paths, tmp_path
):
    from attricam.desktop.sources import SourceSpec

    window = make_window()
    live = window.live
    drop_files(window, celeba_face_paths[:3])
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (0, 3))
    live.step(1)
    wait_for_packet(qtbot, window, lambda p: p.filmstrip == (1, 3))
    live.select_attribute(attribute_index("Eyeglasses"))
    live.overlay.layer_box.setCurrentIndex(live.overlay.layer_box.findData(0))
    live.overlay.head_box.setCurrentIndex(live.overlay.head_box.findData(1))
    live.overlay.opacity.setValue(70)
    live.overlay.colormap_box.setCurrentText("viridis")
    live.overlay.unreliable.click()  # the one toggle that also highlights attributes under the reliability bar
    wait_for_packet(
        qtbot, window, lambda p: p.options.head == 1 and p.options.opacity == 0.7 and p.options.show_unreliable
    )
    payload = _snapshot_payload(qtbot, window)
    assert payload["source"] == celeba_face_paths[1].name
    assert payload["source_path"] == str(celeba_face_paths[1].resolve())
    assert payload["filmstrip"] == {"index": 2, "count": 3}
    assert payload["overlay"] == {
        "attribute": "Eyeglasses",
        "layer": 1,
        "head": 2,
        "opacity": 0.7,
        "colormap": "viridis",
        "show_unreliable": True,
    }
    assert set(payload["reliability"]) <= {"fused", "model_only"}  # the figures behind the bars' ✓ and ? marks
    assert all("unreliable" in face and "second_opinion" in face for face in payload["faces"])

    live.open_source(SourceSpec("video", paths=(str(_numbered_clip(tmp_path / "clip.avi")),)))
    wait_for_packet(qtbot, window, lambda p: p.video_frame is not None and p.video_frame[0] >= 5)
    live.set_paused(True)
    settle(qtbot, window)
    shown = live.packet.video_frame[0]
    assert f"frame {shown} / 40" in live.packet.position  # what the HUD prints
    payload = _snapshot_payload(qtbot, window)
    assert payload["source"] == "clip.avi"
    assert (payload["video_frame"], payload["video_frame_count"], payload["frame_index"]) == (shown, 40, shown - 1)


def test_exported_png_names_layers_one_based(qtbot, make_window, celeba_face_paths, monkeypatch):
    import dataclasses

    import attricam.engine.render
    from attricam.engine.render import RenderOptions, render_frame

    window = make_window()
    drop_files(window, [celeba_face_paths[0]])
    packet = wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    drawn = []
    monkeypatch.setattr(attricam.engine.render, "draw_label", lambda canvas, text, *a, **k: drawn.append(text))
    options = RenderOptions(attribute=attribute_index("Smiling"), layer=0, head=None, show_hud=True)
    render_frame(packet.frame, packet.result, options)
    render_frame(packet.frame, packet.result, dataclasses.replace(options, layer=-1, head=3))
    huds = [t for t in drawn if "attn:" in t]
    assert huds[0].endswith("attn: Smiling L1 mean") and huds[1].endswith("attn: Smiling last layer h4")
    assert options.overlay_settings()["layer"] == 1


def test_empty_state_says_the_file_is_unreadable_not_that_there_is_no_camera(qtbot, make_window, tmp_path):
    from attricam.desktop.sources import SourceSpec

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    window = make_window(SourceSpec("video", paths=(str(broken),)))
    live = window.live
    qtbot.waitUntil(lambda: "cannot be read" in live.empty_state.headline.text(), timeout=10000)
    qtbot.waitUntil(lambda: live.cameras == [], timeout=10000)  # the camera scan answered; it must not overwrite
    settle(qtbot, window)  # the reason, nor may anything the worker still had queued
    assert live.empty_state.headline.text() == "This file cannot be read"
    assert "broken.mp4" in live.empty_state.hint.text() and "not a readable video" in live.empty_state.hint.text()


def test_empty_state_headline_follows_the_status_kind_not_the_words(qtbot, make_window, monkeypatch):
    """A camera or model failure says the source cannot be opened, any other error that the file cannot be read,
    whatever the message's first word."""
    from attricam.desktop.live_protocol import LiveStatus, StatusKind

    monkeypatch.setattr("attricam.desktop.live_worker.probe_cameras", lambda *a, **k: [])
    window = make_window()
    live = window.live
    qtbot.waitUntil(lambda: live.cameras == [], timeout=10000)
    settle(qtbot, window)
    for kind, headline in (
        (StatusKind.CAMERA_ERROR, "This source cannot be opened"),
        (StatusKind.ERROR, "This file cannot be read"),
        (StatusKind.MODEL_ERROR, "This source cannot be opened"),
    ):
        live.worker.status.emit(LiveStatus(kind, "Camera, Model or file: the words do not decide"))
        qtbot.waitUntil(lambda headline=headline: live.empty_state.headline.text() == headline, timeout=5000)


def test_uncommon_filter_sits_between_rare_and_common(qtbot, make_window):
    from attricam.desktop.attribute_bars import ordered_attributes
    from attricam.engine.attributes import ATTRIBUTES, RarityTier

    rare, uncommon, common = (set(ordered_attributes(None, "name", f)) for f in ("rare", "uncommon", "common"))
    assert uncommon == {a.index for a in ATTRIBUTES if a.tier is RarityTier.UNCOMMON}
    assert rare | uncommon | common == set(range(40)) and not (rare & uncommon or uncommon & common)
    window = make_window()
    panel = window.live.attributes
    labels = [b.text() for b in panel.filter_group.buttons()]
    assert labels.index("Uncommon 10–30 %") == labels.index("Rare <10 %") + 1
    panel.set_order("name", "uncommon")
    assert set(panel.bars.visible_attributes()) == uncommon
    assert window.live.explorer.filter_box.currentData() == "uncommon"


def test_help_menu_has_about_with_the_version(qtbot, make_window):
    from attricam import __version__

    window = make_window()
    assert "&About AttriCam" in [a.text() for a in window.help_menu.actions()]
    assert f"AttriCam {__version__}" in window.about_text()


def test_attention_explorer_shows_whole_names_a_legend_and_columns_that_follow_the_width(qtbot):
    import numpy as np
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QFontMetricsF

    from attricam.desktop.attention_grid import AttentionExplorer
    from attricam.engine.attributes import ATTRIBUTES

    explorer = AttentionExplorer()
    qtbot.addWidget(explorer)
    tiles = [np.full((96, 80, 3), 60, np.uint8)] * 40
    explorer.grid.set_tiles(tiles, np.linspace(0, 1, 40, dtype=np.float32), np.arange(40) % 2 == 0)
    columns = {}
    for width in (1400, 900, 420):
        explorer.resize(width, 800)
        explorer.show()
        qtbot.waitUntil(lambda w=width: abs(explorer.width() - w) < 2, timeout=3000)
        explorer.grab()  # paints
        cols, tile_w, _ = explorer.grid.grid_layout()
        columns[width] = cols
        font = QFontMetricsF(explorer.grid._label_font(tile_w))
        for info in ATTRIBUTES:
            box = font.boundingRect(QRectF(0, 0, tile_w, 1000), Qt.TextFlag.TextWordWrap, info.display_name)
            assert box.width() <= tile_w + 0.5 and box.height() <= 2 * font.lineSpacing() + 0.5, info.name
        assert not any("…" in text for text in explorer.grid.drawn_labels)
        assert "Wearing Necklace" in explorer.grid.drawn_labels
    assert columns[1400] > columns[900] > columns[420], columns
    assert "probability" in explorer.legend.text() and "training faces" in explorer.legend.text()
