"""The live pipeline: stable ids, cheap refinement between full detections, smoothing, rendering, export."""

import json

import numpy as np
import pytest

from attricam.engine.bundle import ModelBundle
from attricam.engine.pipeline import FacePipeline, PipelineSettings
from attricam.engine.render import RenderOptions, render_frame
from attricam.engine.tracking import FaceTracker, iou_matrix

from .conftest import paste_face


@pytest.fixture(scope="module")
def pipeline(random_bundle_path):
    return FacePipeline(ModelBundle.load(random_bundle_path), PipelineSettings(device="cpu", full_detect_every=5))


def test_iou_and_tracker_keep_ids_and_smooth():
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32)
    assert iou_matrix(a, a).diagonal().tolist() == [1.0, 1.0]
    tracker = FaceTracker(ema_alpha=0.5)
    first = tracker.assign(a)
    second = tracker.assign(a[::-1] + 1)  # same faces, listed the other way round, moved by a pixel
    assert second == first[::-1]
    p1 = tracker.smooth(first[0], np.ones(40, np.float32))
    p2 = tracker.smooth(first[0], np.zeros(40, np.float32))
    assert p1[0] == 1.0 and p2[0] == pytest.approx(0.5)


def test_moving_face_keeps_its_id_and_refinement_runs_between_full_detections(pipeline, celeba_faces):
    pipeline.reset()
    results = [pipeline.process(paste_face(celeba_faces[0], at=(150 + 3 * i, 60 + i))) for i in range(12)]
    assert all(len(r.faces) == 1 for r in results)
    assert {r.faces[0].face_id for r in results} == {0}
    full = [r.timings.full_detection for r in results]
    assert full[0] and full[5] and full[10] and not any(full[1:5])
    raw = np.stack([r.faces[0].raw_probabilities for r in results])
    smooth = np.stack([r.faces[0].probabilities for r in results])
    assert np.abs(np.diff(smooth, axis=0)).mean() <= np.abs(np.diff(raw, axis=0)).mean() + 1e-6


def test_decisions_follow_the_bundle_thresholds(pipeline, celeba_faces):
    face = pipeline.analyze_image(celeba_faces[1]).faces[0]
    np.testing.assert_array_equal(face.decisions, face.probabilities >= face.thresholds)
    assert face.attention.shape == (1, 4, 40, 12, 10)
    assert face.attention_maps.shape == (40, 12, 10)
    np.testing.assert_allclose(face.attention_maps.sum(axis=(1, 2)), 1.0, rtol=1e-5)


def test_calibrated_bundle_shows_calibrated_probabilities_and_one_rule(random_bundle_path, celeba_faces):
    """The bars, the CSV and exports all read FaceResult: its p is the calibrated one, decisions the rule's."""
    from attricam.engine.decision import DecisionRule

    plain = ModelBundle.load(random_bundle_path)
    rule = DecisionRule(np.full(40, 2.0), np.full(40, -1.0), np.full(40, 0.3))
    calibrated = ModelBundle(
        plain.config, plain.state_dict, rule.thresholds.tolist(), {}, None, rule.calibration_dict()
    )
    settings = PipelineSettings(device="cpu", backend="torch")
    raw = FacePipeline(plain, settings).analyze_image(celeba_faces[1]).faces[0]
    face = FacePipeline(calibrated, settings).analyze_image(celeba_faces[1]).faces[0]
    np.testing.assert_allclose(face.probabilities, rule.calibrate(raw.probabilities), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(face.decisions, face.probabilities >= 0.3)


def test_two_faces_get_two_ids(pipeline, celeba_faces):
    pipeline.reset()
    frame = paste_face(celeba_faces[0], at=(10, 100), scale=1.3)
    frame[100 : 100 + 283, 350 : 350 + 231] = paste_face(celeba_faces[3], scale=1.3, at=(0, 0))[:283, :231]
    result = pipeline.process(frame)
    assert len(result.faces) == 2 and {f.face_id for f in result.faces} == {0, 1}


def test_no_face_frame_is_empty_not_an_error(pipeline):
    pipeline.reset()
    result = pipeline.process(np.full((480, 640, 3), 90, np.uint8))
    assert result.faces == () and result.timings.full_detection


def test_overlay_changes_with_the_attribute_and_export_is_complete(pipeline, celeba_faces, tmp_path):
    from attricam.engine.export import export_snapshot

    frame = paste_face(celeba_faces[0])
    result = pipeline.analyze_image(frame)
    smiling = render_frame(frame, result, RenderOptions(attribute=31))
    hat = render_frame(frame, result, RenderOptions(attribute=35))
    plain = render_frame(frame, result, RenderOptions(attribute=None))
    assert np.abs(smiling.astype(int) - hat.astype(int)).sum() > 0
    assert np.abs(smiling.astype(int) - plain.astype(int)).sum() > 0
    png, sidecar = export_snapshot(frame, result, RenderOptions(attribute=31), tmp_path, stem="snap")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(sidecar.read_text())
    assert data["faces"][0]["face"] == 0 and len(data["faces"][0]["probabilities"]) == 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap.json", "snap.png"]


def test_failed_export_leaves_no_partial_file(pipeline, celeba_faces, tmp_path, monkeypatch):
    from attricam.engine import export

    frame = paste_face(celeba_faces[0])
    result = pipeline.analyze_image(frame)

    def broken_write(self, data):
        raise OSError("disk full")

    monkeypatch.setattr(export.Path, "write_bytes", broken_write)
    with pytest.raises(OSError, match="disk full"):
        export.export_snapshot(frame, result, None, tmp_path, stem="snap")
    assert list(tmp_path.iterdir()) == []


def test_failed_sidecar_removes_the_png_too(pipeline, celeba_faces, tmp_path, monkeypatch):
    from attricam.engine import export

    frame = paste_face(celeba_faces[0])
    result = pipeline.analyze_image(frame)

    def broken_text(target, text):
        raise OSError("read-only file system")

    monkeypatch.setattr(export, "atomic_write_text", broken_text)
    with pytest.raises(OSError, match="read-only"):
        export.export_snapshot(frame, result, None, tmp_path, stem="snap")
    assert list(tmp_path.iterdir()) == []


def test_a_group_photo_keeps_more_faces_than_a_live_frame(pipeline, celeba_faces):
    """A collage of 12 real faces: a still keeps them all, while a live frame keeps its ``max_faces`` largest."""
    tiles = [celeba_faces[i % len(celeba_faces)][:200, :170] for i in range(12)]  # (218, 178) aligned faces, cropped
    collage = np.concatenate([np.concatenate(tiles[row * 4 : row * 4 + 4], axis=1) for row in range(3)], axis=0)
    assert pipeline.settings.max_faces < 12 <= pipeline.settings.still_max_faces
    assert len(pipeline.analyze_image(np.ascontiguousarray(collage)).faces) == 12
