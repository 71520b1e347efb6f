"""Where on the aligned face each localized attribute lives, as masks over the token grid.

The regions are boxes placed from the canonical landmark template (eyes, nose,
mouth corners) of the aligned crop, so they mean the same thing for every face
the engine aligns. They serve two purposes: measuring whether an attribute
query looks where a person would (the share of its attention inside its region)
and, during training, the attention-region regulariser that teaches it to. The
maps shown to the user are always the model's own attention; regions are never
drawn into them.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from .alignment import template_for
from .attributes import attribute_index

__all__ = ["LOCALIZED_ATTRIBUTES", "REGION_ATTRIBUTES", "attention_share", "attribute_region_masks", "face_regions"]

REGION_ATTRIBUTES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "eyes": ("Eyeglasses", "Narrow_Eyes", "Bags_Under_Eyes"),
        "brows": ("Arched_Eyebrows", "Bushy_Eyebrows"),
        "upper_lip": ("Mustache",),
        "mouth": ("Smiling", "Mouth_Slightly_Open", "Wearing_Lipstick"),
        "chin": ("Goatee",),
        "forehead": ("Bangs",),
        "top_of_head": ("Wearing_Hat",),
        "ears": ("Wearing_Earrings",),
        "below_chin": ("Wearing_Necktie", "Wearing_Necklace"),
    }
)
"""Region name -> attributes whose evidence lies inside it."""

LOCALIZED_ATTRIBUTES: tuple[str, ...] = tuple(name for names in REGION_ATTRIBUTES.values() for name in names)


def face_regions(width: int, height: int, grid: tuple[int, int]) -> dict[str, np.ndarray]:
    """Boolean token masks (grid_h, grid_w) per region for a ``width x height`` aligned crop.

    A token belongs to a region when its centre lies inside one of the region's boxes; boxes are
    sized in inter-ocular distances (iod) from the template landmarks. On the default 80 x 96 crop
    (a 10 x 12 grid of 8-px tokens) the brows are rows 4-5, the eyes rows 5-6, the upper lip rows
    7-8 (the mouth 7-9) and the ears the two outer columns on each side at rows 6-9.
    """
    lm = template_for(width, height)
    eye_y, nose_y, mouth_y = float(lm[:2, 1].mean()), float(lm[2, 1]), float(lm[3:, 1].mean())
    iod = float(lm[1, 0] - lm[0, 0])
    left, right = float(lm[0, 0]), float(lm[1, 0])
    mouth_left, mouth_right = float(lm[3, 0]), float(lm[4, 0])
    boxes = {  # region -> boxes (x1, y1, x2, y2) in crop pixels
        "eyes": [(left - 0.6 * iod, eye_y - 0.4 * iod, right + 0.6 * iod, eye_y + 0.4 * iod)],
        "brows": [(left - 0.6 * iod, eye_y - 0.8 * iod, right + 0.6 * iod, eye_y - 0.15 * iod)],
        "upper_lip": [(mouth_left - 0.3 * iod, nose_y - 0.1 * iod, mouth_right + 0.3 * iod, mouth_y + 0.2 * iod)],
        "mouth": [(mouth_left - 0.5 * iod, mouth_y - 0.5 * iod, mouth_right + 0.5 * iod, mouth_y + 0.5 * iod)],
        "chin": [(mouth_left - 0.5 * iod, mouth_y + 0.3 * iod, mouth_right + 0.5 * iod, mouth_y + 1.25 * iod)],
        "forehead": [(left - 1.0 * iod, eye_y - 1.9 * iod, right + 1.0 * iod, eye_y - 0.35 * iod)],
        "top_of_head": [(0.0, 0.0, float(width), eye_y - 0.8 * iod)],
        "ears": [
            (0.0, eye_y, left - 0.8 * iod, mouth_y + 0.8 * iod),
            (right + 0.8 * iod, eye_y, float(width), mouth_y + 0.8 * iod),
        ],
        "below_chin": [(0.0, mouth_y + 0.9 * iod, float(width), float(height))],
    }
    grid_h, grid_w = grid
    cy = (np.arange(grid_h) + 0.5) * height / grid_h
    cx = (np.arange(grid_w) + 0.5) * width / grid_w
    yy, xx = np.meshgrid(cy, cx, indexing="ij")
    return {
        name: np.logical_or.reduce([(xx >= x1) & (xx <= x2) & (yy >= y1) & (yy <= y2) for x1, y1, x2, y2 in parts])
        for name, parts in boxes.items()
    }


def attribute_region_masks(width: int, height: int, grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """-> (attribute indices (k,), masks (k, grid_h, grid_w) float32) for the localized attributes."""
    regions = face_regions(width, height, grid)
    indices, masks = [], []
    for region, names in REGION_ATTRIBUTES.items():
        for name in names:
            indices.append(attribute_index(name))
            masks.append(regions[region].astype(np.float32))
    return np.asarray(indices, np.int64), np.stack(masks)


def attention_share(maps: np.ndarray, mask: np.ndarray) -> float:
    """Fraction of attention ``maps`` (..., grid_h, grid_w) that falls inside ``mask`` (grid_h, grid_w)."""
    total = float(maps.sum())
    return float((maps * mask).sum() / total) if total > 0 else 0.0
