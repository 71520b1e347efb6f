"""Each live track's face descriptor: computed once, refreshed when due, never more than one in flight.

The video path of :class:`attricam.engine.pipeline.FacePipeline` hands every frame's tracked faces here and gets
back the newest descriptor of each (None while a track has none yet). Two ways to compute them:

* asynchronous (the live app): a :class:`~attricam.engine.descriptor_worker.DescriptorWorker` process describes
  one face at a time off the frame path; a track's descriptor is refreshed after ``refresh_s`` seconds;
* inline (``analyze`` on a video, tests): due faces are described in the calling thread, refreshed every
  ``refresh_frames`` frames, so results are deterministic.

One instance serves one descriptor kind: a model with another second opinion gets a new instance, so a worker
never keeps computing the previous model's descriptor.
"""

from __future__ import annotations

import numpy as np

from .descriptor_worker import DescriptorWorker, TrackDescriptors
from .face_descriptor import FaceDescriptor

__all__ = ["LiveDescriptors"]


class LiveDescriptors:
    def __init__(
        self,
        name: str,
        *,
        describer: FaceDescriptor | None,
        asynchronous: bool,
        refresh_s: float,
        refresh_frames: int,
    ) -> None:
        self.name = name
        """The descriptor kind (:data:`attricam.engine.face_descriptor.DESCRIPTOR_SIZES`) of the bundle's second opinion."""
        self._describer = describer
        self._asynchronous = asynchronous
        self._refresh_frames = refresh_frames
        self._store = TrackDescriptors(refresh_s=refresh_s if asynchronous else float(refresh_frames))
        self._worker: DescriptorWorker | None = None
        self._inline = 0

    @property
    def computed(self) -> int:
        """Descriptors computed so far, inline and by the worker (benchmarks amortise their cost)."""
        return self._inline + (self._worker.completed if self._worker is not None else 0)

    def set_refresh_s(self, refresh_s: float) -> None:
        if self._asynchronous:
            self._store.refresh_s = refresh_s

    def for_tracks(
        self, frame: np.ndarray, boxes: dict[int, np.ndarray], alive: set[int], frame_index: int
    ) -> dict[int, np.ndarray]:
        """The newest descriptor of each face in ``boxes`` (track id -> frame box) that has one.

        ``alive`` is every track the tracker still keeps (faces missed on this frame keep their descriptor)."""
        store = self._store
        store.keep_only(alive)
        ids = list(boxes)
        if self._asynchronous:
            if self._worker is None:
                self._worker = DescriptorWorker(self.name)
            for face_id, vector in self._worker.poll():
                if face_id in boxes:
                    store.store(face_id, vector)
            due = store.due(ids)
            if due:
                self._worker.submit(due[0], frame, boxes[due[0]])
        elif self._describer is not None:
            due = store.due(ids, now=float(frame_index))
            if due:
                vectors = self._describer.describe(frame, [boxes[t] for t in due])
                self._inline += len(due)
                for face_id, vector in zip(due, vectors):
                    store.store(face_id, vector, now=float(frame_index))
        return {face_id: store.vectors[face_id] for face_id in ids if face_id in store.vectors}

    def wait(self, timeout: float) -> None:
        """Block until the worker's answer in flight (if any) arrives, and keep it; for tests and benchmarks."""
        if self._worker is not None:
            for face_id, vector in self._worker.poll(timeout):
                self._store.store(face_id, vector)

    def clear(self) -> None:
        """Forget every track's descriptor (a new source)."""
        self._store.clear()

    def close(self) -> None:
        """Stop the worker process, if one was started."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None
