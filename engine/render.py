"""The one renderer of annotated frames, shared by the CLI (``--annotate``), the GUI export and the bench.

Draws, on a copy of the frame: the attention heatmap of one attribute warped
back from the aligned crop onto each face, boxes with face ids, optional
landmarks, a compact attribute panel per face (positives first, with rarity
tags) and a HUD line (model, faces, FPS, latency). :func:`render_comparison` adds, beside the frame, a
second model's answer for the selected face (:mod:`attricam.engine.comparison`): both attention maps of
the overlay attribute and both models' bars, disagreements first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from .attributes import ATTRIBUTES, RarityTier
from .comparison import ModelComparison, disagreement_order
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
from .results import FaceResult, FrameResult

__all__ = [
    "COLORMAPS",
    "TIER_COLORS",
    "COMPARE_COLORS",
    "RenderOptions",
    "attention_crop",
    "attention_heatmap",
    "blend_heatmap",
    "face_mask",
    "heatmap_layers",
    "layout_panels",
    "render_comparison",
    "render_frame",
]

COLORMAPS: dict[str, int] = {
    "jet": cv2.COLORMAP_JET,
    "inferno": cv2.COLORMAP_INFERNO,
    "viridis": cv2.COLORMAP_VIRIDIS,
    "magma": cv2.COLORMAP_MAGMA,
    "turbo": cv2.COLORMAP_TURBO,
    "hot": cv2.COLORMAP_HOT,
}

TIER_COLORS: dict[RarityTier, tuple[int, int, int]] = {  # RGB
    RarityTier.ULTRA_RARE: (230, 60, 200),
    RarityTier.RARE: (240, 130, 40),
    RarityTier.UNCOMMON: (70, 160, 240),
    RarityTier.COMMON: (150, 150, 150),
}
COMPARE_COLORS: tuple[tuple[int, int, int], tuple[int, int, int]] = ((80, 170, 255), (255, 150, 40))  # RGB: A, B
_BOX_COLOR = (40, 220, 120)
_HELD_COLOR = (150, 150, 150)
"""A face the detector missed on this frame, shown where it was a moment ago (``FaceResult.held``)."""
_SELECTED_COLOR = (255, 210, 0)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class RenderOptions:
    attribute: int | None = None
    """Attribute whose attention is blended over each face; None draws no heatmap."""
    layer: int = -1
    head: int | None = None
    """Attention head, or None for the mean over heads."""
    opacity: float = 0.5
    colormap: str = "jet"
    show_boxes: bool = True
    show_landmarks: bool = False
    show_bars: bool = True
    top_k: int = 6
    selected_face: int | None = None
    fps: float | None = None
    show_hud: bool = True
    show_unreliable: bool = False
    """Also list positives of attributes under the reliability bar (:mod:`attricam.engine.reliability`), marked "?"."""

    def shown_positive(self, face: FaceResult) -> np.ndarray:
        """(40,) bool: the positives a view highlights: reliable ones, or all with ``show_unreliable``."""
        return np.asarray(face.decisions, bool) if self.show_unreliable else face.shown_positive

    def overlay_settings(self) -> dict[str, Any]:
        """What the heatmap shows, in the words the GUI uses (layers and heads 1-based): for export sidecars."""
        return {
            "attribute": None if self.attribute is None else ATTRIBUTES[self.attribute].name,
            "layer": "last" if self.layer == -1 else self.layer + 1,
            "head": "mean" if self.head is None else self.head + 1,
            "opacity": round(float(self.opacity), 3),
            "colormap": self.colormap,
            "show_unreliable": self.show_unreliable,
        }


def attention_heatmap(face: FaceResult, attribute: int, layer: int = -1, head: int | None = None) -> np.ndarray:
    """The attention map upsampled to the aligned crop, scaled to [0, 1]: (H, W) float32."""
    grid = face.attention_map(attribute, layer, head).astype(np.float32)
    height, width = face.aligned.shape[:2]
    heat = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    heat -= heat.min()
    return heat / max(float(heat.max()), 1e-8)


def attention_crop(face: FaceResult, options: RenderOptions, min_opacity: float = 0.6) -> np.ndarray:
    """The face's aligned crop (H, W, 3 uint8) with the overlay attribute's attention blended over it (at least
    ``min_opacity``, so a faint live overlay still reads); the plain crop when no attribute is chosen."""
    if options.attribute is None:
        return np.ascontiguousarray(face.aligned)
    heat = attention_heatmap(face, options.attribute, options.layer, options.head)
    return blend_heatmap(face.aligned, heat, options.colormap, max(min_opacity, float(options.opacity)))


def heatmap_layers(heat: np.ndarray, colormap: str, opacity: float) -> tuple[np.ndarray, np.ndarray]:
    """heat (h, w) in [0, 1] -> coloured RGB uint8 (h, w, 3) and per-pixel alpha float32 (h, w).

    Opacity follows the attention itself (``opacity * heat ** 0.6``), so low-attention skin stays readable.
    """
    heat = np.clip(heat, 0.0, 1.0).astype(np.float32)
    colored = _colormap_lut(colormap)[(heat * 255).astype(np.uint8)]
    alpha = (opacity * np.power(heat, 0.6)).astype(np.float32)
    return colored, alpha


@lru_cache(maxsize=len(COLORMAPS) + 1)
def _colormap_lut(colormap: str) -> np.ndarray:
    """(256, 3) RGB uint8 for one of :data:`COLORMAPS`: ``cv2.applyColorMap`` rebuilds its table on every
    call, which cost more than the rest of a face's heatmap."""
    ramp = np.arange(256, dtype=np.uint8).reshape(256, 1)
    bgr = cv2.applyColorMap(ramp, COLORMAPS.get(colormap, cv2.COLORMAP_JET))
    lut = np.ascontiguousarray(bgr.reshape(256, 3)[:, ::-1])
    lut.setflags(write=False)
    return lut


