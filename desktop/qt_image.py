"""numpy RGB arrays <-> Qt images. The one place that knows QImage's memory rules."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap

__all__ = ["rgb_to_pixmap", "rgb_to_qimage"]


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """(h, w, 3) uint8 RGB -> a QImage that owns its pixels (safe after ``rgb`` is gone)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def rgb_to_pixmap(rgb: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(rgb_to_qimage(rgb))
