"""A face id never crosses a scene cut or a swap to another person, and no EMA mixes two people."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attricam.engine.bundle import ModelBundle
from attricam.engine.pipeline import FacePipeline, PipelineSettings
from attricam.engine.scene_change import CutDetector, appearance_distance, appearance_signature
from attricam.engine.tracking import FaceTracker
from attricam.training.config import shared_data_dir

REAL_PHOTOS = shared_data_dir("real-photos")


def _swap_frames(celeba_root: Path) -> tuple[list[np.ndarray], int]:
    """The benchmark clip's identity swap: person A, a hard cut, person B at the same place on the same backdrop."""
    from tests.fixtures.real_clip import SWAP_FACES, Scene, render_scenes

    scenes = tuple(Scene(f"celeba:{name}", (0.5, 0.5, 1.0), (0.5, 0.5, 0.95), 8) for name in SWAP_FACES)
    return list(render_scenes(scenes, REAL_PHOTOS, celeba_root)), 8


def _run(pipeline: FacePipeline, frames: list[np.ndarray]):
    pipeline.reset()
    return [pipeline.process(frame) for frame in frames]


@pytest.fixture(scope="module")
def bundle(random_bundle_path: Path) -> ModelBundle:
    return ModelBundle.load(random_bundle_path)


@pytest.mark.parametrize("cut_threshold", [0.35, 0.0], ids=["cut-detector", "appearance-only"])
def test_swap_at_the_same_place_gets_a_new_id_and_an_unmixed_ema(bundle, celeba_root, cut_threshold):
    frames, cut = _swap_frames(celeba_root)
    pipeline = FacePipeline(bundle, PipelineSettings(device="cpu", full_detect_every=5, cut_threshold=cut_threshold))
    results = _run(pipeline, frames)
    assert all(len(r.faces) == 1 for r in results)
    before = {r.faces[0].face_id for r in results[:cut]}
    after = {r.faces[0].face_id for r in results[cut:]}
    assert len(before) == 1 and len(after) == 1 and before != after
    first_after = results[cut].faces[0]
    np.testing.assert_array_equal(first_after.probabilities, first_after.raw_probabilities)  # a fresh EMA


def test_the_same_face_moving_keeps_its_id(bundle, celeba_faces):
    from .conftest import paste_face

    pipeline = FacePipeline(bundle, PipelineSettings(device="cpu", full_detect_every=5))
    results = _run(pipeline, [paste_face(celeba_faces[0], at=(150 + 4 * i, 60 + 2 * i)) for i in range(12)])
    assert {r.faces[0].face_id for r in results} == {0}


def test_cut_detector_fires_on_cuts_only(celeba_root):
    from tests.fixtures.real_clip import default_scenes, render_scenes, scene_starts

    if not REAL_PHOTOS.is_dir():
        pytest.skip(f"{REAL_PHOTOS}: real photos not found")
    scenes = tuple(s.__class__(s.source, s.start, s.end, 6) for s in default_scenes())
    detector = CutDetector()
    cuts = [i for i, frame in enumerate(render_scenes(scenes, REAL_PHOTOS, celeba_root)) if detector.is_cut(frame)]
    assert cuts == scene_starts(scenes)[1:]


def test_appearance_tells_two_people_apart_but_not_one_person_moving(celeba_faces):
    from .conftest import paste_face

    box = np.array([200, 80, 485, 430], np.float32)
    a0 = appearance_signature(paste_face(celeba_faces[0]), box)
    a1 = appearance_signature(paste_face(celeba_faces[0], at=(204, 82)), box)
    b = appearance_signature(paste_face(celeba_faces[3]), box)
    tracker = FaceTracker()
    assert appearance_distance(a0, a1) < tracker.max_appearance_change < appearance_distance(a0, b)


def test_tracker_ends_a_track_when_the_face_changes():
    tracker = FaceTracker()
    box = np.array([[10, 10, 110, 110]], np.float32)
    light, dark = np.full((3, 16, 16), 200, np.float32), np.full((3, 16, 16), 20, np.float32)
    light[0, :8], dark[0, 8:] = 50, 230  # opposite lightness patterns
    first = tracker.assign(box, [light])
    assert tracker.assign(box + 1, [light]) == first
    assert tracker.assign(box + 2, [dark]) != first
    tracker.end_all()
    assert tracker.assign(box, [dark]) not in (first, [1])  # ids keep counting after a cut
