"""argparse ``type=`` converters that refuse nonsense at the command line, before any work starts.

``--batch 0`` or ``--lr nan`` used to pass argparse and fail minutes later deep inside
the trainer with a traceback; ``bench --frames 0`` divided by zero. These converters
raise :class:`argparse.ArgumentTypeError`, which argparse turns into one line and exit 2.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``attricam train: error: argument --batch: ...``), exit 2.

    Subparsers made from it are of the same class, so every subcommand answers the same way.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


__all__ = ["OneLineParser", "bounded_float", "bounded_int", "non_negative_int", "positive_int", "size_wxh"]


def bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer in ``[low, high]`` (no upper bound when ``high`` is None)."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            span = f">= {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"must be {span}, got {value}")
        return value

    convert.__name__ = "integer"  # argparse names the converter in its own messages
    return convert


positive_int = bounded_int(1)
non_negative_int = bounded_int(0)


def bounded_float(low: float, high: float | None = None, *, low_open: bool = False) -> Callable[[str], float]:
    """A finite number in ``[low, high]`` (``(low, high]`` with ``low_open``); nan and inf are refused."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
        too_low = value <= low if low_open else value < low
        if too_low or (high is not None and value > high):
            lower = f"> {low:g}" if low_open else f">= {low:g}"
            span = lower if high is None else f"{lower} and <= {high:g}"
            raise argparse.ArgumentTypeError(f"must be {span}, got {text}")
        return value

    convert.__name__ = "number"
    return convert


def size_wxh(text: str) -> tuple[int, int]:
    """``640x480`` -> (640, 480): a window or camera size, each side 1..16384 px."""
    width, sep, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        size = (0, 0)
    if not sep or not all(1 <= side <= 16384 for side in size):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x480, got {text!r}")
    return size
