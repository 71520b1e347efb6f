"""The bar panel drawn beside each face: which rows it shows, where it goes (:func:`layout_panels`, over the
search in :mod:`attricam.engine.panel_layout`) and how it is drawn.

Split from :mod:`attricam.engine.render`, which re-exports :func:`layout_panels`.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .attributes import ATTRIBUTES
from .panel_layout import (
    HEAD_MARGIN,
    LABEL_HEIGHT,
    PanelMemory,
    PlacedPanel,
    Rect,
    covered_pixels,
    face_obstacles,
    follow_box,
    head_box,
    offset_from_box,
    place_panel,
)
from .render_style import BOX_COLOR, FONT, SELECTED_COLOR, TIER_COLORS, RenderOptions, label_width
from .results import FaceResult, FrameResult

__all__ = [
    "NAME_CHARS",
    "draw_attribute_panel",
    "face_label",
    "face_label_width",
    "layout_panels",
    "panel_width",
]


def _panel_rows(face: FaceResult, options: RenderOptions) -> list[int]:
    """Positives first (most probable on top), then the overlay attribute."""
    shown = options.shown_positive(face)
    order = [int(i) for i in np.argsort(-face.probabilities) if shown[i]][: options.top_k]
    if options.attribute is not None and options.attribute not in order:
        order.append(options.attribute)
    return order or [int(np.argmax(face.probabilities))]


_ROW_H, _BAR_W, _ROW_SCALE = 15, 60, 0.36


def layout_panels(
    result: FrameResult,
    options: RenderOptions,
    canvas_size: tuple[int, int],
    keep_clear: Sequence[Rect] = (),
    memory: PanelMemory | None = None,
) -> list[tuple[Rect, list[int]]]:
    """Each face's panel rect and rows, in face order, over no face, id label, other panel or ``keep_clear``
    rect (the HUD), see :mod:`attricam.engine.panel_layout`.

    Panels keep clear of each whole head (hair, ears) when that costs no row, else of the detector boxes, else
    they take their compact form (shorter names and bars). Only then, in a crowded frame, does every compact
    panel drop its least probable rows, the same number for all faces so the panels stay comparable, until
    all fit; a panel that fits nowhere even as one compact row covers the least it can. With a ``memory``
    (live video), panels that can follow their faces from the previous frame do, and the search is skipped.
    """
    faces = result.faces
    orders = [_panel_rows(face, options) for face in faces]
    most = max((len(o) for o in orders), default=0)
    if most == 0:  # no face, nothing to lay out
        if memory is not None:
            memory.forget()
        return []
    labels = [face_label_width(f) for f in faces]
    boxes = [f.box for f in faces]
    around_boxes = (boxes, face_obstacles(boxes, labels) + list(keep_clear))
    if memory is not None and (followed := _follow(memory, faces, orders, options, canvas_size, around_boxes[1])):
        return followed
    heads = [head_box(f.box, HEAD_MARGIN) for f in faces]
    around_heads = (heads, face_obstacles(heads) + around_boxes[1])  # a wide id label can stick out of a head
    # Clear of heads and the full form are tried with every row only; a frame too crowded for that drops rows
    # in the compact form (the one most likely to fit), so a crowded live frame lays out in ~most + 2 tries.
    attempts = [(most, around_heads, False), (most, around_boxes, False)]
    attempts += [(rows, around_boxes, True) for rows in range(most, 0, -1)]
    first = 0
    if memory is not None and not memory.refresh_due and memory.placed.keys() & {f.face_id for f in faces}:
        first = min(memory.attempt, len(attempts) - 1)  # the same people as a moment ago: skip what failed then
    for attempt, (rows, (anchors, obstacles), compact) in enumerate(attempts[first:], start=first):
        last = attempt == len(attempts) - 1
        layout = _layout_with_rows(
            faces, anchors, orders, rows, options, canvas_size, obstacles, compact, give_up_on_cover=not last
        )
        if layout is not None and (last or all(covers == 0 for _, _, covers in layout)):
            break
    assert layout is not None  # the last attempt never gives up
    if memory is not None:
        memory.placed = {
            face.face_id: PlacedPanel(offset_from_box(face.box, rect[:2]), rows, compact)
            for face, (rect, _, _) in zip(faces, layout)
        }
        memory.followed, memory.attempt = 0, attempt
    return [(rect, order) for rect, order, _ in layout]


def _rows_kept(order: list[int], rows: int, options: RenderOptions) -> list[int]:
    """The first ``rows`` rows of a panel; the overlay attribute keeps its row."""
    if options.attribute in order and order.index(options.attribute) >= rows:
        order = [*order[: rows - 1], options.attribute]
    return order[:rows]


def _panel_size(face: FaceResult, order: list[int], options: RenderOptions, compact: bool) -> tuple[int, int]:
    return panel_width(face, order, options, compact=compact), _ROW_H * len(order) + 4


def _follow(
    memory: PanelMemory,
    faces: Sequence[FaceResult],
    orders: list[list[int]],
    options: RenderOptions,
    canvas_size: tuple[int, int],
    obstacles: list[Rect],
) -> list[tuple[Rect, list[int]]] | None:
    """The previous frame's panels moved with their faces, or None when that no longer works."""
    if memory.refresh_due or set(memory.placed) != {f.face_id for f in faces}:
        return None
    width, height = canvas_size
    taken: list[Rect] = []
    layout: list[tuple[Rect, list[int]]] = []
    for face, order in zip(faces, orders):
        placed = memory.placed[face.face_id]
        order = _rows_kept(order, placed.rows, options)
        size = _panel_size(face, order, options, placed.compact)
        x, y = follow_box(face.box, placed)
        if size[0] > width or size[1] > height:
            return None
        x, y = min(max(x, 0), width - size[0]), min(max(y, 0), height - size[1])  # a panel at an edge stays there
        if covered_pixels(np.array([[x, y]]), size, obstacles + taken)[0]:
            return None
        taken.append((x, y, *size))
        layout.append(((x, y, *size), order))
    memory.followed += 1
    return layout


