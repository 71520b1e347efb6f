"""Retraining on a frozen backbone: cached token grids, only the head trained, a full run's bundle and report."""

from __future__ import annotations

import json

import pytest
import torch

from attricam.engine.bundle import ModelBundle
from attricam.training.augment import center_crop
from attricam.training.cache import CropSpec
from attricam.training.config import TrainConfig
from attricam.training.frozen_tokens import FROZEN_PREFIXES, FrozenBackboneModel, token_grids
from attricam.training.trainer import main, model_config_for

from .test_training_trainer import _config, _faces


def _bundle(tmp_path) -> str:
    torch.manual_seed(3)
    model = FrozenBackboneModel(model_config_for(_config("unused")))
    return str(ModelBundle.from_model(model, thresholds=[0.5] * 40).save(tmp_path / "start.pt"))


def test_tokens_through_the_head_match_the_images_through_the_model(tmp_path):
    torch.manual_seed(0)
    model = FrozenBackboneModel(model_config_for(_config("unused"))).eval()
    faces = _faces(20, seed=1)
    spec = CropSpec(width=24, height=32, margin=4)
    tokens = token_grids(model, faces, spec, cache_dir=tmp_path)
    assert tokens.dtype == torch.float16 and tokens.shape == (20, 4 * 3, 32)
    with torch.no_grad():
        from_images, _ = model(center_crop(faces.images, 32, 24))
        from_tokens, _ = model(tokens)
    assert torch.allclose(from_images, from_tokens, atol=2e-2)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and all(f.startswith("tokens-") for f in files)
    token_grids(model, faces, spec, cache_dir=tmp_path)  # the second call reads the cache
    assert sorted(p.name for p in tmp_path.iterdir()) == files


def test_freeze_needs_a_bundle():
    with pytest.raises(ValueError, match="--from BUNDLE"):
        _config("x", freeze="backbone")
    with pytest.raises(ValueError, match="valid: backbone"):
        _config("x", freeze="everything", init_from="a.pt")


def test_a_frozen_run_trains_the_head_only_and_ships_a_full_bundle(tmp_path):
    start = _bundle(tmp_path)
    cache = tmp_path / "cache"
    faces = (_faces(96, seed=0), _faces(48, seed=1))
    cfg = _config(tmp_path / "run", init_from=start, freeze="backbone", cache_dir=str(cache), loss="focal")
    result = main(cfg, faces=faces)
    assert result["finished"] and result["val"]
    first = ModelBundle.load(start).state_dict
    trained = ModelBundle.load(result["bundle"]).state_dict
    for name, value in first.items():
        same = bool((torch.as_tensor(value) == torch.as_tensor(trained[name])).all())
        assert same == name.startswith(FROZEN_PREFIXES), name
    report = json.loads((tmp_path / "run" / "val_report.json").read_text())
    assert report["metadata"]["train_config"]["freeze"] == "backbone"
    assert len(report["history"]) == cfg.epochs
    built = sorted(p.name for p in cache.iterdir())
    assert len(built) == 6  # clean train, clean val, shifted val: .npy + .json each (no calibration slice here)
    again = TrainConfig(**{**cfg.__dict__, "out": str(tmp_path / "run2"), "loss": "bce", "sampler": "balanced"})
    assert main(again, faces=faces)["finished"]
    assert sorted(p.name for p in cache.iterdir()) == built  # the second recipe reuses the token grids


def test_from_a_bundle_without_model_options_takes_its_architecture(tmp_path):
    from attricam.training.preflight import _check_init_from
    from attricam.training.trainer import build_training

    start = _bundle(tmp_path)  # the tiny test architecture
    cfg = _config(tmp_path / "run", init_from=start, model={})  # the run names no architecture of its own
    _check_init_from(cfg)  # not refused before data loads
    model = build_training(cfg, steps_per_epoch=1, num_train=10, device=torch.device("cpu"))[0]
    assert model.config == ModelBundle.load(start).config
    frozen = build_training(
        _config(tmp_path / "f", init_from=start, model={}, freeze="backbone"), 1, 10, torch.device("cpu")
    )[0]
    trainable = {n for n, p in frozen.named_parameters() if p.requires_grad}
    assert trainable and not any(n.startswith(FROZEN_PREFIXES) for n in trainable)


