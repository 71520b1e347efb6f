"""The full cascade off the frame path: faces are found, ids stay, the thread stops when asked."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from attricam.engine.background_detection import BackgroundDetector
from attricam.engine.bundle import ModelBundle
from attricam.engine.pipeline import FacePipeline, PipelineSettings

from .conftest import paste_face


def _detector_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "attricam-detect" and t.is_alive()]


def test_one_frame_in_flight_newest_answer_and_a_clean_close():
    release = threading.Event()

    def slow_detect(frame):
        release.wait(5)
        return [int(frame[0, 0, 0])]

    worker = BackgroundDetector(slow_detect)
    assert worker.submit(0, np.full((4, 4, 3), 7, np.uint8))
    assert not worker.submit(1, np.zeros((4, 4, 3), np.uint8))  # refused, never queued
    assert worker.take() is None
    release.set()
    assert worker.wait_idle(5)
    answer = worker.take()
    assert answer.frame_index == 0 and answer.detections == [7] and worker.take() is None
    worker.close()
    assert not _detector_threads()


def test_discard_drops_a_stale_answer_and_errors_reach_the_caller():
    def failing(frame):
        if frame[0, 0, 0] == 1:
            raise ValueError("broken frame")
        return []

    worker = BackgroundDetector(failing)
    worker.submit(0, np.zeros((2, 2, 3), np.uint8))
    worker.wait_idle(5)
    worker.discard()
    assert worker.take() is None
    worker.submit(1, np.ones((2, 2, 3), np.uint8))
    worker.wait_idle(5)
    with pytest.raises(RuntimeError, match="background face detector failed"):
        worker.submit(2, np.zeros((2, 2, 3), np.uint8))
    worker.close()
    assert not _detector_threads()


def test_live_path_with_background_search_keeps_the_face_and_its_id(random_bundle_path, celeba_faces):
    settings = PipelineSettings(device="cpu", full_detect_every=3, background_detection=True)
    pipeline = FacePipeline(ModelBundle.load(random_bundle_path), settings)
    try:
        results = []
        for i in range(12):
            results.append(pipeline.process(paste_face(celeba_faces[0], at=(150 + 3 * i, 60 + i))))
            pipeline.wait_for_detection(10)  # make the test independent of this machine's speed
        assert results[0].timings.full_detection and len(results[0].faces) == 1  # the first frame searches at once
        assert all(len(r.faces) == 1 for r in results)
        assert {r.faces[0].face_id for r in results} == {0}
        assert any(r.timings.full_detection for r in results[1:])  # background answers were merged
        assert _detector_threads()
    finally:
        pipeline.close()
    assert not _detector_threads()


def test_background_search_adds_a_face_that_walks_in(random_bundle_path, celeba_faces):
    settings = PipelineSettings(device="cpu", full_detect_every=2, background_detection=True, cut_threshold=0.0)
    pipeline = FacePipeline(ModelBundle.load(random_bundle_path), settings)
    one = paste_face(celeba_faces[0], at=(10, 100), scale=1.3)
    two = one.copy()
    two[100 : 100 + 283, 350 : 350 + 231] = paste_face(celeba_faces[3], scale=1.3, at=(0, 0))[:283, :231]
    try:
        first = pipeline.process(one)
        counts = []
        for _ in range(8):
            counts.append(len(pipeline.process(two).faces))
            pipeline.wait_for_detection(10)
        assert len(first.faces) == 1 and counts[0] == 1 and counts[-1] == 2  # found off the frame path, then merged
    finally:
        pipeline.close()


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="thread niceness is a Linux feature")
def test_nice_lowers_only_the_search_threads_priority():
    seen = []

    def detect(frame):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return []

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = BackgroundDetector(detect, nice=3)
    try:
        assert worker.submit(0, np.zeros((8, 8, 3), np.uint8))
        assert worker.wait_idle(10)
    finally:
        worker.close()
    assert seen == [min(base + 3, 19)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the caller keeps its own
