"""One table of shortcuts: every key Help lists is bound in the window (a key or a menu entry), and nothing else is."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence

from attricam.desktop import shortcuts


def test_every_listed_key_is_bound_and_every_bound_key_is_listed(qtbot, make_window):
    window = make_window()
    portable = QKeySequence.SequenceFormat.PortableText
    bound = {s.key().toString(portable) for s in window._shortcuts}
    for menu in (a.menu() for a in window.menuBar().actions()):
        bound |= {a.shortcut().toString(portable) for a in menu.actions() if not a.shortcut().isEmpty()}
    listed = {QKeySequence(key).toString(portable) for entry in shortcuts.ALL for key in entry.keys}
    assert bound == listed
    assert window.snapshot_action.text().endswith(f"\t{shortcuts.SNAPSHOT.label}")
