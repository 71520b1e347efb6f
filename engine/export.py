"""Snapshot export: the annotated frame as PNG plus a JSON sidecar, both written atomically."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .atomic import atomic_path, atomic_write_text
from .comparison import ModelComparison
from .render import RenderOptions, render_frame
from .render_comparison import render_comparison
from .results import FrameResult

__all__ = ["default_stem", "export_snapshot", "write_png"]


def default_stem(prefix: str = "attricam") -> str:
    return f"{prefix}-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')[:-3]}"


def write_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Atomic PNG write of an RGB uint8 image; raises OSError naming the file when encoding fails."""
    path = Path(path)
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"{path}: PNG encoding failed")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())
    return path


def export_snapshot(
    frame: np.ndarray,
    result: FrameResult,
    options: RenderOptions | None,
    folder: str | Path,
    stem: str | None = None,
    source: str | None = None,
    details: dict[str, Any] | None = None,
    comparison: ModelComparison | None = None,
) -> tuple[Path, Path]:
    """Write ``<stem>.png`` (annotated) and ``<stem>.json`` (per-face results) into ``folder``.

    The sidecar names the source, records the overlay settings the PNG was drawn with and merges
    ``details`` (e.g. ``source_path``, ``video_frame``) so a snapshot can be traced back to its frame.
    With a ``comparison`` (a second model on the same faces) the PNG carries both models side by side
    (:func:`render_comparison`) and the sidecar a ``comparison`` entry (:meth:`ModelComparison.as_dict`).
    """
    folder = Path(folder)
    stem = stem or default_stem()
    options = options or RenderOptions()
    picture = (
        render_frame(frame, result, options) if comparison is None else render_comparison(frame, comparison, options)
    )
    png = write_png(folder / f"{stem}.png", picture)
    payload = {"source": source, "image": png.name, "overlay": options.overlay_settings(), **result.as_dict()}
    payload["reliability"] = result.reliability_dict()
    if comparison is not None:
        payload["comparison"] = comparison.as_dict()
    payload.update(details or {})
    json_path = folder / f"{stem}.json"
    try:
        atomic_write_text(json_path, json.dumps(payload, indent=2))
    except BaseException:
        png.unlink(missing_ok=True)  # a PNG without its sidecar is half an export: leave neither
        raise
    return png, json_path
