"""Where the renderer puts each face's attribute panel: beside its face, over no face and no other panel.

A group photo has faces side by side, so "right of the box, else left" put panels on top of the next
face and of each other. Here every candidate spot around the face (right, left, above, below, then
anywhere on the frame, nearest first) is checked against all face boxes (with their id labels) and the
panels already placed; the nearest free spot wins. When no spot is free the caller retries with a shorter
panel (fewer rows); only if even one row fits nowhere is the least-covering spot used.

A face is more than its detector box: MTCNN's box runs from the brows to the chin, and hair and ears stand
out of it. Panels keep clear of the head (:func:`head_box`) where the frame leaves room, so a panel never
butts against someone's hair; the tight box is only the fallback in a crowded frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "HEAD_MARGIN",
    "LABEL_HEIGHT",
    "PanelMemory",
    "PanelSlot",
    "PlacedPanel",
    "Rect",
    "covered_pixels",
    "face_obstacles",
    "follow_box",
    "head_box",
    "offset_from_box",
    "place_panel",
]

Rect = tuple[int, int, int, int]  # x, y, width, height

_GAP = 6
_STEP = 6
LABEL_HEIGHT = 18
"""Height of the "#id score" label drawn above each box: it must stay readable too."""
HEAD_MARGIN = 0.25
"""Hair and ears around a detector box: this fraction of its width each side and of its height on top."""


@dataclass(frozen=True)
class PanelSlot:
    x: int
    y: int
    width: int
    height: int
    covers: int
    """Pixels of faces or other panels under this slot (0 when the layout succeeded)."""

    @property
    def rect(self) -> Rect:
        return self.x, self.y, self.width, self.height


@dataclass(frozen=True)
class PlacedPanel:
    """Where a face's panel went, relative to its box, and in which form."""

    offset: tuple[float, float]
    """Panel's top-left corner minus the box's, in box widths and heights: the panel scales with the face."""
    rows: int
    compact: bool


@dataclass
class PanelMemory:
    """The panels of the previous live frame, so that a steady scene keeps them still and skips the search.

    Each panel follows its face's box while it still covers no face, label, other panel or kept-clear rect.
    A face joining or leaving, a panel that would cover something, or every ``refresh_every`` frames runs
    the full search again: a compromise made for a crowd (compact form, fewer rows) outlives it by at most
    that many frames. The search costs ~10 ms for four faces on a 2-core CPU; following, well under 1 ms.
    """

    refresh_every: int = 30
    placed: dict[int, PlacedPanel] = field(default_factory=dict)
    """Face id -> its panel in the last frame laid out."""
    followed: int = 0
    """Frames since the last full search."""
    attempt: int = 0
    """Which of the layout's attempts (fuller forms first) the last search settled on. A search while the
    same people are in view starts there: in a crowd, the fuller forms it skips failed a moment ago."""

    @property
    def refresh_due(self) -> bool:
        """This frame runs the full search whatever the panels could do."""
        return self.followed + 1 >= self.refresh_every

    def forget(self) -> None:
        """Lay the next frame out from scratch (the source changed)."""
        self.placed.clear()
        self.followed = self.attempt = 0


def follow_box(box: np.ndarray, placed: PlacedPanel) -> tuple[int, int]:
    """Top-left corner of ``placed``'s panel for the face now at ``box``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return round(x1 + placed.offset[0] * max(x2 - x1, 1.0)), round(y1 + placed.offset[1] * max(y2 - y1, 1.0))


def offset_from_box(box: np.ndarray, corner: tuple[int, int]) -> tuple[float, float]:
    """Inverse of :func:`follow_box`."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return (corner[0] - x1) / max(x2 - x1, 1.0), (corner[1] - y1) / max(y2 - y1, 1.0)


def head_box(box: np.ndarray, margin: float = HEAD_MARGIN) -> np.ndarray:
    """The detector ``box`` (x1, y1, x2, y2) grown to the whole head: ``margin`` of its width left and right,
    of its height on top (hair); the chin stays where it is."""
    x1, y1, x2, y2 = (float(v) for v in box)
    dx, dy = margin * (x2 - x1), margin * (y2 - y1)
    return np.array([x1 - dx, y1 - dy, x2 + dx, y2], np.float32)


