"""The live tab's rules without a window: what a step, a pause or a new frame does to the session, and the HUD."""

from __future__ import annotations

import numpy as np
import pytest

from attricam.desktop.live_hud import ShownRate, hud_lines
from attricam.desktop.live_session import LiveSession, StepPlan
from attricam.desktop.live_worker import LivePacket
from attricam.desktop.sources import SourceSpec
from attricam.engine.render import RenderOptions
from attricam.engine.results import FaceResult, FrameResult, StageTimings


def _face(face_id: int) -> FaceResult:
    p = np.full(40, 0.2, np.float32)
    return FaceResult(
        face_id=face_id,
        box=np.array([10, 10, 60, 70], np.float32),
        score=0.99,
        landmarks=np.zeros((5, 2), np.float32),
        probabilities=p,
        raw_probabilities=p,
        decisions=p > 0.5,
        thresholds=np.full(40, 0.5, np.float32),
        attention=np.zeros((1, 1, 40, 12, 10), np.float32),
        aligned=np.zeros((96, 80, 3), np.uint8),
        align_matrix=np.eye(2, 3, dtype=np.float32),
    )


def _packet(ids, *, serial: int = 1, filmstrip=None) -> LivePacket:
    frame = np.zeros((48, 64, 3), np.uint8)
    result = FrameResult(
        frame_index=serial,
        frame_size=(64, 48),
        faces=tuple(_face(i) for i in ids),
        timings=StageTimings(detect_ms=3.2, classify_ms=2.1),
        model_name="m.pt",
    )
    return LivePacket(
        serial=serial,
        frame=frame,
        annotated=frame,
        result=result,
        options=RenderOptions(),
        tiles=None,
        tiles_face=None,
        fps=29.7,
        latency_ms=12.4,
        position="frame 5 / 40",
        source_label="clip.mp4",
        filmstrip=filmstrip,
    )


VIDEO = SourceSpec("video", paths=("clip.mp4",))
IMAGES = SourceSpec("images", paths=("a.jpg", "b.jpg"))
CAMERA = SourceSpec("camera", camera=0)


@pytest.mark.parametrize(
    ("spec", "paused", "delta", "plan"),
    [
        (None, False, 1, StepPlan(False, False)),
        (IMAGES, False, -1, StepPlan(False, True)),  # a filmstrip never pauses
        (VIDEO, False, 1, StepPlan(True, True)),  # a playing video pauses, then steps one frame
        (VIDEO, True, -1, StepPlan(False, True)),
        (CAMERA, True, 1, StepPlan(False, True)),
        (CAMERA, True, -1, StepPlan(False, False)),  # a camera cannot go back
    ],
)
def test_step_plan(spec, paused, delta, plan):
    session = LiveSession()
    if spec is not None:
        session.source_opened(spec)
    session.paused = paused
    assert session.step_plan(delta) == plan


def test_opening_a_source_resumes_and_clears_the_unreadable_reason():
    session = LiveSession()
    session.unreadable, session.paused = "broken.mp4: cannot decode", True
    session.source_opened(VIDEO)
    assert (session.spec, session.paused, session.unreadable) == (VIDEO, False, "")
    assert session.pausable and session.seekable
    session.source_opened(IMAGES)
    assert not session.pausable and not session.seekable
    session.show(_packet([0]))
    session.source_closed()
    assert session.spec is None and session.packet is None


def test_a_new_frame_keeps_the_selected_face_or_picks_the_first():
    session = LiveSession()
    assert session.show(_packet([3, 5])) is True and session.selected_face == 3
    session.select_face(5)
    assert session.show(_packet([3, 5], serial=2)) is False and session.selected_face == 5
    assert session.show(_packet([7], serial=3)) is True and session.selected_face == 7  # face 5 left
    assert session.show(_packet([], serial=4)) is False and session.selected_face == 7  # no face: keep it
    session.show(_packet([1, 4, 9], serial=5))
    session.select_face(9)
    assert session.next_face() == 1  # wraps


def test_hud_for_video_and_filmstrip():
    video = hud_lines(_packet([0, 1]), paused=True, shown_fps=24.0, model_label="run-3/model.pt")
    assert video[0] == "clip.mp4   frame 5 / 40   PAUSED"
    assert video[1] == "paused · ← / → one frame · Space resumes"  # no stale rate while nothing plays
    playing = hud_lines(_packet([0, 1]), paused=False, shown_fps=24.0)
    assert playing[0] == "clip.mp4   frame 5 / 40" and playing[1] == " 24.0 fps shown ·  29.7 fps analysed"
    ended = hud_lines(_packet([0, 1]), paused=True, shown_fps=24.0, ended=True)
    assert ended[0].endswith("ENDED") and "Space plays it again" in ended[1]
    assert video[2] == "latency  12.4 ms (detect 3 · model 2 ms)"
    assert video[3] == "2 face(s) · run-3/model.pt"
    still = hud_lines(_packet([0], filmstrip=(0, 2)), paused=False, shown_fps=0.0)
    assert still == ["frame 5 / 40", "analysed in 12 ms (detect 3 · model 2 ms)", "1 face(s) · m.pt"]


def test_shown_rate_counts_frames_in_the_last_two_seconds():
    rate = ShownRate(window_s=2.0)
    assert rate.tick(10.0) == 0.0
    for i in range(1, 21):
        value = rate.tick(10.0 + i * 0.1)
    assert value == pytest.approx(10.0)
    assert rate.tick(20.0) == 0.0  # a long pause: only this frame is in the window


def test_a_request_in_flight_is_busy_until_its_frame_is_shown_or_it_is_done():
    import dataclasses

    session = LiveSession()
    session.source_opened(SourceSpec("images", paths=("a.jpg", "b.jpg", "c.mp4")))
    session.show(dataclasses.replace(_packet([0], filmstrip=(0, 3)), request=1))
    assert not session.busy
    session.requested(2, session.step_target(1))
    assert session.busy and session.waiting_for == "b.jpg"
    session.show(dataclasses.replace(_packet([0], serial=2, filmstrip=(1, 3)), request=2))
    assert not session.busy
    session.requested(3, session.step_target(5))  # past the end: the last item; the worker says "done", no frame
    assert session.waiting_for == "c.mp4" and session.busy
    session.finished(3)
    assert not session.busy
    assert session.strip_video() is None  # b.jpg is on screen
    session.show(dataclasses.replace(_packet([0], serial=3, filmstrip=(2, 3)), request=3))
    assert session.strip_video() == dataclasses.replace(session.spec, start=2)


def test_a_renumbered_person_keeps_the_selection():
    import dataclasses

    session = LiveSession()
    session.source_opened(VIDEO)
    session.show(_packet([0, 1]))
    session.select_face(1)
    moved = dataclasses.replace(_packet([0, 1], serial=2), selection_moved=(1, 0))
    assert session.show(moved) and session.selected_face == 0  # new options for the worker
    assert not session.show(dataclasses.replace(moved, serial=3)) and session.selected_face == 0  # once only
