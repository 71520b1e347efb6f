"""Wait on a condition while Qt keeps running: for scripts that drive the real window without pytest-qt."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["wait_until"]


def wait_until(app: Any, predicate: Callable[[], bool], timeout: float, poll: float = 0.02) -> bool:
    """Process ``app``'s events until ``predicate()`` holds (True) or ``timeout`` seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if predicate():
            return True
        time.sleep(poll)
    return False
