"""``attricam train`` against bad roots, bad options and leftovers: one clear line, no traceback."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from attricam.cli import build_parser
from attricam.engine.attributes import ATTRIBUTE_NAMES
from attricam.training.cli import run_train
from attricam.training.config import CHECKPOINT_NAME
from attricam.training.preflight import SetupError, check_train_setup
from attricam.training.trainer import main

from .test_training_trainer import _config, _faces


def _root(tmp_path: Path, *, header: list[str] | None = None, attributes: bool = True) -> Path:
    root = tmp_path / "celeba"
    (root / "img_align_celeba").mkdir(parents=True)
    (root / "list_eval_partition.txt").write_text("000001.jpg 0\n")
    if attributes:
        names = list(ATTRIBUTE_NAMES) if header is None else header
        (root / "list_attr_celeba.txt").write_text(f"1\n{' '.join(names)}\n000001.jpg {' '.join(['1'] * 40)}\n")
    return root


def _train(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run_train(build_parser("train").parse_args(["train", *argv]))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing-root", "does not exist (or is not a folder); pass --data DIR or set $ATTRICAM_DATA"),
        ("no-attributes", "has no list_attr_celeba.txt; a CelebA root holds"),
        ("wrong-header", "list_attr_celeba.txt: its header (line 2) does not list the 40 CelebA attributes"),
    ],
)
def test_bad_data_roots_are_one_line(
    case: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = {
        "missing-root": lambda: tmp_path / "nowhere",
        "no-attributes": lambda: _root(tmp_path, attributes=False),
        "wrong-header": lambda: _root(tmp_path, header=list(reversed(ATTRIBUTE_NAMES))),
    }[case]()
    code, err = _train(["--data", str(root), "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and err.count("\n") == 1 and expected in err and err.startswith("attricam train: error: ")


def test_unknown_loss_option_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _train(
        ["--data", str(_root(tmp_path)), "--loss-option", "foo=1", "--out", str(tmp_path / "run")], capsys
    )
    assert code == 2 and err.startswith("attricam train: error: --loss-option: unknown loss options ['foo']; valid: [")
    assert err.count("\n") == 1


def test_existing_checkpoint_without_resume_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / CHECKPOINT_NAME).write_bytes(b"previous run")
    code, err = _train(["--data", str(_root(tmp_path)), "--out", str(out)], capsys)
    assert code == 2 and f"{out / CHECKPOINT_NAME} exists; pass --resume to continue it" in err
    assert (out / CHECKPOINT_NAME).read_bytes() == b"previous run"


def test_stale_checkpoint_temporaries_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    stale = out / ".checkpoint.k1ll3d.tmp.pt"  # the 0-byte file a killed torch.save leaves
    stale.write_bytes(b"")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = out / ".checkpoint.writing.tmp.pt"  # another writer's file, just created: spared
    fresh.write_bytes(b"")
    cfg = _config(out, data=(str(_root(tmp_path)),))
    check_train_setup(cfg, resume=False)
    assert not stale.exists() and fresh.exists()
    with pytest.raises(SetupError):
        check_train_setup(_config(out, data=(str(tmp_path / "nowhere"),)), resume=False)


def test_resume_without_checkpoint_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = _config(tmp_path / "run")
    with caplog.at_level(logging.WARNING, logger="attricam.training.trainer"):
        result = main(cfg, resume=True, max_epochs_this_run=1, faces=(_faces(32, 0), _faces(16, 1)))
    assert (
        f"--resume: no checkpoint at {tmp_path / 'run' / CHECKPOINT_NAME}, so this starts a new run from epoch 1"
        in caplog.text
    )
    assert result["epochs_done"] == 1 and (tmp_path / "run" / CHECKPOINT_NAME).is_file()
