"""attricam.engine.mtcnn against facenet-pytorch's MTCNN on real faces, and the import cost it exists to avoid."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from attricam.engine.mtcnn import MTCNNCascade, nms, nms_min
from attricam.engine.mtcnn_torch import TorchRunner

from .conftest import REPO_ROOT, paste_face

SETTINGS = [(20, (0.6, 0.7, 0.7)), (12, (0.5, 0.6, 0.6))]  # facenet's defaults; the detector's relaxed retry


@pytest.fixture(scope="module")
def cascade() -> MTCNNCascade:
    return MTCNNCascade(TorchRunner())


@pytest.fixture(scope="module")
def reference():
    facenet_pytorch = pytest.importorskip("facenet_pytorch")
    return facenet_pytorch.MTCNN(keep_all=True, post_process=False).eval()


def assert_same_detections(cascade: MTCNNCascade, reference, image: np.ndarray) -> int:
    boxes, probs, points = cascade.detect(image)
    ref_boxes, ref_probs, ref_points = reference.detect(image, landmarks=True)
    if ref_boxes is None:
        assert boxes is None and probs is None and points is None
        return 0
    # facenet-pytorch returns object-dtype arrays
    ref_boxes, ref_probs, ref_points = (np.asarray(a, np.float32) for a in (ref_boxes, ref_probs, ref_points))
    assert boxes.shape == ref_boxes.shape and probs.shape == ref_probs.shape and points.shape == ref_points.shape
    assert boxes.dtype == probs.dtype == points.dtype == np.float32
    np.testing.assert_allclose(boxes, ref_boxes, rtol=0, atol=0.5)
    np.testing.assert_allclose(points, ref_points, rtol=0, atol=0.5)
    np.testing.assert_allclose(probs, ref_probs, rtol=0, atol=1e-4)
    return len(boxes)


@pytest.mark.parametrize(("min_face_size", "thresholds"), SETTINGS)
def test_matches_facenet_on_celeba_faces(cascade, reference, celeba_faces, min_face_size, thresholds):
    for model in (cascade, reference):
        model.min_face_size, model.thresholds = min_face_size, thresholds
    found = [assert_same_detections(cascade, reference, image) for image in celeba_faces]
    assert all(n >= 1 for n in found)


def test_matches_facenet_on_webcam_frame(cascade, reference, celeba_faces):
    frame = paste_face(celeba_faces[0])  # (480, 640, 3)
    second = paste_face(celeba_faces[1], at=(20, 20), scale=0.8)
    frame[20:200, 20:170] = second[20:200, 20:170]  # a second, smaller face top left
    for model in (cascade, reference):
        model.min_face_size, model.thresholds = 20, (0.6, 0.7, 0.7)
    assert assert_same_detections(cascade, reference, frame) >= 1
    assert assert_same_detections(cascade, reference, np.full((480, 640, 3), 110, np.uint8)) == 0


def test_largest_face_comes_first(cascade, celeba_faces):
    frame = paste_face(celeba_faces[0], scale=1.8)
    small = paste_face(celeba_faces[1], at=(0, 0), scale=0.7)
    frame[:160, :130] = small[:160, :130]
    cascade.min_face_size, cascade.thresholds = 20, (0.6, 0.7, 0.7)
    boxes, _, _ = cascade.detect(frame)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    assert np.all(np.diff(areas) <= 0)


def test_onet_returns_regression_landmarks_probs(cascade):
    regression, points, probs = cascade.runner.onet(torch.zeros(3, 3, 48, 48))
    assert regression.shape == (3, 4) and points.shape == (3, 10) and probs.shape == (3, 2)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(3))


def test_image_smaller_than_min_face_finds_nothing(cascade):
    cascade.min_face_size = 20
    assert cascade.detect(np.zeros((15, 15, 3), np.uint8)) == (None, None, None)


def test_nms_keeps_best_and_drops_overlaps():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.5]], np.float32)
    scores = np.array([0.8, 0.9, 0.7, 0.95], np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [3, 2]
    assert nms(boxes, scores, 0.99).tolist() == [3, 1, 0, 2]
    # 'Min' overlap: a box inside a bigger one is dropped even though its IoU is small.
    nested = np.array([[0, 0, 99, 99], [10, 10, 29, 29]], np.float32)
    assert nms_min(nested, np.array([0.9, 0.8], np.float32), 0.7).tolist() == [0]


def test_detector_needs_neither_torchvision_nor_requests():
    """facenet-pytorch's package imports both; AttriCam's runtime declares neither and ships the weights itself."""
    code = (
        "import sys\n"
        "sys.modules.update(torchvision=None, requests=None)  # importing either now raises\n"
        "import numpy as np, attricam.engine.pipeline\n"
        "from attricam.engine.detection import FaceDetector\n"
        "FaceDetector().detect(np.full((480, 640, 3), 110, np.uint8))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torchvision', 'requests', 'facenet_pytorch') and sys.modules[m]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
