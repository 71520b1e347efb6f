"""A shown frame saved as the CLI would: the annotated PNG and its JSON sidecar, traced back to the frame.

Runs on the live worker's thread (:class:`~attricam.desktop.live_worker.LiveWorker` emits the outcome), so
the GUI never waits on the disk.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from attricam.engine.export import default_stem, export_snapshot

from .live_protocol import LivePacket

__all__ = ["save_snapshot"]


def save_snapshot(packet: LivePacket, folder: str) -> tuple[Path, Path]:
    """Write the frame of ``packet`` into ``folder``; returns (png, sidecar). Raises what the disk raises."""
    options = dataclasses.replace(packet.options, show_hud=True)  # exports carry the engine HUD like the CLI
    return export_snapshot(
        packet.frame,
        packet.result,
        options,
        folder,
        default_stem(),
        source=_source_name(packet),
        details=_snapshot_details(packet),
        comparison=packet.comparison,
    )


def _source_name(packet: LivePacket) -> str:
    """The file the frame came from ("b.jpg", "clip.mp4"), or the camera's label."""
    return Path(packet.source_path).name if packet.source_path else packet.source_label


def _snapshot_details(packet: LivePacket) -> dict[str, Any]:
    """Sidecar fields that trace a snapshot to its frame: the file, the filmstrip slot, the video frame.

    ``video_frame`` is the 1-based number the HUD showed; ``frame_index`` the same frame 0-based in the file
    (like ``attricam analyze``'s ``clip.mp4#frame=N``); ``analysed_frame_index`` counts analysed frames only.
    """
    details: dict[str, Any] = {
        "source_path": packet.source_path or None,
        "analysed_frame_index": packet.result.frame_index,
    }
    if packet.filmstrip is not None:
        details["filmstrip"] = {"index": packet.filmstrip[0] + 1, "count": packet.filmstrip[1]}
    if packet.video_frame is not None:
        number, count = packet.video_frame
        details.update(video_frame=number, video_frame_count=count or None, frame_index=number - 1)
    return details
