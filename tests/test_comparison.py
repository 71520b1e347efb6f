"""A second model on the live pipeline's faces: same faces, its own answer, disagreements rare first, and the
one renderer and exporter drawing and writing both."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from attricam.engine.attributes import ATTRIBUTE_NAMES, ATTRIBUTES, attribute_index
from attricam.engine.bundle import random_bundle
from attricam.engine.comparison import ModelComparison, SecondModel, disagreement_order
from attricam.engine.export import export_snapshot
from attricam.engine.pipeline import FacePipeline, PipelineSettings
from attricam.engine.render import RenderOptions, render_frame
from attricam.engine.render_comparison import render_comparison


@pytest.fixture(scope="module")
def two_models(celeba_faces):
    """The first CelebA face analysed by one random model, and a second random model on the same faces."""
    frame = celeba_faces[0]
    pipeline = FacePipeline(random_bundle(seed=0), PipelineSettings(device="cpu", second_opinion=False))
    first = pipeline.analyze_image(frame)
    assert first.faces, "the detector must find the CelebA face"
    second = SecondModel(random_bundle(seed=1), label="other/model.pt", device="cpu")
    return frame, first, second


def test_the_second_model_answers_for_the_same_faces(two_models):
    frame, first, second = two_models
    other = second.analyze(frame, first, smooth=False)
    assert [f.face_id for f in other.faces] == [f.face_id for f in first.faces]
    for a, b in zip(first.faces, other.faces):
        np.testing.assert_array_equal(a.box, b.box)
        assert b.attention.shape[2] == len(ATTRIBUTE_NAMES)
        np.testing.assert_array_equal(b.decisions, b.probabilities >= b.thresholds)
        assert not np.allclose(a.probabilities, b.probabilities)  # another model, another answer


def test_video_smoothing_follows_each_face_and_resets(two_models):
    frame, first, second = two_models
    second.reset()
    once = second.analyze(frame, first, smooth=True).faces[0].probabilities
    again = second.analyze(frame, first, smooth=True).faces[0].probabilities
    np.testing.assert_allclose(once, again, atol=1e-6)  # the same frame: the EMA stays where it is
    second.reset()
    np.testing.assert_allclose(second.analyze(frame, first, smooth=True).faces[0].probabilities, once, atol=1e-6)


def test_disagreements_come_first_rarest_first(two_models):
    frame, first, second = two_models
    comparison = ModelComparison(first, second.analyze(frame, first, smooth=False), "a.pt", "b.pt")
    face_id = first.faces[0].face_id
    a, b = comparison.pair(face_id)
    differ = set(np.flatnonzero(a.decisions != b.decisions).tolist())
    assert differ, "two random models should disagree somewhere"
    order = disagreement_order(a, b)
    assert sorted(order) == list(range(len(ATTRIBUTE_NAMES)))
    assert set(order[: len(differ)]) == differ
    rates = [ATTRIBUTES[i].frequency for i in comparison.disagreements(face_id)]
    assert rates == sorted(rates)


def test_render_and_export_carry_both_models(two_models, tmp_path):
    frame, first, second = two_models
    comparison = ModelComparison(first, second.analyze(frame, first, smooth=False), "a/model.pt", "b/model.pt")
    face_id = first.faces[0].face_id
    options = RenderOptions(attribute=attribute_index("Smiling"), selected_face=face_id)
    picture = render_comparison(frame, comparison, options)
    single = render_frame(frame, first, options)
    assert picture.shape[1] > single.shape[1] and picture.shape[0] >= single.shape[0]
    shown = picture[: single.shape[0], : single.shape[1]]
    np.testing.assert_array_equal(shown, single)  # the frame itself as the CLI draws it

    png, sidecar = export_snapshot(frame, first, options, tmp_path, "both", comparison=comparison)
    assert cv2.imread(str(png)).shape[:2] == picture.shape[:2]
    data = json.loads(sidecar.read_text())
    assert data["model"] == first.model_name  # the first model's answer stays where it always was
    assert data["comparison"]["first_model"] == "a/model.pt" and data["comparison"]["model"] == "b/model.pt"
    entry = data["comparison"]["faces"][0]
    assert entry["face"] == face_id and set(entry["probabilities"]) == set(ATTRIBUTE_NAMES)
    assert [d["attribute"] for d in entry["disagreements"]] == [
        ATTRIBUTE_NAMES[i] for i in comparison.disagreements(face_id)
    ]
