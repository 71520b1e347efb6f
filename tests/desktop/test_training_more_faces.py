"""The Training tab trains on all the train faces here: the CelebA root plus a second folder of more faces."""

from __future__ import annotations

from PySide6.QtCore import Qt

from attricam.desktop.training_form import default_extra_root


def _type(qtbot, edit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    if text:
        qtbot.keyClicks(edit, text)


def test_the_run_reads_both_folders_and_a_bad_second_one_is_named(qtbot, make_window, celeba_root, tmp_path):
    window = make_window()
    form = window.training.form
    assert form.extra_root.text() == default_extra_root()  # ../shared/celeba-lowres when it is there

    more = tmp_path / "more-faces"
    (more / "img_align_celeba").mkdir(parents=True)
    (more / "list_attr_celeba.txt").write_text("0\n")
    _type(qtbot, form.data_root, str(celeba_root))
    _type(qtbot, form.extra_root, str(more))
    assert form.validate() == ""
    assert form.config().data == (str(celeba_root), str(more))

    _type(qtbot, form.extra_root, str(tmp_path / "missing"))
    assert form.validate().startswith("More faces:")

    _type(qtbot, form.extra_root, "")
    assert form.validate() == "" and form.config().data == (str(celeba_root),)
