"""The face network's second opinion: fused before calibration, carried safely in the bundle, optional at run time,
and the reliability figures every view reads."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from attricam.engine.attributes import ATTRIBUTE_NAMES, attribute_index
from attricam.engine.bundle import BundleError, ModelBundle
from attricam.engine.bundle_checks import decision_fields
from attricam.engine.decision import DecisionRule, logit
from attricam.engine.descriptor_worker import TrackDescriptors, crop_around
from attricam.engine.face_descriptor import descriptor_unavailable_reason
from attricam.engine.pipeline import FacePipeline, PipelineSettings
from attricam.engine.reliability import RELIABLE_AUC, ModelReliability
from attricam.engine.render import RenderOptions
from attricam.engine.second_opinion import SecondOpinion

NEEDS_DLIB = pytest.mark.skipif(
    descriptor_unavailable_reason() is not None, reason=f"face descriptor: {descriptor_unavailable_reason()}"
)


def _opinion(seed: int = 0, blend: float = 1.0) -> SecondOpinion:
    rng = np.random.default_rng(seed)
    return SecondOpinion(
        "dlib-resnet-v1",
        rng.normal(0, 0.05, 128),
        np.full(128, 0.05),
        rng.normal(0, 0.1, (40, 128)),
        rng.normal(0, 0.5, 40),
        np.full(40, blend),
        DecisionRule(np.full(40, 0.9), np.full(40, -0.1), np.full(40, 0.4)),
    )


def _reliability_metadata(low: tuple[str, ...] = ("Big_Lips", "Pointy_Nose"), model_auc: float = 0.85) -> dict:
    auc = [0.6 if n in low else 0.9 for n in ATTRIBUTE_NAMES]
    section = {"source": "test", "faces": 100, "auc": auc, "precision": [0.5] * 40, "recall": [0.7] * 40}
    return {"trained": True, "reliability": {"fused": section, "model_only": {**section, "auc": [model_auc] * 40}}}


def test_fusion_with_zero_blend_is_the_model_alone_and_moves_along_the_probe_otherwise():
    raw = np.random.default_rng(1).uniform(0.05, 0.95, (3, 40)).astype(np.float32)
    descriptors = np.random.default_rng(2).normal(0, 0.05, (3, 128)).astype(np.float32)
    assert np.allclose(_opinion(blend=0.0).fuse(raw, descriptors), raw, atol=1e-5)
    opinion = _opinion(blend=0.5)
    expected = logit(raw) + 0.5 * opinion.probe_logits(descriptors)
    assert np.allclose(logit(opinion.fuse(raw, descriptors)), expected, atol=1e-3)


def test_second_opinion_round_trips_and_refuses_bad_shapes_or_numbers():
    opinion = _opinion()
    again = SecondOpinion.from_dict(opinion.to_dict())
    assert np.array_equal(again.weight, opinion.weight) and np.array_equal(
        again.rule.thresholds, opinion.rule.thresholds
    )
    data = opinion.to_dict()
    with pytest.raises(ValueError, match="weight"):
        SecondOpinion.from_dict({**data, "weight": data["weight"][:39]})
    with pytest.raises(ValueError, match="non-finite"):
        SecondOpinion.from_dict({**data, "blend": [float("nan")] * 40})


def test_bundle_keeps_its_second_opinion_and_a_hash_that_covers_it(random_bundle_path, tmp_path):
    plain = ModelBundle.load(random_bundle_path)
    assert plain.opinion is None and "second_opinion" not in decision_fields(plain)  # older hashes still hold
    fused = ModelBundle(
        config=plain.config,
        state_dict=plain.state_dict,
        thresholds=plain.thresholds,
        metadata=dict(plain.metadata),
        calibration=plain.calibration,
        second_opinion=_opinion().to_dict(),
    )
    path = fused.save(tmp_path / "fused.pt")
    loaded = ModelBundle.load(path)
    assert loaded.opinion is not None and np.allclose(loaded.opinion.blend, 1.0)
    assert loaded.decision_hash == fused.decision_hash != plain.decision_hash
    broken = ModelBundle(
        config=plain.config,
        state_dict=plain.state_dict,
        thresholds=plain.thresholds,
        second_opinion={**_opinion().to_dict(), "std": [0.0] * 128},
    )
    broken.save(tmp_path / "broken.pt")
    with pytest.raises(BundleError, match="second opinion std"):
        ModelBundle.load(tmp_path / "broken.pt")


def test_reliability_marks_attributes_under_the_bar():
    fused = ModelReliability.from_metadata(_reliability_metadata(), fused=True)
    assert fused is not None and fused.unreliable_names == ("Big_Lips", "Pointy_Nose")
    assert fused.reliable.sum() == 38 and pytest.approx(0.8) == RELIABLE_AUC
    tip = fused.attributes[attribute_index("Big_Lips")].tooltip()
    assert "UNRELIABLE" in tip and "AUC 0.60" in tip and "precision 0.50" in tip
    model_only = ModelReliability.from_metadata(_reliability_metadata(), fused=False)
    assert model_only is not None and model_only.reliable.all()
    assert ModelReliability.from_metadata({"trained": True}, fused=True) is None
    assert ModelReliability.from_metadata({"reliability": {"fused": {"auc": [0.5]}}}, fused=True) is None


def test_track_descriptors_refresh_missing_first_then_oldest():
    store = TrackDescriptors(refresh_s=1.0)
    store.store(1, np.zeros(128), now=0.0)
    store.store(2, np.zeros(128), now=0.5)
    assert store.due([1, 2, 3], now=0.9) == [3]
    assert store.due([1, 2, 3], now=1.6) == [3, 1, 2]
    store.keep_only({2})
    assert list(store.vectors) == [2]


def test_crop_for_the_worker_keeps_the_box_and_stays_inside_the_frame():
    frame = np.arange(100 * 120 * 3, dtype=np.uint32).reshape(100, 120, 3).astype(np.uint8)
    crop, box = crop_around(frame, np.array([10, 20, 50, 70], np.float32))
    assert crop.shape[0] <= 100 and crop.shape[1] <= 120
    assert box[0] == 10 and box[1] == 20  # the margin was clipped at the frame's left/top edge
    x1, y1 = int(box[0]), int(box[1])
    assert np.array_equal(crop[y1, x1], frame[20, 10])


def test_views_do_not_highlight_unreliable_positives_unless_asked(random_bundle_path, celeba_faces):
    bundle = ModelBundle.load(random_bundle_path)
    bundle.metadata.update(_reliability_metadata(model_auc=0.7))  # every attribute of the model alone under the bar
    pipeline = FacePipeline(bundle, PipelineSettings(device="cpu", backend="torch"))
    face = pipeline.analyze_image(celeba_faces[0]).faces[0]
    decided = np.asarray(face.decisions, bool)
    assert decided.any() and not face.shown_positive.any()
    assert not RenderOptions().shown_positive(face).any()
    assert np.array_equal(RenderOptions(show_unreliable=True).shown_positive(face), decided)
    assert sorted(face.as_dict()["unreliable"]) == sorted(ATTRIBUTE_NAMES)


@NEEDS_DLIB
def test_stills_get_the_fused_answer_through_the_descriptor(random_bundle_path, celeba_faces):
    base = ModelBundle.load(random_bundle_path)
    opinion = _opinion(blend=1.0)
    fused_bundle = ModelBundle(
        config=base.config,
        state_dict=base.state_dict,
        thresholds=base.thresholds,
        metadata=_reliability_metadata(),
        calibration=base.calibration,
        second_opinion=opinion.to_dict(),
    )
    alone = FacePipeline(base, PipelineSettings(device="cpu", backend="torch")).analyze_image(celeba_faces[0])
    pipeline = FacePipeline(fused_bundle, PipelineSettings(device="cpu", backend="torch"))
    assert pipeline.second_opinion_active
    result = pipeline.analyze_image(celeba_faces[0])
    face, plain = result.faces[0], alone.faces[0]
    assert face.second_opinion and not plain.second_opinion
    from attricam.engine.face_descriptor import load_face_descriptor

    descriptor = load_face_descriptor().describe(celeba_faces[0], [face.box])
    network = base.decision_rule.calibrate  # the model's rule is identity-free here; recover its raw output
    raw = plain.raw_probabilities if base.decision_rule.is_identity else network(plain.raw_probabilities)
    expected = opinion.rule.calibrate(opinion.fuse(raw[None], descriptor))[0]
    assert np.allclose(face.probabilities, expected, atol=1e-4)
    assert np.array_equal(face.thresholds, opinion.rule.thresholds)
    assert result.reliability_dict().keys() == {"fused"} and "reliability" not in result.as_dict()


@NEEDS_DLIB
def test_video_tracks_get_a_descriptor_once_and_refresh_it(random_bundle_path, celeba_faces):
    base = ModelBundle.load(random_bundle_path)
    bundle = ModelBundle(
        config=base.config,
        state_dict=base.state_dict,
        thresholds=base.thresholds,
        metadata={"trained": False},
        second_opinion=_opinion().to_dict(),
    )
    from tests.conftest import paste_face

    frame = paste_face(celeba_faces[0])
    pipeline = FacePipeline(bundle, PipelineSettings(device="cpu", backend="torch", descriptor_refresh_frames=3))
    calls = []
    original = pipeline._describer.describe
    pipeline._describer.describe = lambda image, boxes: calls.append(len(boxes)) or original(image, boxes)
    results = [pipeline.process(frame) for _ in range(5)]
    assert all(r.faces and r.faces[0].second_opinion for r in results)
    assert calls == [1, 1]  # frame 0 (new track) and frame 3 (refresh), never every frame


def test_without_the_descriptor_package_the_model_answers_alone_and_says_so_once(
    random_bundle_path, celeba_faces, monkeypatch, caplog
):
    import attricam.engine.pipeline as pipeline_module

    base = ModelBundle.load(random_bundle_path)
    bundle = ModelBundle(
        config=base.config,
        state_dict=base.state_dict,
        thresholds=base.thresholds,
        metadata={"trained": False},
        second_opinion=_opinion().to_dict(),
    )
    monkeypatch.setattr(pipeline_module, "descriptor_unavailable_reason", lambda: "dlib is not installed (test)")
    monkeypatch.setattr(pipeline_module, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="attricam.engine.pipeline"):
        first = FacePipeline(bundle, PipelineSettings(device="cpu", backend="torch"))
        FacePipeline(bundle, PipelineSettings(device="cpu", backend="torch"))
    lines = [r.getMessage() for r in caplog.records if "second opinion off" in r.getMessage()]
    assert lines == ["second opinion off: dlib is not installed (test); using the attribute model alone"]
    face = first.analyze_image(celeba_faces[0]).faces[0]
    assert not face.second_opinion and np.array_equal(face.thresholds, base.decision_rule.thresholds)


@NEEDS_DLIB
@pytest.mark.slow
def test_the_live_worker_describes_a_track_in_its_own_process_and_leaves_nothing_running(celeba_faces):
    import threading

    from attricam.engine.descriptor_worker import DescriptorWorker
    from attricam.engine.detection import FaceDetector
    from attricam.engine.face_descriptor import load_face_descriptor

    image = celeba_faces[0]
    box = FaceDetector().detect(image)[0].box
    before = {t.ident for t in threading.enumerate()}
    worker = DescriptorWorker("dlib-resnet-v1-grid", nice=0)  # what the shipped bundle reads
    assert worker.submit(7, image, box)
    assert not worker.submit(8, image, box)  # one request in flight: refused, never queued
    answers = []
    for _ in range(60):
        answers += worker.poll(timeout=1.0)
        if answers:
            break
    worker.close()
    assert [key for key, _ in answers] == [7] and worker.completed == 1
    expected = load_face_descriptor("dlib-resnet-v1-grid").describe(image, [box])[0]
    assert answers[0][1].shape == (1024,)
    assert np.allclose(answers[0][1], expected, atol=1e-4)  # the crop around the box changes nothing
    assert not [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]


def test_stills_do_not_show_low_score_detections_as_people(random_bundle_path, celeba_faces, monkeypatch):
    from attricam.engine.detection import Detection

    pipeline = FacePipeline(ModelBundle.load(random_bundle_path), PipelineSettings(device="cpu", backend="torch"))
    real = pipeline.detector.detect(celeba_faces[0])[0]
    cuff = Detection(np.array([5, 5, 23, 26], np.float32), 0.84, real.landmarks * 0.1 + 5)  # buttons, as on obama3.jpg
    monkeypatch.setattr(pipeline.detector, "detect", lambda image, settings=None: [real, cuff])
    faces = pipeline.analyze_image(celeba_faces[0]).faces
    assert len(faces) == 1 and faces[0].score == real.score


@NEEDS_DLIB
@pytest.mark.slow
def test_a_dead_descriptor_process_is_said_once_and_faces_keep_the_models_answer(celeba_faces, caplog):
    from attricam.engine.descriptor_worker import DescriptorWorker

    image = celeba_faces[0]
    box = np.array([40, 60, 140, 190], np.float32)
    worker = DescriptorWorker(nice=0)
    assert worker.submit(1, image, box)
    worker._process.kill()
    worker._process.join(timeout=10)
    with caplog.at_level(logging.WARNING, logger="attricam.engine.descriptor_worker"):
        assert worker.poll() == [] and worker.poll() == []
    assert worker.failed and not worker.submit(2, image, box)
    assert [r.getMessage() for r in caplog.records if "descriptor process ended" in r.getMessage()].__len__() == 1
    worker.close()


def test_a_second_opinion_reads_the_descriptor_it_names_and_refuses_one_it_does_not_know():
    rng = np.random.default_rng(3)
    rule = DecisionRule(np.full(40, 0.9), np.full(40, -0.1), np.full(40, 0.4))

    def opinion(name: str, width: int) -> SecondOpinion:
        return SecondOpinion(
            name, np.zeros(width), np.ones(width), rng.normal(0, 0.1, (40, width)), np.zeros(40), np.ones(40), rule
        )

    grid = opinion("dlib-resnet-v1-grid", 1024)
    assert grid.probe_logits(rng.normal(size=(2, 1024))).shape == (2, 40)
    assert SecondOpinion.from_dict(grid.to_dict()).descriptor == "dlib-resnet-v1-grid"
    with pytest.raises(ValueError, match="expected shape"):
        opinion("dlib-resnet-v1-grid", 128)
    with pytest.raises(ValueError, match="this version knows"):
        opinion("resnet-9000", 128)


@NEEDS_DLIB
@pytest.mark.slow
def test_a_descriptor_the_child_cannot_compute_is_said_once_and_never_asked_again(
    celeba_faces, tmp_path, monkeypatch, caplog
):
    from attricam.engine.descriptor_worker import DescriptorWorker

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("ATTRICAM_CACHE", str(blocker))  # the child cannot write the ONNX graph: no grid descriptor
    worker = DescriptorWorker("dlib-resnet-v1-grid", nice=0)
    image = celeba_faces[0]
    box = np.array([40, 60, 140, 190], np.float32)
    assert worker.submit(1, image, box)
    with caplog.at_level(logging.WARNING, logger="attricam.engine.descriptor_worker"):
        for _ in range(60):
            assert worker.poll(timeout=1.0) == []
            if worker.failed:
                break
    worker.close()
    assert worker.failed and not worker.submit(2, image, box)
    assert len([r for r in caplog.records if "cannot be computed here" in r.getMessage()]) == 1


@NEEDS_DLIB
@pytest.mark.slow
def test_a_model_reading_another_descriptor_gets_that_descriptor_live(random_bundle_path, celeba_faces):
    """Loading a bundle whose second opinion reads another descriptor (the 128-D one, then the grid) must not leave
    the live worker computing the previous kind: the fused answer would not fit the new probes."""
    from tests.conftest import paste_face

    base = ModelBundle.load(random_bundle_path)
    rng = np.random.default_rng(4)
    grid = SecondOpinion(
        descriptor="dlib-resnet-v1-grid",
        mean=np.zeros(1024),
        std=np.ones(1024),
        weight=rng.normal(0, 0.01, (40, 1024)),
        bias=np.zeros(40),
        blend=np.ones(40),
        rule=DecisionRule(np.full(40, 0.9), np.full(40, -0.1), np.full(40, 0.4)),
    )

    def bundle_with(opinion: SecondOpinion) -> ModelBundle:
        meta = {"trained": False}
        return ModelBundle(base.config, base.state_dict, base.thresholds, meta, None, None, opinion.to_dict())

    frame = paste_face(celeba_faces[0])
    settings = PipelineSettings(device="cpu", backend="torch", descriptor_async=True, background_detection=False)
    pipeline = FacePipeline(bundle_with(_opinion()), settings)
    try:
        for opinion in (_opinion(), grid):
            pipeline.set_bundle(bundle_with(opinion))
            assert pipeline.descriptor_name == opinion.descriptor
            pipeline.process(frame)  # a new track: its descriptor is requested
            pipeline.wait_for_descriptor(60)
            face = pipeline.process(frame).faces[0]
            assert face.second_opinion, opinion.descriptor
    finally:
        pipeline.close()
