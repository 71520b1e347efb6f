"""Face descriptors for live video: once per track, refreshed now and then, never on the frame path.

A descriptor costs ~5 ms in onnxruntime (~80 ms with dlib's own network, the fallback, which holds Python's
GIL throughout, so a thread would stall the frame path and the Qt GUI thread); a separate process keeps even
the fallback off the frame path. The pipeline hands the worker a crop around a
tracked face; the answer comes back a few frames later and is kept per track
(:class:`TrackDescriptors`) until the track ends or the descriptor is older than ``refresh_s``. At most one
request is in flight, so a busy worker is skipped, never queued: with 8 faces refreshed every second the
worker is busy ~0.05 s of every second on one core (~0.7 s with the fallback), and the frame path never waits.

The process is started on first use (~1 s while the frame path keeps running) and stopped by ``close()``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DescriptorWorker", "TrackDescriptors"]

log = logging.getLogger(__name__)
_UNAVAILABLE = "unavailable"
"""The child's answer when it cannot compute this descriptor at all (e.g. the ONNX conversion failed)."""
_MARGIN = 0.4
"""Each crop handed to the worker grows the box by this fraction per side: dlib's chip reaches past the box."""


def _serve(requests: Any, answers: Any, nice: int, name: str) -> None:  # pragma: no cover - runs in the child
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)
    from .face_descriptor import load_face_descriptor

    describer = load_face_descriptor(name)
    while True:
        job = requests.get()
        if job is None:
            return
        key, crop, box = job
        if describer is None:
            answers.put((key, None, _UNAVAILABLE))
            return
        try:
            vector = describer.describe(crop, [box])[0]
        except Exception as exc:  # noqa: BLE001 - the live view must keep running; the parent logs it
            answers.put((key, None, f"{type(exc).__name__}: {exc}"))
            continue
        answers.put((key, vector, ""))


def crop_around(frame: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A copy of the frame around ``box`` (with margin) and the box in that crop's coordinates."""
    height, width = frame.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    mx, my = (x2 - x1) * _MARGIN, (y2 - y1) * _MARGIN
    left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
    right, bottom = min(width, int(np.ceil(x2 + mx))), min(height, int(np.ceil(y2 + my)))
    crop = np.ascontiguousarray(frame[top:bottom, left:right])
    return crop, np.array([x1 - left, y1 - top, x2 - left, y2 - top], np.float32)


class DescriptorWorker:
    """A child process computing one descriptor at a time; ``submit`` refuses while one is in flight."""

    def __init__(self, name: str = "dlib-resnet-v1", *, nice: int = 5) -> None:
        self._name = name
        """Which descriptor (:data:`attricam.engine.face_descriptor.DESCRIPTOR_SIZES`) the child computes."""
        self._nice = nice
        self._process: Any = None
        self._requests: Any = None
        self._answers: Any = None
        self._in_flight: int | None = None
        self.completed = 0
        """Descriptors delivered so far (benchmarks amortise their cost over the faces shown)."""
        self.failed = False
        """The child process died (e.g. killed, or a script without a ``__main__`` guard); faces keep the model's
        own answer and no new process is started."""

    @property
    def busy(self) -> bool:
        return self._in_flight is not None

    def _start(self) -> None:
        context = mp.get_context("spawn")
        self._requests, self._answers = context.Queue(), context.Queue()
        self._process = context.Process(
            target=_serve,
            args=(self._requests, self._answers, self._nice, self._name),
            name="attricam-descriptor",
            daemon=True,
        )
        self._process.start()

    def submit(self, key: int, frame: np.ndarray, box: np.ndarray) -> bool:
        """Hand over the face in ``box`` under ``key`` (a track id); False when a request is still in flight."""
        if self._in_flight is not None or self.failed:
            return False
        if self._process is None:
            self._start()
        crop, local_box = crop_around(frame, box)
        self._requests.put((key, crop, local_box))
        self._in_flight = key
        return True

    def poll(self, timeout: float = 0.0) -> list[tuple[int, np.ndarray]]:
        """Finished (key, descriptor) pairs; waits up to ``timeout`` seconds for the first."""
        done: list[tuple[int, np.ndarray]] = []
        if self._answers is None:
            return done
        block = timeout > 0
        while True:
            try:
                key, vector, error = self._answers.get(block, timeout) if block else self._answers.get_nowait()
            except queue.Empty:
                if self._in_flight is not None and not self._process.is_alive():
                    self._give_up()
                return done
            block = False
            self._in_flight = None
            if vector is None and error == _UNAVAILABLE:
                log.warning("%s cannot be computed here; faces keep the attribute model's own answer", self._name)
                self.failed = True
                return done
            if vector is None:
                log.warning("face descriptor failed (%s); that face keeps the model's own answer", error or "?")
                continue
            self.completed += 1
            done.append((int(key), np.asarray(vector, np.float32)))

    def _give_up(self) -> None:
        log.warning(
            "the face-descriptor process ended (exit code %s); faces keep the attribute model's own answer",
            self._process.exitcode,
        )
        self.failed, self._in_flight = True, None

    def close(self) -> None:
        """Stop the child and join the queue's feeder thread, so no thread or process outlives the pipeline."""
        if self._process is None:
            return
        with contextlib.suppress(Exception):
            self._requests.put(None)
        self._process.join(timeout=3)
        terminated = self._process.is_alive() or self._process.exitcode != 0  # killed or crashed: requests unread
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=2)
        for q in (self._requests, self._answers):
            with contextlib.suppress(Exception):
                q.close()
                if terminated:
                    q.cancel_join_thread()  # the child died holding unread requests: do not wait for them
                else:
                    q.join_thread()
        self._process, self._requests, self._answers, self._in_flight = None, None, None, None


@dataclass
class TrackDescriptors:
    """The newest descriptor of each live track and when it was computed."""

    refresh_s: float = 1.0
    vectors: dict[int, np.ndarray] = field(default_factory=dict)
    stamps: dict[int, float] = field(default_factory=dict)

    def store(self, track_id: int, vector: np.ndarray, now: float | None = None) -> None:
        self.vectors[track_id] = vector
        self.stamps[track_id] = time.monotonic() if now is None else now

    def due(self, track_ids: list[int], now: float | None = None) -> list[int]:
        """Tracks without a descriptor first, then those whose descriptor is older than ``refresh_s``, oldest first."""
        now = time.monotonic() if now is None else now
        missing = [t for t in track_ids if t not in self.vectors]
        stale = sorted(
            (t for t in track_ids if t in self.stamps and now - self.stamps[t] >= self.refresh_s),
            key=lambda t: self.stamps[t],
        )
        return missing + stale

    def keep_only(self, track_ids: set[int]) -> None:
        for t in list(self.vectors):
            if t not in track_ids:
                self.vectors.pop(t, None)
                self.stamps.pop(t, None)

    def clear(self) -> None:
        self.vectors.clear()
        self.stamps.clear()
