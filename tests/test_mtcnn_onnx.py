"""MTCNN on onnxruntime + numpy agrees with the torch cascade, and the live path can run without torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from attricam.engine.mtcnn import MTCNNCascade, area_resize
from attricam.engine.mtcnn_onnx import OnnxRunner
from attricam.engine.mtcnn_torch import TorchRunner

from .conftest import REPO_ROOT, paste_face

SETTINGS = [(20, (0.6, 0.7, 0.7)), (12, (0.5, 0.6, 0.6)), (40, (0.6, 0.7, 0.7))]


@pytest.fixture(scope="module")
def pair() -> tuple[MTCNNCascade, MTCNNCascade]:
    """The one cascade with its nets on torch, and on onnxruntime."""
    return MTCNNCascade(TorchRunner()), MTCNNCascade(OnnxRunner())


def test_area_resize_is_torch_area_interpolation():
    import torch
    from torch.nn.functional import interpolate

    image = np.random.default_rng(0).uniform(0, 255, (3, 37, 53)).astype(np.float32)
    for size in [(12, 17), (26, 38), (37, 53), (5, 50)]:
        expected = interpolate(torch.from_numpy(image)[None], size=size, mode="area")[0].numpy()
        np.testing.assert_allclose(area_resize(image, *size), expected, rtol=0, atol=1e-3)


@pytest.mark.parametrize(("min_face_size", "thresholds"), SETTINGS)
def test_same_faces_as_the_torch_cascade(pair, celeba_faces, min_face_size, thresholds):
    frame = paste_face(celeba_faces[0])
    frame[20:200, 20:170] = paste_face(celeba_faces[1], at=(20, 20), scale=0.8)[20:200, 20:170]
    for image in [*celeba_faces, frame]:
        results = []
        for cascade in pair:
            cascade.min_face_size, cascade.thresholds = min_face_size, thresholds
            results.append(cascade.detect(image))
        (boxes, probs, points), (o_boxes, o_probs, o_points) = results
        assert boxes is not None and o_boxes is not None and boxes.shape == o_boxes.shape
        np.testing.assert_allclose(o_boxes, boxes, rtol=0, atol=0.05)
        np.testing.assert_allclose(o_points, points, rtol=0, atol=0.05)
        np.testing.assert_allclose(o_probs, probs, rtol=0, atol=1e-4)


def test_onet_alone_matches(pair):
    patches = np.random.default_rng(1).uniform(-1, 1, (5, 3, 48, 48)).astype(np.float32)
    for a, b in zip(pair[0].run_onet(patches), pair[1].run_onet(patches)):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5)


def test_live_onnx_pipeline_never_imports_torch(random_bundle_path, celeba_face_paths):
    code = (
        "import sys; from attricam.engine.image_io import load_image; from attricam.engine.detection import FaceDetector;"
        f"d = FaceDetector(backend='onnx'); faces = d.detect(load_image({str(celeba_face_paths[0])!r}));"
        "d.refine(load_image(" + repr(str(celeba_face_paths[0])) + "), [f.box for f in faces]);"
        "assert len(faces) == 1, faces; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