def face_obstacles(boxes: list[np.ndarray], label_widths: list[int] | None = None) -> list[Rect]:
    """Face boxes (x1, y1, x2, y2) as rects, grown upwards (and rightwards, for a small face) by the
    "#id score" label drawn above each."""
    rects = []
    for i, box in enumerate(boxes):
        x1, y1, x2, y2 = (round(float(v)) for v in box)
        width = max(x2 - x1 + 2, label_widths[i] if label_widths else 0)
        rects.append((x1 - 1, y1 - LABEL_HEIGHT, width, y2 - y1 + LABEL_HEIGHT + 1))
    return rects


def _candidates(box: np.ndarray, size: tuple[int, int], canvas: tuple[int, int], *, grid: bool = True) -> np.ndarray:
    """Top-left corners (N, 2) to try, nearest first: around the box, then (``grid``) all over the canvas."""
    width, height = canvas
    pw, ph = size
    x1, y1, x2, y2 = (round(float(v)) for v in box)
    y1 -= LABEL_HEIGHT
    along_y = np.arange(y1 - ph + _STEP, y2, _STEP)
    along_x = np.arange(x1 - pw + _STEP, x2, _STEP)
    ring = [
        np.stack([np.full_like(along_y, x2 + _GAP), along_y], 1),  # right
        np.stack([np.full_like(along_y, x1 - _GAP - pw), along_y], 1),  # left
        np.stack([along_x, np.full_like(along_x, y1 - _GAP - ph)], 1),  # above
        np.stack([along_x, np.full_like(along_x, y2 + _GAP)], 1),  # below
    ]
    if grid:
        gx, gy = np.meshgrid(
            np.arange(0, max(width - pw, 0) + 1, 2 * _STEP), np.arange(0, max(height - ph, 0) + 1, 2 * _STEP)
        )
        ring.append(np.stack([gx.ravel(), gy.ravel()], 1))
    corners = np.concatenate([*ring, [[x2 + _GAP, y1]]]).astype(np.int64)
    x, y = corners[:, 0], corners[:, 1]
    inside = (x >= 0) & (y >= 0) & (x + pw <= width) & (y + ph <= height)
    corners = corners[inside]
    if not len(corners):  # the panel is larger than the canvas: pin it to the top-left
        return np.zeros((1, 2), np.int64)
    # nearest first: the gap between panel and box, then how far the panel's top is from the box's top
    dx = np.maximum(np.maximum(x1 - (corners[:, 0] + pw), corners[:, 0] - x2), 0)
    dy = np.maximum(np.maximum(y1 - (corners[:, 1] + ph), corners[:, 1] - y2), 0)
    cost = np.hypot(dx, dy) * 4 + np.abs(corners[:, 1] - y1) * 0.5 + (corners[:, 0] < x1) * 2
    return corners[np.argsort(cost, kind="stable")]


def covered_pixels(corners: np.ndarray, size: tuple[int, int], obstacles: list[Rect]) -> np.ndarray:
    """Pixels of ``obstacles`` each candidate panel would cover: (N,) int64."""
    if not obstacles:
        return np.zeros(len(corners), np.int64)
    pw, ph = size
    obs = np.asarray(obstacles, np.int64)  # (M, 4)
    ox0, oy0 = obs[:, 0][None], obs[:, 1][None]
    ox1, oy1 = ox0 + obs[:, 2][None], oy0 + obs[:, 3][None]
    cx0, cy0 = corners[:, :1], corners[:, 1:]
    w = np.clip(np.minimum(cx0 + pw, ox1) - np.maximum(cx0, ox0), 0, None)
    h = np.clip(np.minimum(cy0 + ph, oy1) - np.maximum(cy0, oy0), 0, None)
    covered: np.ndarray = (w * h).sum(axis=1)
    return covered


def place_panel(box: np.ndarray, size: tuple[int, int], canvas: tuple[int, int], obstacles: list[Rect]) -> PanelSlot:
    """The nearest spot for a ``size`` (w, h) panel of the face ``box`` that covers none of ``obstacles``;
    when every spot covers something, the one covering least (``covers`` > 0 tells the caller).

    The ring around the box is tried first (~100 spots); the grid over the whole canvas (~1,600 spots at
    640x360) only when no spot beside the box is free: the layout runs on every live frame."""
    corners = _candidates(box, size, canvas, grid=False)
    covered = covered_pixels(corners, size, obstacles)
    if not (covered == 0).any():
        corners = _candidates(box, size, canvas)
        covered = covered_pixels(corners, size, obstacles)
    free = np.flatnonzero(covered == 0)
    best = int(free[0]) if len(free) else int(np.argmin(covered))
    x, y = (int(v) for v in corners[best])
    return PanelSlot(x, y, size[0], size[1], int(covered[best]))
