"""The desktop app's last resort: an exception that escapes a slot or a thread is one line, not a traceback.

PySide6 hands an exception raised in a slot to ``sys.excepthook`` (Python's prints the traceback
and the app runs on); a worker thread's goes to ``threading.excepthook``. Both are replaced while
the app runs: the traceback goes to a log file (:func:`attricam.engine.crash_log.crash_line`), stderr
gets one line naming it, and with a display the first such error of the session is also shown in
a message box (later ones are only logged, so an error in a 30 fps timer cannot stack up dialogs).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from types import TracebackType

from attricam.engine.crash_log import crash_line

__all__ = ["install_crash_handler"]


def install_crash_handler(*, show_dialog: bool) -> Callable[[], None]:
    """Install the hooks; returns the function that puts the previous ones back."""
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook
    shown = {"dialog": False}

    def report(exc: BaseException) -> None:
        line = crash_line("attricam", exc)
        print(line, file=sys.stderr)
        if show_dialog and not shown["dialog"] and threading.current_thread() is threading.main_thread():
            shown["dialog"] = True
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.critical(None, "AttriCam: internal error", f"{line}\n\nThe app keeps running.")

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous_hook(kind, exc, tb)
            return
        report(exc.with_traceback(tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            previous_thread_hook(args)
            return
        report(args.exc_value.with_traceback(args.exc_traceback))

    sys.excepthook, threading.excepthook = hook, thread_hook

    def restore() -> None:
        sys.excepthook, threading.excepthook = previous_hook, previous_thread_hook

    return restore