def test_the_comparison_tells_which_rare_attributes_were_stuck_and_which_broke_free(tmp_path):
    from attricam.engine.attributes import RARE_ATTRIBUTES
    from attricam.training.compare import comparison_markdown, stuck_at_half, write_comparison_plot

    names = [a.name for a in RARE_ATTRIBUTES]
    naive = {n: [0.0, 0.05] for n in names}
    naive[names[0]] = [0.04, 0.05]  # predicted near its own rate: not trapped
    fixed = {n: [0.06, 0.05] for n in names}
    fixed[names[1]] = [0.01, 0.05]
    assert stuck_at_half({k: tuple(v) for k, v in naive.items()}) == sorted(names[1:])
    rows = []
    for recipe, rates, frozen in (("bce", naive, "backbone"), ("weighted", fixed, "backbone")):
        stuck = stuck_at_half({k: tuple(v) for k, v in rates.items()})
        rows.append(
            {
                "recipe": recipe,
                "rare_pred_pos_rate@0.5": 0.1,
                "rare_f1@0.5": 0.2,
                "rare_pred_pos_rate": 0.1,
                "rare_f1": 0.3,
                "mean_accuracy": 0.9,
                "mean_balanced_accuracy": 0.8,
                "mean_accuracy@0.5": 0.9,
                "mean_balanced_accuracy@0.5": 0.8,
                "mean_auc": 0.9,
                "stuck_flags": [],
                "stuck_at_0.5": stuck,
                "rare_rates@0.5": rates,
                "frozen": frozen,
            }
        )
    text = comparison_markdown(rows, "test")
    weighted_line = next(line for line in text.splitlines() if line.startswith("| weighted | " + names[1]))
    assert names[2] in weighted_line.split("|")[3]  # broke free
    assert f"| {names[1]} | 5.0 % | 0.0 % (stuck) | 1.0 % (stuck) |" in text
    write_comparison_plot(rows, tmp_path / "comparison.png")
    assert (tmp_path / "comparison.png").stat().st_size > 1000
    rows[0]["stuck_at_0.5"] = []
    assert "features are already trained" in comparison_markdown(rows, "test")


def test_token_batches_keep_the_samplers_order_and_repeats():
    from attricam.training.data import FaceArrays
    from attricam.training.frozen_tokens import TokenBatches
    from attricam.training.sampling import BatchPlan

    n = 10
    tokens = torch.arange(n, dtype=torch.float16).view(n, 1, 1).expand(n, 3, 2).contiguous()
    labels = torch.arange(n, dtype=torch.float32).view(n, 1).expand(n, 40).contiguous()
    faces = FaceArrays(tokens, labels, tuple(map(str, range(n))), ("s",) * n)
    rows = torch.tensor([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])  # the training rows inside the cache
    plan = BatchPlan(epoch=0, step=0, indices=torch.tensor([3, 1, 3, 0, 7]), start=0, stop=5)
    x, y = TokenBatches(faces, rows)[plan]
    assert x.dtype == torch.float32 and x[:, 0, 0].tolist() == [6, 8, 6, 9, 2]
    assert y[:, 0].tolist() == [6, 8, 6, 9, 2]


def test_compare_on_a_frozen_backbone_from_the_command_line(tmp_path, monkeypatch):
    from dataclasses import replace

    import attricam.training.trainer
    from attricam.training.cli import main as cli_main
    from tests.test_training_trainer import TINY_MODEL

    start = _bundle(tmp_path)
    real_main = attricam.training.trainer.main
    faces = (_faces(48, 0), _faces(24, 1))

    def tiny_main(cfg, callback=None, **kw):  # synthetic faces and the tiny model instead of CelebA
        return real_main(replace(cfg, model=TINY_MODEL, margin=4, num_threads=1), callback, faces=faces, **kw)

    monkeypatch.setattr(attricam.training.trainer, "main", tiny_main)
    argv = ["train", "--compare", "bce,weighted+balanced", "--from", start, "--freeze", "backbone", "--batch", "16"]
    argv += ["--image-size", "32x24", "--no-onnx", "--threads", "1", "--cache", str(tmp_path / "cache")]
    assert cli_main([*argv, "--out", str(tmp_path / "journey")]) == 0
    table = json.loads((tmp_path / "journey" / "comparison.json").read_text())
    assert [r["recipe"] for r in table["rows"]] == ["bce", "weighted+balanced"]
    assert all(r["frozen"] == "backbone" and r["bundle"] for r in table["rows"])
    assert "frozen backbone of" in table["budget"] and "3 epochs" in table["budget"]
    assert (tmp_path / "journey" / "comparison.png").is_file()
    assert len(list((tmp_path / "cache").glob("tokens-*.npy"))) == 3  # train, val, shifted val: shared by both
