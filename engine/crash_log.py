"""The last resort: an unexpected error becomes one line for the user and a log file holding its traceback.

A traceback tells a user nothing they can act on and buries the one line that matters; a developer
needs all of it. So the console entry (:mod:`attricam.cli`) and the desktop app's exception hook
(:mod:`attricam.desktop.crash_handler`) both write the traceback to a file and show one line naming it.
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path

__all__ = ["crash_line", "write_crash_log"]


def write_crash_log(exc: BaseException) -> Path | None:
    """The traceback of ``exc`` (with the command line and version) in a new ``attricam-crash-*.log``; None if unwritable."""
    from attricam import __version__

    text = f"attricam {__version__}: {' '.join(map(repr, sys.argv))}\n" + "".join(traceback.format_exception(exc))
    try:
        fd, name = tempfile.mkstemp(prefix="attricam-crash-", suffix=".log")
        with open(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
    except OSError:
        return None
    return Path(name)


def crash_line(prog: str, exc: BaseException) -> str:
    """``prog: internal error: Type: first line of the message (the traceback is in LOG)``, on one line."""
    summary = (str(exc).strip().splitlines() or [""])[0][:300]
    what = f"{type(exc).__name__}: {summary}" if summary else type(exc).__name__
    log = write_crash_log(exc)
    where = f"the traceback is in {log}" if log else "no log file could be written"
    return f"{prog}: internal error: {what} ({where})".replace("\n", " ").replace("\r", " ")
