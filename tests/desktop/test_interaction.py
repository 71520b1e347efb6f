"""Interaction defects a user hit: keys that went to the wrong place, stepping, folders, models, stale panels."""

from __future__ import annotations

from engine.attributes import attribute_index


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
