"""Keeps the window's one-key shortcuts (S, G, L, arrows, Space…) away from widgets that type or pick.

A ``QShortcut`` fires before the focused widget sees the key, so typing "Eyeglasses" into the Attribute
box saved snapshots and toggled the explorer, and Down in an open Layer list changed the attribute. Qt
asks the focus widget first with a ``ShortcutOverride`` event; accepting it hands the key to the widget.
This filter accepts it for text fields, spin boxes, combo boxes and anything inside a popup (an open
combo list), for keys without Ctrl/Alt/Meta, so Ctrl+O and Ctrl+1 still work everywhere.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

__all__ = ["ShortcutGuard", "takes_keys"]

_TYPING_WIDGETS = (QComboBox, QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)
_COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
)


def takes_keys(widget: QObject | None) -> bool:
    """True when ``widget`` (the focus widget) uses plain keys itself: typing, picking from a list."""
    if not isinstance(widget, QWidget):
        return False
    if isinstance(widget, _TYPING_WIDGETS):
        return True
    if widget.window().windowType() == Qt.WindowType.Popup:  # an open combo box list, a menu
        return True
    parent = widget.parentWidget()
    while parent is not None:  # e.g. the line edit or view inside a combo box
        if isinstance(parent, QComboBox):
            return True
        parent = parent.parentWidget()
    return False


class ShortcutGuard(QObject):
    """Application event filter: plain keys go to the focused input widget, not to window shortcuts."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and not (event.modifiers() & _COMMAND_MODIFIERS)
            and takes_keys(watched)
        ):
            event.accept()  # "this widget wants the key": Qt delivers it as a KeyPress, no shortcut fires
        return False
