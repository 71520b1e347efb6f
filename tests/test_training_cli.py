"""The training CLI parses what ``attricam`` registers, and fails loudly on bad input."""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import MISSING, fields

import pytest

from attricam.training.cli import (
    add_evaluate_arguments,
    add_train_arguments,
    config_from_args,
    get_args_parser,
    option_flag,
)
from attricam.training.config import FROZEN_DEFAULT_EPOCHS, TrainConfig
from attricam.training.events import JsonLinesWriter, StepEvent


def _train_args(*argv: str) -> argparse.Namespace:
    return add_train_arguments(argparse.ArgumentParser()).parse_args(list(argv))


def test_train_arguments_build_a_config():
    args = _train_args(
        "--data",
        "/a,/b",
        "--loss",
        "focal",
        "--gamma",
        "3",
        "--weight-cap",
        "20",
        "--image-size",
        "64x56",
        "--loss-option",
        "alpha=0.25",
        "--out",
        "/tmp/run",
    )
    cfg = config_from_args(args, args.loss, args.out)
    assert cfg.data == ("/a", "/b") and cfg.loss == "focal"
    assert cfg.loss_options == {"alpha": 0.25, "weight_cap": 20.0, "gamma": 3.0}
    assert (cfg.image_height, cfg.image_width) == (64, 56)
    assert json.loads(json.dumps(cfg.to_dict()))["data"] == ["/a", "/b"]


def test_every_config_field_has_exactly_one_option_and_the_same_default():
    """The options are built from TrainConfig's fields: each field is set by one option (--image-size sets both
    sides), and a command line naming nothing but --data and --out gives TrainConfig's own defaults."""
    parser = add_train_arguments(argparse.ArgumentParser())
    options = {name: action for action in parser._actions for name in action.option_strings}
    flags = {f.name: option_flag(f) for f in fields(TrainConfig)}
    assert set(flags.values()) <= set(options), sorted(set(flags.values()) - set(options))
    shared = {flag for flag in flags.values() if list(flags.values()).count(flag) > 1}
    assert shared == {"--image-size"}
    plain = {
        f.name: f for f in fields(TrainConfig) if options[flags[f.name]].dest == f.name and f.default is not MISSING
    }
    assert len(plain) > 20, sorted(plain)
    for name, f in plain.items():
        if name != "epochs":  # None on the command line: 12, or FROZEN_DEFAULT_EPOCHS with --freeze
            assert options[flags[name]].default == f.default, name
    args = _train_args("--data", "/a", "--out", "/tmp/run")
    assert config_from_args(args, args.loss, args.out) == TrainConfig(data=("/a",), out="/tmp/run")
    frozen = _train_args("--data", "/a", "--out", "/tmp/run", "--from", "m.pt", "--freeze", "backbone")
    assert config_from_args(frozen, frozen.loss, frozen.out).epochs == FROZEN_DEFAULT_EPOCHS


def test_every_field_is_settable_from_the_command_line():
    argv = ["--data", "/a", "--out", "/tmp/run", "--batch", "64", "--threads", "3", "--cache", "/c", "--no-onnx"]
    argv += ["--no-stuck-fixes", "--no-camera-shift", "--warmup-epochs", "0.5", "--margin", "8", "--grad-clip", "1"]
    argv += ["--model-option", "stem_width=16", "--min-lr-ratio", "0.1", "--name", "n", "--from", "m.pt"]
    args = _train_args(*argv)
    cfg = config_from_args(args, args.loss, args.out)
    assert (cfg.batch_size, cfg.num_threads, cfg.cache_dir, cfg.export_onnx, cfg.stuck_fixes) == (
        64,
        3,
        "/c",
        False,
        False,
    )
    assert (cfg.warmup_epochs, cfg.margin, cfg.grad_clip, cfg.min_lr_ratio, cfg.name) == (0.5, 8, 1.0, 0.1, "n")
    assert cfg.augment == {"camera_shift": False} and cfg.model == {"stem_width": 16} and cfg.init_from == "m.pt"


@pytest.mark.parametrize("argv", [("--loss", "hinge"), ("--image-size", "95x80"), ("--threshold-policy", "max")])
def test_bad_train_arguments_fail(argv, capsys):
    with pytest.raises(SystemExit):
        _train_args(*argv, "--out", "/tmp/run")
    assert "error:" in capsys.readouterr().err