def _layout_with_rows(
    faces: Sequence[FaceResult],
    anchors: Sequence[np.ndarray],
    orders: list[list[int]],
    rows: int,
    options: RenderOptions,
    canvas_size: tuple[int, int],
    obstacles: list[Rect],
    compact: bool = False,
    give_up_on_cover: bool = False,
) -> list[tuple[Rect, list[int], float]] | None:
    """Each face's panel rect, rows and covered pixels; None as soon as one panel covers something when
    ``give_up_on_cover`` (that attempt is rejected anyway: in a crowded live frame this skips most searches)."""
    taken: list[Rect] = []
    layout: list[tuple[Rect, list[int], float]] = []
    for face, anchor, order in zip(faces, anchors, orders):
        order = _rows_kept(order, rows, options)
        size = _panel_size(face, order, options, compact)
        slot = place_panel(anchor, size, canvas_size, obstacles + taken)
        if give_up_on_cover and slot.covers:
            return None
        taken.append(slot.rect)
        layout.append((slot.rect, order, slot.covers))
    return layout


NAME_CHARS, _COMPACT_NAME_CHARS, _COMPACT_BAR_W = 17, 10, 30


def _row_text(face: FaceResult, index: int, options: RenderOptions, *, compact: bool = False) -> str:
    mark = "*" if index == options.attribute else ""
    doubt = "" if face.reliable[index] else "?"  # under the reliability bar: a guess, not a reading
    name = ATTRIBUTES[index].name[: _COMPACT_NAME_CHARS if compact else NAME_CHARS]
    return f"{mark}{name}{doubt} {float(face.probabilities[index]):.2f}"


