"""The CelebA reader on a tiny official-layout fixture with every kind of damage, and on the real files."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from attricam.engine.attributes import ATTRIBUTE_NAMES, TRAIN_POSITIVE_RATE
from attricam.training.celeba import load_celeba, read_attributes, train_positive_rates


def _row(name: str, values: list[int]) -> str:
    return name + " " + " ".join(f"{v:2d}" for v in values)


@pytest.fixture()
def tiny_celeba(tmp_path):
    """6 annotated images: 4 on disk (3 train, 1 val), 1 train + 1 val absent; one malformed row, one bad value."""
    images = tmp_path / "img_align_celeba"
    images.mkdir()
    ones = [1] * 20 + [-1] * 20
    rows = [
        _row("000001.jpg", ones),
        _row("000002.jpg", [-1] * 40),
        _row("000003.jpg", ones[:39]),  # malformed: 39 values
        _row("000004.jpg", [2, *ones[1:]]),  # malformed: value 2
        _row("000005.jpg", ones),  # absent from disk
        _row("000006.jpg", ones),  # val, present
        _row("000007.jpg", ones),  # val, absent
    ]
    (tmp_path / "list_attr_celeba.txt").write_text("7\n" + " ".join(ATTRIBUTE_NAMES) + "\n" + "\n".join(rows) + "\n")
    parts = [
        "000001.jpg 0",
        "000002.jpg 0",
        "000003.jpg 0",
        "000004.jpg 0",
        "000005.jpg 0",
        "000006.jpg 1",
        "000007.jpg 1",
        "000008.jpg 2",
    ]
    (tmp_path / "list_eval_partition.txt").write_text("\n".join(parts) + "\n")
    pixel = np.zeros((8, 8, 3), np.uint8)
    for name in ("000001.jpg", "000002.jpg", "000003.jpg", "000004.jpg", "000006.jpg", "stray.jpg"):
        cv2.imwrite(str(images / name), pixel)
    return tmp_path


def test_reader_reports_missing_malformed_and_absent(tiny_celeba, caplog):
    with caplog.at_level(logging.WARNING, logger="attricam.training.celeba"):
        splits = load_celeba(tiny_celeba)
    report = splits["train"].report
    assert splits["train"].filenames == ("000001.jpg", "000002.jpg")
    assert splits["val"].filenames == ("000006.jpg",)
    assert len(splits["test"]) == 0
    assert report.found == {"train": 2, "val": 1, "test": 0}
    assert report.missing == {"train": 1, "val": 1, "test": 1}
    assert report.malformed_rows == 2
    assert any("39 values" in e for e in report.malformed_examples)
    assert any("other than 1/-1" in e for e in report.malformed_examples)
    assert report.unannotated == 2  # 000003 and 000004 are present but their rows were rejected
    assert report.unpartitioned_files == 1  # stray.jpg
    np.testing.assert_array_equal(splits["train"].labels[0], [1] * 20 + [0] * 20)
    np.testing.assert_array_equal(splits["train"].labels[1], [0] * 40)
    text = caplog.text
    assert "malformed attribute rows" in text and "absent" in text and "not named by the partition file" in text
    assert report.to_dict()["missing"]["val"] == 1


def test_reader_survives_a_missing_image_directory(tiny_celeba):
    for f in (tiny_celeba / "img_align_celeba").iterdir():
        f.unlink()
    (tiny_celeba / "img_align_celeba").rmdir()
    splits = load_celeba(tiny_celeba, ("train",))
    assert len(splits["train"]) == 0
    assert splits["train"].report.missing["train"] == 5


def test_unknown_partition_and_bad_header_fail_clearly(tiny_celeba):
    with pytest.raises(ValueError, match="valid: train, val, test"):
        load_celeba(tiny_celeba, ("dev",))
    bad = tiny_celeba / "list_attr_celeba.txt"
    bad.write_text("1\nA B C\n000001.jpg 1 1 1\n")
    with pytest.raises(ValueError, match="header"):
        read_attributes(bad)


def test_train_positive_rates_of_fixture(tiny_celeba):
    rates = train_positive_rates(tiny_celeba)  # valid train rows: 000001, 000002, 000005
    np.testing.assert_allclose(rates, [2 / 3] * 20 + [0.0] * 20)


def test_train_positive_rates_match_engine_table(celeba_root):
    rates = train_positive_rates(celeba_root)
    np.testing.assert_allclose(rates, TRAIN_POSITIVE_RATE, atol=6e-5)
