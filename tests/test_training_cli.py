"""The training CLI parses what the lead's ``attricam`` registers, and fails loudly on bad input."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from training.cli import add_evaluate_arguments, add_train_arguments, config_from_args, get_args_parser
from training.events import JsonLinesWriter, StepEvent


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
