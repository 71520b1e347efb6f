"""The full MTCNN cascade on its own thread, so a video frame never waits for it.

On a real 640x360 clip the full cascade costs ~45 ms on this machine's CPU —
more than a 30 fps frame may take — while O-Net refinement of known faces
costs ~2 ms per face. The live path therefore refines tracked faces on every
frame and hands a frame to this worker now and then; when the worker's answer
arrives a few frames later, the pipeline refines its boxes on the *current*
frame and merges them into the tracker (new faces join, vanished ones end).

Plain ``threading``, no Qt: the engine stays usable from the CLI, tests and the
desktop's own worker thread. One frame is in flight at a time (a frame handed
in while the worker is busy is refused, never queued), so the worker can never
fall behind. ``close()`` stops and joins the thread.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .detection import Detection

__all__ = ["BackgroundDetector", "DetectionResult"]


@dataclass(frozen=True)
class DetectionResult:
    frame_index: int
    """Index of the frame the detections were found in (it is older than the frame being processed)."""
    detections: list[Detection]


class BackgroundDetector:
    """Runs ``detect(frame)`` on a daemon thread, one frame at a time; the newest answer waits in ``take()``."""

    def __init__(
        self, detect: Callable[[np.ndarray], list[Detection]], name: str = "attricam-detect", *, nice: int = 0
    ) -> None:
        self._detect = detect
        self._name = name
        self._nice = nice
        self._cv = threading.Condition()
        self._job: tuple[int, int, np.ndarray] | None = None  # generation, frame index, frame
        self._result: tuple[int, DetectionResult] | None = None
        self._busy = False
        self._closed = False
        self._generation = 0
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        """A frame is waiting or being searched."""
        with self._cv:
            return self._busy

    def submit(self, frame_index: int, frame: np.ndarray) -> bool:
        """Hand over a copy of ``frame``; False (and nothing happens) while the previous one is not done."""
        with self._cv:
            if self._closed:
                raise RuntimeError("BackgroundDetector is closed")
            if self._error is not None:
                error, self._error = self._error, None
                raise RuntimeError("the background face detector failed") from error
            if self._busy:
                return False
            self._busy = True
            self._job = (self._generation, frame_index, frame.copy())
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cv.notify_all()
            return True

    def take(self) -> DetectionResult | None:
        """The answer that arrived since the last call, if any (answers to frames before ``discard()`` are dropped)."""
        with self._cv:
            if self._result is None:
                return None
            generation, result = self._result
            self._result = None
            return result if generation == self._generation else None

    def discard(self) -> None:
        """Forget the answer in flight (the source changed, or a scene cut made it stale)."""
        with self._cv:
            self._generation += 1
            self._result = None

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no frame is in flight (tests and benchmarks' end); False on timeout."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._busy, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread and join it (the frame being searched, if any, finishes first)."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        if self._nice and hasattr(os, "setpriority"):
            # Linux schedules threads one by one: a nicer search thread leaves a busy machine's cores to the
            # frame path and, in the desktop app, to the GUI thread.
            with contextlib.suppress(OSError):
                native = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, native, os.getpriority(os.PRIO_PROCESS, native) + self._nice)
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._closed or self._job is not None)
                if self._closed:
                    return
                job = self._job
                self._job = None
            if job is None:  # only when closed, handled above; keeps the type checker sure of it
                continue
            generation, frame_index, frame = job
            try:
                detections = self._detect(frame)
            except BaseException as exc:  # noqa: BLE001 - any failure is reported to the frame path at the next submit
                with self._cv:
                    self._error, self._busy = exc, False
                    self._cv.notify_all()
                continue
            with self._cv:
                self._result = (generation, DetectionResult(frame_index, detections))
                self._busy = False
                self._cv.notify_all()
