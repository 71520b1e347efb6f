"""The positive-weight rule of the weighted recipes, in numpy: the loss and the dashboard share it."""

from __future__ import annotations

import numpy as np

__all__ = ["capped_pos_weights"]


def capped_pos_weights(frequencies: np.ndarray, cap: float) -> np.ndarray:
    """clip(1 / (freq + 0.001), 1, cap): the course's "aggressive weights", capped."""
    return np.clip(1.0 / (np.asarray(frequencies, dtype=np.float64) + 0.001), 1.0, cap)
