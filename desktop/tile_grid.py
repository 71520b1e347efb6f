"""The tile grid shared by the live attention grid and the dashboard's attention flow, Qt-free."""

from __future__ import annotations

import math

__all__ = ["fit_tiles"]


def fit_tiles(count: int, width: float, height: float, *, aspect: float, label: float, gap: float) -> tuple[int, float]:
    """(columns, tile width) that make ``count`` tiles largest inside ``width`` x ``height`` pixels.

    Each tile is ``aspect`` (height / width) times as tall as wide, with a ``label`` band below it and
    ``gap`` pixels between tiles; the first column count with the widest tile wins. The width may be
    zero or negative when nothing fits: the caller decides what to do then.
    """
    count = max(count, 1)
    best_cols, best_w = 1, -math.inf
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        w = min(width / cols, (height / rows - label) / aspect) - gap
        if w > best_w:
            best_cols, best_w = cols, w
    return best_cols, best_w