def panel_width(
    face: FaceResult, order: list[int], options: RenderOptions | None = None, *, compact: bool = False
) -> int:
    """Bars, the longest row text and the face's "#id" tag: no wider than its words need."""
    texts = [_row_text(face, i, options or RenderOptions(), compact=compact) for i in order]
    tag = cv2.getTextSize(f"#{face.face_id}", FONT, _ROW_SCALE, 1)[0][0] + 8
    bar = _COMPACT_BAR_W if compact else _BAR_W
    return bar + 10 + max(cv2.getTextSize(t, FONT, _ROW_SCALE, 1)[0][0] for t in texts) + tag


def face_label(face: FaceResult) -> str:
    return f"#{face.face_id} held" if face.held else f"#{face.face_id} {face.score:.2f}"


def face_label_width(face: FaceResult) -> int:
    return label_width(face_label(face))


def draw_attribute_panel(
    canvas: np.ndarray, face: FaceResult, options: RenderOptions, rect: Rect, order: list[int]
) -> None:
    """Small bars, one row per attribute: probability, calibrated threshold tick, rarity colour."""
    px, py, panel_w, panel_h = rect
    compact = panel_w < panel_width(face, order, options)  # the layout chose the short form to fit
    bar_w = _COMPACT_BAR_W if compact else _BAR_W
    panel = canvas[py : py + panel_h, px : px + panel_w]
    panel[:] = (panel.astype(np.float32) * 0.35).astype(np.uint8)
    _connect_panel(canvas, face.box, rect)
    tag = f"#{face.face_id}"  # which face this panel is for, wherever the layout had to put it
    tag_w = cv2.getTextSize(tag, FONT, _ROW_SCALE, 1)[0][0]
    tag_color = SELECTED_COLOR if options.selected_face == face.face_id else BOX_COLOR
    cv2.putText(canvas, tag, (px + panel_w - tag_w - 4, py + _ROW_H - 1), FONT, _ROW_SCALE, tag_color, 1, cv2.LINE_AA)
    for row, index in enumerate(order):
        info = ATTRIBUTES[index]
        y = py + 4 + row * _ROW_H
        p = float(face.probabilities[index])
        color = TIER_COLORS[info.tier]
        cv2.rectangle(canvas, (px + 2, y), (px + 2 + bar_w, y + _ROW_H - 4), (70, 70, 70), -1)
        cv2.rectangle(canvas, (px + 2, y), (px + 2 + int(bar_w * p), y + _ROW_H - 4), color, -1)
        tick = px + 2 + int(bar_w * float(face.thresholds[index]))
        cv2.line(canvas, (tick, y - 1), (tick, y + _ROW_H - 3), (255, 255, 255), 1)
        text_color = (255, 255, 255) if options.shown_positive(face)[index] else (170, 170, 170)
        origin = (px + bar_w + 6, y + _ROW_H - 5)
        text = _row_text(face, index, options, compact=compact)
        cv2.putText(canvas, text, origin, FONT, _ROW_SCALE, text_color, 1, cv2.LINE_AA)


def _connect_panel(canvas: np.ndarray, box: np.ndarray, rect: Rect) -> None:
    """A thin leader line from a panel that had to move away from its face to that face's box."""
    x1, y1, x2, y2 = (float(v) for v in box)
    hx1, hy1, hx2, _ = (float(v) for v in head_box(box))
    px, py, pw, ph = rect
    gap_x = max(hx1 - (px + pw), px - hx2, 0.0)  # beside the head (hair, ears) counts as beside the face
    gap_y = max(min(hy1, y1 - LABEL_HEIGHT) - (py + ph), py - y2, 0.0)
    if max(gap_x, gap_y) <= 10:
        return
    start = (int(np.clip((x1 + x2) / 2, px, px + pw)), int(np.clip((y1 + y2) / 2, py, py + ph)))
    end = (int(np.clip(start[0], x1, x2)), int(np.clip(start[1], y1, y2)))
    cv2.line(canvas, start, end, (230, 230, 230), 1, cv2.LINE_AA)
