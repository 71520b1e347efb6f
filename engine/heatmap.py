"""Attention heatmaps: upsampled to the aligned crop, coloured, blended over a crop or warped back onto a face
in the frame, faded out towards the face's edge.

Split from :mod:`attricam.engine.render`, which re-exports the public names.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from .render_style import COLORMAPS, RenderOptions
from .results import FaceResult

__all__ = [
    "attention_crop",
    "attention_heatmap",
    "blend_face_heatmap",
    "blend_heatmap",
    "face_mask",
    "heatmap_layers",
]


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


def blend_face_heatmap(canvas: np.ndarray, face: FaceResult, attribute: int, options: RenderOptions) -> None:
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
