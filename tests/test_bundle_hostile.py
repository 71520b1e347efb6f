"""Bundles built to exhaust memory or time: a huge declared input, deeply shared lists (issue 22).

Each is made at run time from a small random bundle's payload, changed in one place and saved
with ``torch.save`` (as a hostile user would), then loaded: it must be refused in one line, fast.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import torch

from attricam.cli import main
from attricam.engine.bundle import BundleError, ModelBundle


def _shared(depth: int) -> list[Any]:
    """``x = [x, x]`` ``depth`` times: a few hundred bytes pickled, 2**depth values walked as a tree."""
    x: list[Any] = [0.5]
    for _ in range(depth):
        x = [x, x]
    return x


def _hostile_copy(random_bundle_path: Path, folder: Path, change: str) -> Path:
    payload = torch.load(random_bundle_path, weights_only=True)
    if change == "huge-input":
        payload["config"] = {**payload["config"], "image_height": 4096, "image_width": 4096}
    elif change == "shared-calibration":
        payload["calibration"] = _shared(60)
    elif change == "shared-metadata":
        payload["metadata"] = {**payload["metadata"], "history": _shared(60)}
    path = folder / f"{change}.pt"
    torch.save(payload, path)
    return path


@pytest.mark.parametrize(
    "change, expected",
    [
        ("huge-input", "input 4096x4096 is larger than 262,144 pixels"),
        ("shared-calibration", "decision data holds more than 200,000 values"),
        ("shared-metadata", "metadata holds more than 200,000 values"),
    ],
)
def test_a_hostile_bundle_is_refused_quickly(
    change: str, expected: str, random_bundle_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _hostile_copy(random_bundle_path, tmp_path, change)
    started = time.perf_counter()
    with pytest.raises(BundleError, match=expected):
        ModelBundle.load(path)
    assert time.perf_counter() - started < 5.0
    (tmp_path / "photo.png").write_bytes(b"x")  # never read: the model is refused first
    code = main(["analyze", str(tmp_path / "photo.png"), "--csv", str(tmp_path / "o.csv"), "--model", str(path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and expected in lines[0], lines
