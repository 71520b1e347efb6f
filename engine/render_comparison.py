"""Two models side by side: the first model's annotated frame with a strip on its right showing, for one face,
each model's attention and both models' bars, disagreements first (:mod:`attricam.engine.comparison`).
"""

from __future__ import annotations

import cv2
import numpy as np

from .attributes import ATTRIBUTES
from .comparison import ModelComparison, disagreement_order
from .heatmap import attention_crop
from .render import render_frame
from .render_panels import NAME_CHARS
from .render_style import COMPARE_COLORS, FONT, TIER_COLORS, RenderOptions, draw_label
from .results import FaceResult

__all__ = ["render_comparison"]


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
        draw_label(canvas, "AB"[k], (tx + 1, 120), COMPARE_COLORS[k], 0.5)
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
    _strip_text(canvas, info.name[:NAME_CHARS], (x0 + _PAD, y + _CMP_ROW - 5), TIER_COLORS[info.tier], 0.38)
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
    cv2.putText(canvas, text, origin, FONT, scale, color, 1, cv2.LINE_AA)


def _fit_text(text: str, width: int, scale: float) -> str:
    """``text`` cut (with "...") to ``width`` pixels, keeping its end (a run folder's name tells runs apart)."""
    if cv2.getTextSize(text, FONT, scale, 1)[0][0] <= width:
        return text
    head, tail = text[:3], text[3:]
    while tail and cv2.getTextSize(f"{head}...{tail}", FONT, scale, 1)[0][0] > width:
        tail = tail[1:]
    return f"{head}...{tail}"
