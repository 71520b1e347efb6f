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
        "eyes": ("Eyeglasses", "Narrow_Eyes"),
        "mouth": ("Smiling", "Mouth_Slightly_Open", "Mustache", "Wearing_Lipstick"),
        "chin": ("Goatee",),
        "forehead": ("Bangs",),
        "top_of_head": ("Wearing_Hat",),
        "below_chin": ("Wearing_Necktie", "Wearing_Necklace"),
    }
)
"""Region name -> attributes whose evidence lies inside it."""

LOCALIZED_ATTRIBUTES: tuple[str, ...] = tuple(name for names in REGION_ATTRIBUTES.values() for name in names)


def face_regions(width: int, height: int, grid: tuple[int, int]) -> dict[str, np.ndarray]:
    """Boolean token masks (grid_h, grid_w) per region for a ``width x height`` aligned crop.

    A token belongs to a region when its centre lies inside the region's box; boxes are
    sized in inter-ocular distances (iod) from the template landmarks.
    """
    lm = template_for(width, height)
    eye_y, mouth_y = float(lm[:2, 1].mean()), float(lm[3:, 1].mean())
    iod = float(lm[1, 0] - lm[0, 0])
    boxes = {  # x1, y1, x2, y2 in crop pixels
        "eyes": (lm[0, 0] - 0.6 * iod, eye_y - 0.4 * iod, lm[1, 0] + 0.6 * iod, eye_y + 0.4 * iod),
        "mouth": (lm[3, 0] - 0.5 * iod, mouth_y - 0.5 * iod, lm[4, 0] + 0.5 * iod, mouth_y + 0.5 * iod),
        "chin": (lm[3, 0] - 0.5 * iod, mouth_y + 0.3 * iod, lm[4, 0] + 0.5 * iod, mouth_y + 1.25 * iod),
        "forehead": (lm[0, 0] - 1.0 * iod, eye_y - 1.9 * iod, lm[1, 0] + 1.0 * iod, eye_y - 0.35 * iod),
        "top_of_head": (0.0, 0.0, float(width), eye_y - 0.8 * iod),
        "below_chin": (0.0, mouth_y + 0.9 * iod, float(width), float(height)),
    }
    grid_h, grid_w = grid
    cy = (np.arange(grid_h) + 0.5) * height / grid_h
    cx = (np.arange(grid_w) + 0.5) * width / grid_w
    yy, xx = np.meshgrid(cy, cx, indexing="ij")
    return {name: (xx >= x1) & (xx <= x2) & (yy >= y1) & (yy <= y2) for name, (x1, y1, x2, y2) in boxes.items()}


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
