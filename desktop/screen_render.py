"""The engine renderer, drawn in screen pixels: ids, on-video bars and heatmaps on the frame as it is shown.

The engine draws its labels and bar panels in the pixels of the picture it is given (right for a PNG export,
like the CLI's). Drawn on a 1434x2333 photo shown 700 px tall, an id label became ~4 px high; on a 178x218
CelebA crop shown 560 px tall, it covered the hat and the bangs. So the live view scales the frame to the
view first and draws on that, with the faces' boxes, landmarks and crop transforms scaled to match: every
label and bar is then the same size on screen at any image size or zoom. The analysis itself (and the
snapshot, rendered from the original frame and result) never sees the scaled copy.

At a 125 % or 150 % display scale the view has more device pixels than logical ones, and labels drawn in device
pixels came out smaller than the window's own text (at 150 %: an id label 18 device px tall beside 21 px lines
of UI text). There the overlays are drawn at the view's logical size and enlarged by the scale, like the window's text,
while the picture under them keeps every device pixel.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from attricam.engine.panel_layout import PanelMemory
from attricam.engine.render import RenderOptions, render_frame
from attricam.engine.results import FaceResult, FrameResult

from .video_view import fit_size

__all__ = ["render_for_view", "scaled_result"]


def scaled_result(result: FrameResult, scale: float) -> FrameResult:
    """``result`` for the frame resized by ``scale``: boxes and landmarks scaled, crop transforms adjusted."""
    if scale == 1.0:
        return result
    faces = tuple(_scaled_face(face, scale) for face in result.faces)
    return dataclasses.replace(result, faces=faces)


def _scaled_face(face: FaceResult, scale: float) -> FaceResult:
    matrix = np.asarray(face.align_matrix, np.float32).copy()
    matrix[:, :2] /= scale  # crop = M @ (x / s, y / s, 1) for a point (x, y) of the scaled frame
    return dataclasses.replace(
        face,
        box=(np.asarray(face.box, np.float32) * scale).astype(np.float32),
        landmarks=(np.asarray(face.landmarks, np.float32) * scale).astype(np.float32),
        align_matrix=matrix,
    )


def render_for_view(
    frame: np.ndarray,
    result: FrameResult,
    options: RenderOptions,
    memory: PanelMemory | None,
    view: tuple[int, int] | None,
    hud: tuple[int, int, int, int] | None = None,
    ratio: float = 1.0,
) -> tuple[np.ndarray, float]:
    """The annotated frame (h, w, 3 uint8 RGB) at the size it fits ``view`` (device pixels), and the scale
    from the frame to it; without a known view, the frame's own size (scale 1).

    ``hud`` (x, y, w, h in the view's device pixels): where the view paints its HUD; the on-video bar panels
    keep off it (the picture is centred in the view, as :meth:`VideoView.picture_rect` places it).
    ``ratio``: the view's device pixels per logical pixel; labels and bars are drawn that much larger."""
    h, w = frame.shape[:2]
    if view is None or view[0] < 2 or view[1] < 2:
        return render_frame(frame, result, options, memory), 1.0
    tw, th = fit_size((w, h), view)
    scale = tw / w
    clear = _in_picture(hud, view, (tw, th))
    if ratio > 1.01:
        return _render_enlarged(frame, result, options, memory, (tw, th), clear, ratio), scale
    if (tw, th) == (w, h):
        return render_frame(frame, result, options, memory, clear), 1.0
    return render_frame(_resized(frame, (tw, th)), scaled_result(result, scale), options, memory, clear), scale


def _resized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (image.shape[1], image.shape[0]) == size:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if size[0] < image.shape[1] else cv2.INTER_LINEAR)


def _render_enlarged(
    frame: np.ndarray,
    result: FrameResult,
    options: RenderOptions,
    memory: PanelMemory | None,
    size: tuple[int, int],
    clear: list[tuple[int, int, int, int]],
    ratio: float,
) -> np.ndarray:
    """Overlays drawn at ``size`` / ``ratio`` (logical pixels) and enlarged to ``size`` over the picture resized
    straight to ``size``: where the small drawing differs from the small picture, its enlargement is used."""
    w = frame.shape[1]
    small_size = (max(1, round(size[0] / ratio)), max(1, round(size[1] / ratio)))
    small = _resized(frame, small_size)
    logical_clear = [
        (round(x / ratio), round(y / ratio), round(cw / ratio), round(ch / ratio)) for x, y, cw, ch in clear
    ]
    drawn = render_frame(small, scaled_result(result, small_size[0] / w), options, memory, logical_clear)
    changed = cv2.dilate((drawn != small).any(axis=2).astype(np.uint8), np.ones((3, 3), np.uint8))
    mask = cv2.resize(changed, size, interpolation=cv2.INTER_NEAREST).astype(bool)
    out = _resized(frame, size).copy()
    out[mask] = cv2.resize(drawn, size, interpolation=cv2.INTER_LINEAR)[mask]
    return out


def _in_picture(
    rect: tuple[int, int, int, int] | None, view: tuple[int, int], picture: tuple[int, int]
) -> list[tuple[int, int, int, int]]:
    """``rect`` (view pixels) in the pixels of the picture centred in the view; [] when they do not meet."""
    if rect is None:
        return []
    ox, oy = (view[0] - picture[0]) // 2, (view[1] - picture[1]) // 2
    x0, y0 = max(rect[0] - ox, 0), max(rect[1] - oy, 0)
    x1, y1 = min(rect[0] + rect[2] - ox, picture[0]), min(rect[1] + rect[3] - oy, picture[1])
    return [(x0, y0, x1 - x0, y1 - y0)] if x1 > x0 and y1 > y0 else []
