"""Distillation: a teacher's probabilities reach the training rows, and only them, and a run learns towards them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from attricam.engine.bundle import ModelBundle
from attricam.training.config_checks import ConfigError, check_config
from attricam.training.data import FaceArrays
from attricam.training.evaluation import predict
from attricam.training.soft_targets import blend_targets, load_soft_targets
from attricam.training.trainer import main

from .test_training_trainer import _config, _faces


def _teacher(path, roots, names, probabilities) -> str:
    np.savez(
        path, roots=np.array(roots), filenames=np.array(names), probabilities=np.asarray(probabilities, np.float32)
    )
    return str(path)


def test_the_teacher_reaches_the_training_rows_it_knows_and_nothing_else(tmp_path):
    labels = torch.zeros(5, 40)
    names, roots = tuple(f"{i}.jpg" for i in range(5)), ("/data/celeba",) * 4 + ("/data/celeba-lowres",)
    faces = FaceArrays(torch.zeros(5, 8, 8, 3, dtype=torch.uint8), labels, names, roots)
    teacher = np.full((4, 40), 0.8)
    path = _teacher(
        tmp_path / "t.npz", ["celeba", "celeba", "celeba", "celeba"], ["0.jpg", "1.jpg", "3.jpg", "4.jpg"], teacher
    )
    teacher_file = load_soft_targets(path)
    blended, taught = blend_targets(
        faces.labels, faces.sources, faces.filenames, np.array([0, 1, 2, 4]), teacher_file, 0.25
    )
    assert taught == 2  # 2.jpg has no teacher row; 4.jpg's row is another root's image of the same name
    assert torch.allclose(blended[0], torch.full((40,), 0.2)) and torch.allclose(blended[1], torch.full((40,), 0.2))
    assert blended[[2, 3, 4]].abs().sum() == 0  # 3 is not a training row (the calibration slice)
    assert faces.labels.abs().sum() == 0  # the caller's faces are untouched


@pytest.mark.parametrize(
    "columns, problem",
    [
        ({"roots": ["a"], "filenames": ["x.jpg"]}, "not a soft-target file"),
        ({"roots": ["a"], "filenames": ["x.jpg"], "probabilities": np.full((1, 39), 0.5)}, "40 probabilities"),
        ({"roots": ["a"], "filenames": ["x.jpg"], "probabilities": np.full((1, 40), 1.5)}, "between 0 and 1"),
    ],
)
def test_a_file_that_is_not_a_teacher_is_refused_by_name(tmp_path, columns, problem):
    path = tmp_path / "bad.npz"
    np.savez(path, **{k: np.asarray(v) for k, v in columns.items()})
    with pytest.raises(ValueError, match=problem):
        load_soft_targets(path)
    with pytest.raises(ValueError, match="not a soft-target file"):
        load_soft_targets(tmp_path / "missing.npz")


def test_a_config_naming_a_missing_teacher_is_refused_before_training(tmp_path):
    with pytest.raises(ConfigError, match="soft_targets"):
        check_config(_config(tmp_path / "run", soft_targets=str(tmp_path / "nope.npz")))


def test_a_run_learns_towards_its_teacher(tmp_path):
    train, val = _faces(64, 0), _faces(32, 1)
    says_yes = np.zeros((64, 40), np.float32)
    says_yes[:, 3] = 1.0  # the teacher calls attribute 3 on every face; the labels on about 30 %
    teacher = _teacher(tmp_path / "teacher.npz", ["synthetic"] * 64, list(train.filenames), says_yes)
    means = []
    for name, extra in (("labels", {}), ("taught", {"soft_targets": teacher, "soft_target_weight": 1.0})):
        result = main(_config(tmp_path / name, epochs=3, seed=0, **extra), faces=(train, val))
        model = ModelBundle.load(result["bundle"]).build_model()
        probabilities, _ = predict(model, val.images, 32, 24)
        means.append(float(probabilities[:, 3].mean()))
    assert means[1] > means[0] + 0.2
