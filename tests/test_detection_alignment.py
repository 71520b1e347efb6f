"""Detection and alignment on real CelebA faces: the crops training and live inference share."""

import numpy as np
import pytest

from attricam.engine.alignment import align_face, template_for
from attricam.engine.detection import DetectorSettings, FaceDetector


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(DetectorSettings(min_face_size=20, detect_max_side=1600))


def test_finds_one_face_with_plausible_landmarks(detector, celeba_faces):
    for image in celeba_faces:
        faces = detector.detect(image)
        assert faces, "no face found on a clean CelebA portrait"
        best = max(faces, key=lambda f: f.score)
        assert best.score > 0.9
        left_eye, right_eye, nose, mouth_left, mouth_right = best.landmarks
        assert left_eye[0] < nose[0] < right_eye[0]
        assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])


def test_aligned_crop_is_deterministic_and_lands_on_template(detector, celeba_faces):
    image = celeba_faces[0]
    landmarks = detector.detect(image)[0].landmarks
    first = align_face(image, landmarks, width=80, height=96)
    second = align_face(image, landmarks, width=80, height=96)
    assert first.image.shape == (96, 80, 3) and first.image.dtype == np.uint8
    np.testing.assert_array_equal(first.image, second.image)
    mapped = np.hstack([landmarks, np.ones((5, 1))]) @ first.matrix.T
    assert np.abs(mapped - template_for(80, 96)).max() < 6.0  # similarity fit of 5 points, a few px residual


def test_margin_crop_centre_equals_plain_crop(detector, celeba_faces):
    image = celeba_faces[1]
    landmarks = detector.detect(image)[0].landmarks
    plain = align_face(image, landmarks, width=80, height=96).image
    padded = align_face(image, landmarks, width=80, height=96, margin=8).image
    assert padded.shape == (112, 96, 3)
    assert np.abs(padded[8:-8, 8:-8].astype(int) - plain.astype(int)).max() <= 1


def test_refine_tracks_the_face_with_onet(detector, celeba_faces):
    image = celeba_faces[2]
    full = detector.detect(image)[0]
    shifted_box = full.box + np.array([6, -4, 6, -4], np.float32)  # the face moved a little since last frame
    refined = detector.refine(image, shifted_box[None])[0]
    assert refined is not None and refined.score > 0.9
    assert np.abs(refined.landmarks - full.landmarks).max() < 8.0


def test_refine_reports_a_lost_face(detector):
    blank = np.full((240, 320, 3), 128, np.uint8)
    assert detector.refine(blank, np.array([[100, 60, 180, 160]], np.float32)) == [None]


def test_occlusion_retry_recovers_a_face_behind_a_privacy_bar(celeba_faces):
    image = celeba_faces[0].copy()
    plain = FaceDetector(DetectorSettings(min_face_size=20, occlusion_retry=False))
    landmarks = plain.detect(image)[0].landmarks
    (lx, ly), (rx, ry) = landmarks[0], landmarks[1]
    image[int(ly) - 12 : int(ry) + 12, int(lx) - 14 : int(rx) + 14] = 0  # black bar over both eyes
    robust = FaceDetector(DetectorSettings(min_face_size=20, occlusion_retry=True))
    assert robust.detect(image), "occlusion retry should find the face behind the bar"
