"""The lines of text the live view prints over the video, and the shown-frames rate they quote.

Plain functions of a :class:`~attricam.desktop.live_worker.LivePacket`, so the HUD is testable without a window.
"""

from __future__ import annotations

from collections import deque

from .live_worker import LivePacket

__all__ = ["ShownRate", "hud_lines"]


class ShownRate:
    """Frames shown per second over the last ``window_s`` seconds (times from ``time.perf_counter``)."""

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque(maxlen=600)

    def tick(self, now: float) -> float:
        """Count a frame shown at ``now``; the rate over the window ending there."""
        self._times.append(now)
        while now - self._times[0] > self.window_s:
            self._times.popleft()
        span = now - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0


def hud_lines(
    packet: LivePacket, *, paused: bool, shown_fps: float, model_label: str | None = None, ended: bool = False
) -> list[str]:
    """HUD for ``packet``: where in the source, rates (video and camera), latency with its two big stages, and
    the faces with the model's name (``model_label`` when the window knows a better one than the bundle's).

    Paused or ended, no rate is quoted: nothing is being shown or analysed per second then."""
    result = packet.result
    t = result.timings
    stages = f"detect {t.detect_ms:.0f} · model {t.classify_ms:.0f} ms"
    faces = f"{len(result.faces)} face(s) · {model_label or result.model_name}"
    if packet.filmstrip is not None:
        return [packet.position, f"analysed in {packet.latency_ms:.0f} ms ({stages})", faces]
    state = "   ENDED" if ended else "   PAUSED" if paused else ""
    if ended:
        rates = "end of the video · Space plays it again"
    elif paused:
        rates = "paused · ← / → one frame · Space resumes"
    else:
        rates = f"{shown_fps:5.1f} fps shown · {packet.fps:5.1f} fps analysed"
    return [
        f"{packet.source_label}   {packet.position}{state}",
        rates,
        f"latency {packet.latency_ms:5.1f} ms ({stages})",
        faces,
    ]
