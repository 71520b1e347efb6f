"""dlib's face-recognition ResNet in onnxruntime: the same descriptors as dlib's own network on real faces, a
conversion that refuses a file it does not understand, and a descriptor that still works when conversion fails."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from attricam.engine import face_descriptor as fd
from attricam.engine.face_network_onnx import OnnxFaceNetwork, cache_path, ensure_exported, read_dlib_resnet

NEEDS_DLIB = pytest.mark.skipif(
    fd.descriptor_unavailable_reason() is not None, reason=f"face descriptor: {fd.descriptor_unavailable_reason()}"
)


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ATTRICAM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fd, "_loaded", {})
    return tmp_path / "cache"


@NEEDS_DLIB
def test_onnx_descriptors_equal_dlibs_on_real_faces(celeba_faces, private_cache):
    import dlib

    dat_file = fd.network_file()
    assert dat_file is not None
    folder = dat_file.parent
    landmarks = dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat"))
    describer = fd.FaceDescriptor(landmarks, fd.dlib_network(dat_file))
    box = np.array([25.0, 50.0, 150.0, 190.0])  # the face of an aligned 178 x 218 CelebA image
    chips = [describer.chip(face, box) for face in celeba_faces]
    by_dlib = describer.describe_chips(chips)

    by_onnx = OnnxFaceNetwork(dat_file)(np.stack(chips))

    grid = OnnxFaceNetwork(dat_file, "grid")(np.stack(chips))

    assert by_onnx.shape == (len(chips), 128) and by_onnx.dtype == np.float32
    assert grid.shape == (len(chips), 1024) and np.isfinite(grid).all() and (grid >= 0).all()  # after a relu
    assert np.abs(by_onnx - by_dlib).max() < 1e-4
    # Different people get different descriptors (the comparison above is not of constants).
    assert np.linalg.norm(by_dlib[0] - by_dlib[1]) > 0.3
    assert cache_path(dat_file).is_file() and cache_path(dat_file).parent == private_cache


@NEEDS_DLIB
def test_the_loaded_descriptor_runs_the_onnx_graph(private_cache):
    describer = fd.load_face_descriptor()
    assert isinstance(describer.network, OnnxFaceNetwork)
    assert describer.describe_chips([]).shape == (0, 128)
    grid = fd.load_face_descriptor("dlib-resnet-v1-grid")
    chip = np.full((150, 150, 3), 90, np.uint8)
    assert grid is not None and grid.describe_chips([chip, chip]).shape == (2, 1024)
    with pytest.raises(ValueError, match="unknown face descriptor"):
        fd.load_face_descriptor("resnet-9000")


def test_a_file_that_is_not_dlibs_resnet_is_refused_by_name(tmp_path: Path):
    bogus = tmp_path / "not_a_network.dat"
    bogus.write_bytes(b"\x01\x01\x01\x0dloss_metric_2" + bytes(range(256)) * 8)
    with pytest.raises(ValueError, match="not dlib's face-recognition ResNet"):
        read_dlib_resnet(bogus)
    with pytest.raises(ValueError):
        ensure_exported(bogus)
    assert not list(tmp_path.glob("*.onnx")), "a failed conversion leaves no file behind"


@NEEDS_DLIB
def test_when_conversion_fails_dlibs_own_network_answers_and_the_log_says_so(
    private_cache, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    import attricam.engine.face_network_onnx as onnx_net

    def refuse(path: Path) -> None:
        raise ValueError(f"{path}: unexpected layout")

    monkeypatch.setattr(onnx_net, "read_dlib_resnet", refuse)
    with caplog.at_level(logging.WARNING, logger=fd.log.name):
        describer = fd.load_face_descriptor()
    assert describer is not None and not isinstance(describer.network, OnnxFaceNetwork)
    assert "using dlib's network" in caplog.text
    chip = np.full((150, 150, 3), 128, np.uint8)
    assert describer.describe_chips([chip]).shape == (1, 128)
    # dlib's own network has no grid output: that descriptor is unavailable, never computed wrongly.
    assert fd.load_face_descriptor("dlib-resnet-v1-grid") is None
