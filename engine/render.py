"""The one renderer of annotated frames, shared by the CLI (``--annotate``), the GUI export and the bench.

Draws, on a copy of the frame: the attention heatmap of one attribute warped back from the aligned crop onto
each face (:mod:`attricam.engine.heatmap`), boxes with face ids, optional landmarks, a compact attribute panel
per face (positives first, with rarity tags; :mod:`attricam.engine.render_panels`) and a HUD line (model,
faces, FPS, latency). :mod:`attricam.engine.render_comparison` adds, beside the frame, a second model's answer
for the selected face. Options and colours live in :mod:`attricam.engine.render_style`; the public names of
the family are importable from here.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .attributes import ATTRIBUTES
from .heatmap import (
    attention_crop,
    attention_heatmap,
    blend_face_heatmap,
    blend_heatmap,
    face_mask,
    heatmap_layers,
)
from .panel_layout import LABEL_HEIGHT, PanelMemory, Rect
from .render_panels import draw_attribute_panel, face_label, layout_panels
from .render_style import (
    BOX_COLOR,
    COLORMAPS,
    COMPARE_COLORS,
    HELD_COLOR,
    SELECTED_COLOR,
    TIER_COLORS,
    RenderOptions,
    draw_label,
    label_width,
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
    "render_frame",
]


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
            blend_face_heatmap(canvas, face, options.attribute, options)
    labels = _label_origins(result.faces, options, keep_clear, canvas.shape) if options.show_boxes else {}
    for face in result.faces:
        selected = options.selected_face == face.face_id
        x1, y1, x2, y2 = face.box.astype(int)
        if options.show_boxes:
            colour = SELECTED_COLOR if selected else HELD_COLOR if face.held else BOX_COLOR
            cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 2 if selected else 1)
    for face in result.faces:
        if face.face_id in labels:  # after every box, so no box line crosses an id
            draw_label(canvas, face_label(face), labels[face.face_id], (255, 255, 255))
        if options.show_landmarks:
            for x, y in face.landmarks.astype(int):
                cv2.circle(canvas, (int(x), int(y)), 2, (255, 60, 60), -1, cv2.LINE_AA)
    hud = _hud_text(result, options) if options.show_hud else ""
    hud_origin = (4, canvas.shape[0] - 6)
    if options.show_bars:  # after every box and label, so the layout can keep them all visible
        hud_rect = [(0, canvas.shape[0] - 24, label_width(hud) + 8, 24)] if hud else []
        clear = [*hud_rect, *keep_clear]
        layout = layout_panels(result, options, (canvas.shape[1], canvas.shape[0]), clear, memory)
        for face, (rect, order) in zip(result.faces, layout):
            draw_attribute_panel(canvas, face, options, rect, order)
    if hud:
        draw_label(canvas, hud, hud_origin, (255, 255, 120) if result.model_trained else (255, 90, 90))
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
        text = face_label(face)
        x1, y1, x2, y2 = (int(v) for v in face.box)
        x, y = _label_origin(text, (x1, y1, x2, y2), keep_clear, shape, placed)
        origins[face.face_id] = (x, y)
        placed.append((x, y - LABEL_HEIGHT, label_width(text) + 4, LABEL_HEIGHT))
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
    width = label_width(text) + 4
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
