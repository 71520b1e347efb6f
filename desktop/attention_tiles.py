"""The 40 per-attribute attention maps of one face as small blended images (attention explorer).

Runs on the live worker thread; the GUI only blits the finished tiles.
"""

from __future__ import annotations

import numpy as np

from attricam.engine.attributes import NUM_ATTRIBUTES
from attricam.engine.render import RenderOptions, attention_heatmap, blend_heatmap
from attricam.engine.results import FaceResult

__all__ = ["attention_tiles"]


def attention_tiles(face: FaceResult, options: RenderOptions) -> tuple[np.ndarray, ...]:
    """40 tiles (H, W, 3) uint8, one per attribute, for the face's aligned crop.

    Uses the overlay's layer, head and colormap; opacity is kept at least 0.6
    so the maps stay readable when the live overlay is faint.
    """
    opacity = max(0.6, float(options.opacity))
    return tuple(
        blend_heatmap(
            face.aligned, attention_heatmap(face, index, options.layer, options.head), options.colormap, opacity
        )
        for index in range(NUM_ATTRIBUTES)
    )