def blend_heatmap(image: np.ndarray, heat: np.ndarray, colormap: str = "jet", opacity: float = 0.5) -> np.ndarray:
    """Blend a same-size heatmap over ``image`` (h, w, 3 uint8 RGB), e.g. over an aligned crop."""
    colored, alpha = heatmap_layers(heat, colormap, opacity)
    return cv2.blendLinear(colored, np.ascontiguousarray(image), alpha, 1.0 - alpha)


_FACE_CENTER = (0.5, 0.54)
"""Centre of the face in the aligned crop, as fractions of (width, height): the eyes sit at ~52 % of the
height and the mouth at ~69 % in CelebA's framing, with hair above and collar below."""
_FACE_RADII = (0.40, 0.42)
_FEATHER_START = 0.62
"""Elliptical radius (1 = the ellipse's edge) where the overlay starts fading out."""
_QUIET_HEAT = (0.06, 0.35)
"""Attention below the first value leaves the skin untinted, above the second it is fully coloured."""


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@lru_cache(maxsize=8)
def face_mask(height: int, width: int) -> np.ndarray:
    """Feathered elliptical weight over the face in crop space, (height, width) float32 in [0, 1].

    1 over the face, falling smoothly to exactly 0 well inside the crop's border, so the overlay warped
    back onto the frame has no edge: no tinted quadrilateral over neck, shoulders or background.
    """
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = _FACE_CENTER[0] * width, _FACE_CENTER[1] * height
    rx, ry = _FACE_RADII[0] * width, _FACE_RADII[1] * height
    radius = np.sqrt(((xs + 0.5 - cx) / rx) ** 2 + ((ys + 0.5 - cy) / ry) ** 2)
    mask = 1.0 - _smoothstep(_FEATHER_START, 1.0, radius)
    mask.setflags(write=False)
    return mask


