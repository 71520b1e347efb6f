"""One CelebA root for the Training and Dashboard tabs: set in one, it shows in the other and is remembered."""

from __future__ import annotations

from PySide6.QtCore import Qt


def _type(qtbot, edit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def test_the_training_and_dashboard_tabs_share_one_celeba_root(qtbot, make_window, settings, celeba_root, tmp_path):
    window = make_window()
    form, dashboard = window.training.form, window.dashboard
    assert form.data_root.text() == dashboard.root_edit.text()

    _type(qtbot, form.data_root, str(celeba_root))
    assert dashboard.root_edit.text() == str(celeba_root)
    elsewhere = tmp_path / "celeba-copy"
    (elsewhere / "img_align_celeba").mkdir(parents=True)
    _type(qtbot, dashboard.root_edit, str(elsewhere))
    assert form.data_root.text() == str(elsewhere)
    window.close()

    again = make_window(app_settings=settings)
    assert again.training.form.data_root.text() == again.dashboard.root_edit.text() == str(elsewhere)


def test_a_root_kept_by_an_older_version_is_read_by_both_tabs(qtbot, make_window, settings, celeba_root):
    settings.set_value("dashboard/data_root", str(celeba_root))  # what the Dashboard alone remembered before
    window = make_window()
    assert window.training.form.data_root.text() == window.dashboard.root_edit.text() == str(celeba_root)