def test_parser_has_train_and_evaluate():
    parser = get_args_parser()
    args = parser.parse_args(["evaluate", "--model", "m.pt", "--split", "test"])
    assert args.command == "evaluate" and args.split == "test"
    with pytest.raises(SystemExit):
        add_evaluate_arguments(argparse.ArgumentParser()).parse_args(["--model", "m.pt", "--split", "dev"])


def test_json_lines_writer_streams_events():
    buffer = io.StringIO()
    writer = JsonLinesWriter(buffer)
    writer(StepEvent(0, 1, 5, 0.7, 1e-3, 123.0))
    writer(StepEvent(0, 2, 5, 0.6, 1e-3, 125.0))
    lines = buffer.getvalue().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2]


def test_sampler_option_and_recipes_with_samplers():
    from attricam.training.cli import parse_recipe

    args = _train_args("--sampler", "curriculum", "--out", "/tmp/run")
    assert config_from_args(args, args.loss, args.out).sampler == "curriculum"
    assert _train_args("--out", "/tmp/run").sampler == "random"
    assert parse_recipe("bce+balanced") == ("bce", "balanced")
    assert parse_recipe("focal", "curriculum") == ("focal", "curriculum")
    for bad in ("bce+oversample", "hinge+balanced"):
        with pytest.raises(SystemExit, match="LOSS\\[\\+SAMPLER\\]"):
            parse_recipe(bad)
    with pytest.raises(SystemExit):
        _train_args("--sampler", "oversample", "--out", "/tmp/run")


def test_compare_trains_losses_and_samplers_on_a_tiny_run(tmp_path, monkeypatch):
    from dataclasses import replace

    import attricam.training.trainer
    from attricam.training.cli import main
    from attricam.training.trainer import load_checkpoint
    from tests.test_training_trainer import TINY_MODEL, _faces

    real_main = attricam.training.trainer.main
    faces = (_faces(48, 0), _faces(24, 1))

    def tiny_main(cfg, callback=None, **kw):  # synthetic faces and a tiny model instead of CelebA
        return real_main(replace(cfg, model=TINY_MODEL, margin=4, num_threads=1), callback, faces=faces, **kw)

    monkeypatch.setattr(attricam.training.trainer, "main", tiny_main)
    recipes = "bce,bce+balanced,weighted+curriculum"
    argv = ["train", "--compare", recipes, "--sampler", "random", "--epochs", "1", "--batch", "16"]
    assert main([*argv, "--image-size", "32x24", "--no-onnx", "--threads", "1", "--out", str(tmp_path)]) == 0
    table = json.loads((tmp_path / "comparison.json").read_text())
    assert [r["recipe"] for r in table["rows"]] == recipes.split(",")
    assert "bce+balanced" in (tmp_path / "comparison.md").read_text()
    samplers = [load_checkpoint(tmp_path / r / "checkpoint.pt")["config"]["sampler"] for r in recipes.split(",")]
    assert samplers == ["random", "balanced", "curriculum"]


def test_model_options_size_the_network_and_bad_ones_stop_before_training(tmp_path):
    from attricam.training.preflight import SetupError, check_train_setup
    from attricam.training.trainer import model_config_for

    args = _train_args("--model-option", "stem_width=32", "--model-option", "stage_widths=64,128", "--out", "/tmp/r")
    cfg = config_from_args(args, args.loss, args.out)
    assert cfg.model == {"stem_width": 32, "stage_widths": (64, 128)}
    built = model_config_for(cfg)
    assert (built.stem_width, built.stage_widths, built.image_height) == (32, (64, 128), 96)
    with pytest.raises(SystemExit):
        _train_args("--model-option", "stem_width=wide", "--out", "/tmp/r")
    for bad in ("depth=3", "dim=130"):  # no such field; a width the 2-D positions cannot split
        args = _train_args("--model-option", bad, "--out", str(tmp_path / "run"))
        with pytest.raises(SetupError, match="--model-option"):
            check_train_setup(config_from_args(args, args.loss, args.out), resume=False)