def _blend_heatmap(canvas: np.ndarray, face: FaceResult, attribute: int, options: RenderOptions) -> None:
    """Warp the crop-space heatmap back onto the face's region of ``canvas`` (in place), faded out smoothly
    towards the edge of the face (:func:`face_mask`) and where attention is near zero."""
    heat = attention_heatmap(face, attribute, options.layer, options.head)
    colored, alpha_crop = heatmap_layers(heat, options.colormap, options.opacity)
    h, w = heat.shape
    alpha_crop = alpha_crop * face_mask(h, w) * _smoothstep(*_QUIET_HEAT, heat)
    inverse = cv2.invertAffineTransform(face.align_matrix)
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float32) @ inverse.T
    x0, y0 = np.floor(corners.min(0)).astype(int)
    x1, y1 = np.ceil(corners.max(0)).astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, canvas.shape[1]), min(y1, canvas.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    # Only the face's bounding rectangle is warped: a full-frame warp per face would dominate the render cost.
    roi_inverse = inverse.copy()
    roi_inverse[:, 2] -= (x0, y0)
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(colored, roi_inverse, size, flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(alpha_crop, roi_inverse, size, flags=cv2.INTER_LINEAR)
    roi = canvas[y0:y1, x0:x1]
    roi[:] = cv2.blendLinear(warped, roi, alpha, 1.0 - alpha)  # per-pixel weights, in C++


def _label(
    canvas: np.ndarray, text: str, origin: tuple[int, int], color: tuple[int, int, int], scale: float = 0.45
) -> None:
    x, y = origin
    (tw, th), base = cv2.getTextSize(text, _FONT, scale, 1)
    cv2.rectangle(canvas, (x, y - th - base - 2), (x + tw + 4, y + 2), (0, 0, 0), -1)
    cv2.putText(canvas, text, (x + 2, y - base + 1), _FONT, scale, color, 1, cv2.LINE_AA)


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
    labels = [_label_width(f) for f in faces]
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
    return _panel_width(face, order, options, compact=compact), _ROW_H * len(order) + 4


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


_NAME_CHARS, _COMPACT_NAME_CHARS, _COMPACT_BAR_W = 17, 10, 30


def _row_text(face: FaceResult, index: int, options: RenderOptions, *, compact: bool = False) -> str:
    mark = "*" if index == options.attribute else ""
    doubt = "" if face.reliable[index] else "?"  # under the reliability bar: a guess, not a reading
    name = ATTRIBUTES[index].name[: _COMPACT_NAME_CHARS if compact else _NAME_CHARS]
    return f"{mark}{name}{doubt} {float(face.probabilities[index]):.2f}"


def _panel_width(
    face: FaceResult, order: list[int], options: RenderOptions | None = None, *, compact: bool = False
) -> int:
    """Bars, the longest row text and the face's "#id" tag: no wider than its words need."""
    texts = [_row_text(face, i, options or RenderOptions(), compact=compact) for i in order]
    tag = cv2.getTextSize(f"#{face.face_id}", _FONT, _ROW_SCALE, 1)[0][0] + 8
    bar = _COMPACT_BAR_W if compact else _BAR_W
    return bar + 10 + max(cv2.getTextSize(t, _FONT, _ROW_SCALE, 1)[0][0] for t in texts) + tag


def _face_label(face: FaceResult) -> str:
    return f"#{face.face_id} held" if face.held else f"#{face.face_id} {face.score:.2f}"


def _label_width(face: FaceResult) -> int:
    return _label_width_of(_face_label(face))


def _label_width_of(text: str, scale: float = 0.45) -> int:
    return cv2.getTextSize(text, _FONT, scale, 1)[0][0] + 4


def _attribute_panel(
    canvas: np.ndarray, face: FaceResult, options: RenderOptions, rect: Rect, order: list[int]
) -> None:
    """Small bars, one row per attribute: probability, calibrated threshold tick, rarity colour."""
    px, py, panel_w, panel_h = rect
    compact = panel_w < _panel_width(face, order, options)  # the layout chose the short form to fit
    bar_w = _COMPACT_BAR_W if compact else _BAR_W
    panel = canvas[py : py + panel_h, px : px + panel_w]
    panel[:] = (panel.astype(np.float32) * 0.35).astype(np.uint8)
    _connect_panel(canvas, face.box, rect)
    tag = f"#{face.face_id}"  # which face this panel is for, wherever the layout had to put it
    tag_w = cv2.getTextSize(tag, _FONT, _ROW_SCALE, 1)[0][0]
    tag_color = _SELECTED_COLOR if options.selected_face == face.face_id else _BOX_COLOR
    cv2.putText(canvas, tag, (px + panel_w - tag_w - 4, py + _ROW_H - 1), _FONT, _ROW_SCALE, tag_color, 1, cv2.LINE_AA)
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
        cv2.putText(canvas, text, origin, _FONT, _ROW_SCALE, text_color, 1, cv2.LINE_AA)


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


def render_frame(
    frame: np.ndarray,
    result: FrameResult,
    options: RenderOptions | None = None,
    memory: PanelMemory | None = None,
    keep_clear: Sequence[Rect] = (),
) -> np.ndarray:
    """Annotated RGB copy of ``frame`` (h, w, 3 uint8) for ``result``.

    ``memory`` (one per live video) lets panels follow their faces from frame to frame: steadier on screen,
    and the layout search runs only when a panel can no longer follow (:class:`PanelMemory`). ``keep_clear``:
    rects (x, y, w, h in frame pixels) the bar panels stay off, e.g. where a viewer paints its own HUD.
    """
    options = options or RenderOptions()
    canvas = np.ascontiguousarray(frame, dtype=np.uint8).copy()
    for face in result.faces:
        if options.attribute is not None:
            _blend_heatmap(canvas, face, options.attribute, options)
    labels = _label_origins(result.faces, options, keep_clear, canvas.shape) if options.show_boxes else {}
    for face in result.faces:
        selected = options.selected_face == face.face_id
        x1, y1, x2, y2 = face.box.astype(int)
        if options.show_boxes:
            colour = _SELECTED_COLOR if selected else _HELD_COLOR if face.held else _BOX_COLOR
            cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 2 if selected else 1)
    for face in result.faces:
        if face.face_id in labels:  # after every box, so no box line crosses an id
            _label(canvas, _face_label(face), labels[face.face_id], (255, 255, 255))
        if options.show_landmarks:
            for x, y in face.landmarks.astype(int):
                cv2.circle(canvas, (int(x), int(y)), 2, (255, 60, 60), -1, cv2.LINE_AA)
    hud = _hud_text(result, options) if options.show_hud else ""
    hud_origin = (4, canvas.shape[0] - 6)
    if options.show_bars:  # after every box and label, so the layout can keep them all visible
        hud_rect = [(0, canvas.shape[0] - 24, _label_width_of(hud) + 8, 24)] if hud else []
        clear = [*hud_rect, *keep_clear]
        layout = layout_panels(result, options, (canvas.shape[1], canvas.shape[0]), clear, memory)
        for face, (rect, order) in zip(result.faces, layout):
            _attribute_panel(canvas, face, options, rect, order)
    if hud:
        _label(canvas, hud, hud_origin, (255, 255, 120) if result.model_trained else (255, 90, 90))
    return canvas


def _label_origins(
    faces: Sequence[FaceResult], options: RenderOptions, keep_clear: Sequence[Rect], shape: tuple[int, ...]
) -> dict[int, tuple[int, int]]:
    """Each face's id-label origin, the selected face's first: a label that would cover one already placed
    (side-by-side faces in a group photo, where "#3 1.00" hid the selected "#0 1.00") goes below its face."""
    order = sorted(faces, key=lambda f: f.face_id != options.selected_face)
    origins: dict[int, tuple[int, int]] = {}
    placed: list[Rect] = []
    for face in order:
        text = _face_label(face)
        x1, y1, x2, y2 = (int(v) for v in face.box)
        x, y = _label_origin(text, (x1, y1, x2, y2), keep_clear, shape, placed)
        origins[face.face_id] = (x, y)
        placed.append((x, y - LABEL_HEIGHT, _label_width_of(text) + 4, LABEL_HEIGHT))
    return origins


def _label_origin(
    text: str,
    box: tuple[int, int, int, int],
    keep_clear: Sequence[Rect],
    shape: tuple[int, ...],
    labels: Sequence[Rect] = (),
) -> tuple[int, int]:
    """Where a face's id label goes: above its box, or below it, inside its top, inside its bottom when a viewer's
    HUD (``keep_clear``) or another face's label (``labels``) is there, so the id a user clicks by is never hidden."""
    x1, y1, _, y2 = box
    width = _label_width_of(text) + 4
    height = LABEL_HEIGHT
    x1 = max(min(x1, shape[1] - width), 0)  # a face at the right edge keeps its whole label in the picture
    candidates = (max(y1 - 2, 14), min(y2 + height, shape[0] - 2), y1 + height, y2 - 2)
    for avoid in ([*keep_clear, *labels], keep_clear):  # never under the HUD; over another label only if need be
        for y in candidates:
            rect = (x1, y - height, width, height)
            if not any(_overlaps(rect, other) for other in avoid):
                return x1, y
    return x1, candidates[0]


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _hud_text(result: FrameResult, options: RenderOptions) -> str:
    parts = [result.model_name or "model"]
    if not result.model_trained:
        parts.append("UNTRAINED MODEL")
    parts.append(f"{len(result.faces)} face(s)")
    if options.fps is not None:
        parts.append(f"{options.fps:.1f} fps")
    parts.append(f"{result.timings.total_ms:.1f} ms")
    if options.attribute is not None:
        layer = "last layer" if options.layer == -1 else f"L{options.layer + 1}"  # 1-based, like the GUI
        head = "mean" if options.head is None else f"h{options.head + 1}"
        parts.append(f"attn: {ATTRIBUTES[options.attribute].name} {layer} {head}")
    return " | ".join(parts)


_STRIP_W, _TILE_W, _PAD, _CMP_ROW = 372, 160, 14, 17


def render_comparison(
    frame: np.ndarray, comparison: ModelComparison, options: RenderOptions | None = None
) -> np.ndarray:
    """The first model's annotated frame with a strip on its right: for the selected face (else the first) the
    overlay attribute's attention of each model and both models' bars, attributes they decide differently
    first (rarest first, on a red ground). (h', w + 372, 3) uint8 RGB; taller than the frame when the strip
    needs it."""
    options = options or RenderOptions()
    annotated = render_frame(frame, comparison.first, options)
    pair = comparison.pair(options.selected_face)
    differ = comparison.disagreements(pair[0].face_id) if pair is not None else []
    tile_h = _TILE_W * (pair[0].aligned.shape[0] / pair[0].aligned.shape[1]) if pair is not None else 0
    top = int(106 + tile_h + 2 * _CMP_ROW)
    rows = min(40, max(len(differ), 12))
    height = max(annotated.shape[0], top + rows * _CMP_ROW + _PAD)
    canvas = np.zeros((height, annotated.shape[1] + _STRIP_W, 3), np.uint8)
    canvas[: annotated.shape[0], : annotated.shape[1]] = annotated
    x0 = annotated.shape[1]
    canvas[:, x0:] = (28, 28, 30)
    _strip_text(canvas, "Two models side by side", (x0 + _PAD, 22), (255, 255, 255), 0.55)
    for k, label in enumerate((comparison.first_label, comparison.second_label)):
        y = 46 + 20 * k
        cv2.rectangle(canvas, (x0 + _PAD, y - 11), (x0 + _PAD + 12, y + 1), COMPARE_COLORS[k], -1)
        _strip_text(
            canvas,
            _fit_text(f"{'AB'[k]}  {label}", _STRIP_W - 3 * _PAD - 12, 0.45),
            (x0 + 2 * _PAD + 8, y),
            (235, 235, 235),
            0.45,
        )
    if pair is None:
        _strip_text(canvas, "no face", (x0 + _PAD, 104), (200, 200, 200), 0.45)
        return canvas
    attribute = ATTRIBUTES[options.attribute].name if options.attribute is not None else "no attribute chosen"
    _strip_text(
        canvas,
        _fit_text(f"Face #{pair[0].face_id} - attention: {attribute}", _STRIP_W - 2 * _PAD, 0.42),
        (x0 + _PAD, 94),
        (255, 210, 0),
        0.42,
    )
    for k, face in enumerate(pair):
        tile = cv2.resize(attention_crop(face, options), (_TILE_W, int(tile_h)), interpolation=cv2.INTER_CUBIC)
        tx = x0 + _PAD + k * (_TILE_W + _PAD)
        canvas[102 : 102 + tile.shape[0], tx : tx + _TILE_W] = tile
        cv2.rectangle(canvas, (tx - 1, 101), (tx + _TILE_W, 102 + tile.shape[0]), COMPARE_COLORS[k], 2)
        _label(canvas, "AB"[k], (tx + 1, 120), COMPARE_COLORS[k], 0.5)
    header = (
        f"{len(differ)} disagreement{'s' if len(differ) != 1 else ''} (rare first)" if differ else "no disagreement"
    )
    _strip_text(canvas, header, (x0 + _PAD, top - 20), (255, 255, 255), 0.45)
    for k in range(2):
        _strip_text(canvas, "AB"[k], (x0 + 150 + k * 110 + 29, top - 3), COMPARE_COLORS[k], 0.4)
    for row, index in enumerate(disagreement_order(*pair)[:rows]):
        _comparison_row(canvas, pair, index, (x0, top + row * _CMP_ROW), disagree=index in differ)
    return canvas


def _comparison_row(
    canvas: np.ndarray, pair: tuple[FaceResult, FaceResult], index: int, origin: tuple[int, int], *, disagree: bool
) -> None:
    """One attribute: its name in its rarity colour, then model A's and model B's bar, tick and value."""
    x0, y = origin
    if disagree:
        canvas[y : y + _CMP_ROW - 1, x0 + 4 : x0 + _STRIP_W - 4] = (90, 30, 34)
    info = ATTRIBUTES[index]
    _strip_text(canvas, info.name[:_NAME_CHARS], (x0 + _PAD, y + _CMP_ROW - 5), TIER_COLORS[info.tier], 0.38)
    for k, face in enumerate(pair):
        bx, bw = x0 + 150 + k * 110, 66
        p = float(face.probabilities[index])
        positive = bool(face.decisions[index])
        cv2.rectangle(canvas, (bx, y + 3), (bx + bw, y + _CMP_ROW - 4), (70, 70, 70), -1)
        fill = COMPARE_COLORS[k] if positive else tuple(int(c * 0.45) for c in COMPARE_COLORS[k])
        cv2.rectangle(canvas, (bx, y + 3), (bx + int(bw * p), y + _CMP_ROW - 4), fill, -1)
        tick = bx + int(bw * float(face.thresholds[index]))
        cv2.line(canvas, (tick, y + 1), (tick, y + _CMP_ROW - 2), (255, 255, 255), 1)
        color = (255, 255, 255) if positive else (160, 160, 160)
        _strip_text(canvas, f"{p:.2f}", (bx + bw + 4, y + _CMP_ROW - 5), color, 0.36)


def _strip_text(canvas: np.ndarray, text: str, origin: tuple[int, int], color: tuple[int, ...], scale: float) -> None:
    cv2.putText(canvas, text, origin, _FONT, scale, color, 1, cv2.LINE_AA)


def _fit_text(text: str, width: int, scale: float) -> str:
    """``text`` cut (with "...") to ``width`` pixels, keeping its end (a run folder's name tells runs apart)."""
    if cv2.getTextSize(text, _FONT, scale, 1)[0][0] <= width:
        return text
    head, tail = text[:3], text[3:]
    while tail and cv2.getTextSize(f"{head}...{tail}", _FONT, scale, 1)[0][0] > width:
        tail = tail[1:]
    return f"{head}...{tail}"
