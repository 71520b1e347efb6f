"""The desktop app's last resort: an exception escaping a slot or a thread is one line naming a log (issue 22)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from attricam.desktop.crash_handler import install_crash_handler


def _log_of(line: str) -> Path:
    return Path(line.split("the traceback is in ", 1)[1].rstrip(")"))


def test_slot_and_thread_exceptions_are_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    before = (sys.excepthook, threading.excepthook)
    restore = install_crash_handler(show_dialog=False)
    try:
        try:
            raise ValueError("a slot failed\nwith a second line")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)  # what PySide6 does with a slot's exception
        worker = threading.Thread(target=lambda: 1 / 0)
        worker.start()
        worker.join()
    finally:
        restore()
    assert (sys.excepthook, threading.excepthook) == before
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("attricam: internal error: ValueError: a slot failed (the traceback is in ")
    assert lines[1].startswith("attricam: internal error: ZeroDivisionError: division by zero (")
    for line in lines:
        log = _log_of(line)
        try:
            assert "Traceback" in log.read_text()
        finally:
            log.unlink()
