"""``--shard i/n`` for the face cache and ``attricam analyze``, and ``attricam merge``: shards join to the unsharded bytes."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from attricam.engine.shards import Shard, merge_csv, parse_shard
from attricam.training.cache import CropSpec, build_face_cache, cache_file, merge_face_caches


def test_shards_cover_every_item_once_in_order(monkeypatch):
    items = list(range(11))
    for n in (1, 2, 3, 5, 11, 13):
        assert [x for i in range(n) for x in Shard(i, n).take(items)] == items
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert parse_shard("env") == Shard(2, 4) and parse_shard("1/3") == Shard(1, 3)
    with pytest.raises(Exception, match="0 <= i < n"):
        parse_shard("3/3")


def _shard_csv(path, text: str | bytes, shard: str, *, listing: str = "job", complete: bool = True):
    """A shard CSV as ``analyze --shard`` leaves it: the CSV and its manifest."""
    from attricam.engine.shards import ShardManifest, file_sha256

    path.write_bytes(text.encode() if isinstance(text, str) else text)
    ShardManifest(parse_shard(shard), listing, 1, file_sha256(path), complete).write(path)
    return path


def test_merge_csv_refuses_overlaps_and_foreign_headers(tmp_path):
    a = _shard_csv(tmp_path / "a.csv", 'path,face\nx.jpg,0\n"we,ird.jpg",0\n', "0/2")
    b = _shard_csv(tmp_path / "b.csv", "path,face\ny.jpg,0\ny.jpg,1\n", "1/2")
    assert merge_csv([b, a], tmp_path / "all.csv") == 4  # any order in, shard order out
    assert (tmp_path / "all.csv").read_text() == 'path,face\nx.jpg,0\n"we,ird.jpg",0\ny.jpg,0\ny.jpg,1\n'
    c = _shard_csv(tmp_path / "c.csv", "path,face\nx.jpg,0\n", "1/2")
    with pytest.raises(ValueError, match="overlapping"):
        merge_csv([a, c], tmp_path / "bad.csv")
    c = _shard_csv(tmp_path / "c.csv", "path,score\nz.jpg,0\n", "1/2")
    with pytest.raises(ValueError, match="header"):
        merge_csv([a, c], tmp_path / "bad.csv")
    assert not (tmp_path / "bad.csv").exists()


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing", "shard(s) 1/3 missing"),
        ("twice", "shard 0/3 is given twice"),
        ("truncated", "changed or truncated since its run wrote it"),
        ("interrupted", "shard 2/3 did not finish"),
        ("no-manifest", "no shard manifest"),
        ("other-job", "are shards of different runs"),
        ("other-count", "are shards of different runs"),
        ("short-record", "record 3 has 1 fields, not 2"),
    ],
)
def test_merge_csv_refuses_an_incomplete_set(case, expected, tmp_path):
    parts = [_shard_csv(tmp_path / f"p{i}.csv", f"path,face\nf{i}.jpg,0\n", f"{i}/3") for i in range(3)]
    if case == "missing":
        parts = [parts[0], parts[2]]
    elif case == "twice":
        parts = [parts[0], parts[0], parts[1], parts[2]]
    elif case == "truncated":
        parts[1].write_bytes(parts[1].read_bytes()[:-4])
    elif case == "interrupted":
        _shard_csv(parts[2], "path,face\nf2.jpg,0\n", "2/3", complete=False)
    elif case == "no-manifest":
        (tmp_path / "p1.csv.shard.json").unlink()
    elif case == "other-job":
        _shard_csv(parts[1], "path,face\nf1.jpg,0\n", "1/3", listing="another job")
    elif case == "other-count":
        _shard_csv(parts[1], "path,face\nf1.jpg,0\n", "1/4")
    elif case == "short-record":
        _shard_csv(parts[1], "path,face\nf1.jpg,0\nf1b.jpg\n", "1/3")
    with pytest.raises(ValueError, match=re.escape(expected)):
        merge_csv(parts, tmp_path / "all.csv")
    assert not (tmp_path / "all.csv").exists()


def test_merge_csv_keeps_names_that_are_not_utf8(tmp_path):
    a = _shard_csv(tmp_path / "a.csv", b"path,face\ncaf\xe9.png,-1\n", "0/2")
    b = _shard_csv(tmp_path / "b.csv", b"path,face\n\xff\xfe.png,-1\n", "1/2")
    assert merge_csv([a, b], tmp_path / "all.csv") == 2
    assert (tmp_path / "all.csv").read_bytes() == b"path,face\ncaf\xe9.png,-1\n\xff\xfe.png,-1\n"


def test_an_old_npz_cache_is_converted_to_a_memory_map(tmp_path):
    spec = CropSpec(width=24, height=32, margin=4)
    names = ["000001.jpg", "000002.jpg", "000003.jpg"]
    images = np.random.default_rng(0).integers(0, 256, (2, 40, 32, 3), dtype=np.uint8)
    legacy = cache_file(tmp_path / "root", names, tmp_path, spec).with_suffix(".npz")
    np.savez(
        legacy, filenames=np.array(names[:2]), images=images, no_face=np.array(names[2:]), unreadable=np.array([], str)
    )
    cache = build_face_cache(tmp_path / "root", names, tmp_path, spec)  # no detection: the cache is complete
    assert isinstance(cache.images, np.memmap) and np.array_equal(cache.images, images)
    assert cache.filenames == tuple(names[:2]) and cache.no_face == (names[2],)
    assert cache_file(tmp_path / "root", names, tmp_path, spec).is_file()


@pytest.mark.slow
def test_sharded_cache_merges_to_the_unsharded_cache(celeba_root, tmp_path):
    names = [f"{i:06d}.jpg" for i in range(1, 6)]
    whole_dir, shard_dir = tmp_path / "whole", tmp_path / "shards"
    whole = build_face_cache(celeba_root, names, whole_dir, workers=1)
    for i in range(2):
        build_face_cache(celeba_root, Shard(i, 2).take(names), shard_dir, workers=1)
    merged = merge_face_caches(celeba_root, names, 2, shard_dir)
    index = cache_file(celeba_root, names, whole_dir, CropSpec())
    twin = cache_file(celeba_root, names, shard_dir, CropSpec())
    assert twin.name == index.name
    assert json.loads(twin.read_text()) == json.loads(index.read_text())
    assert twin.with_suffix(".npy").read_bytes() == index.with_suffix(".npy").read_bytes()
    assert merged.filenames == whole.filenames and len(whole.filenames) >= 4


@pytest.mark.slow
def test_sharded_analyze_merges_to_the_unsharded_csv(celeba_face_paths, random_bundle_path, tmp_path):
    from attricam.cli import main

    folder = tmp_path / "photos"
    folder.mkdir()
    for path in celeba_face_paths[:5]:
        shutil.copy(path, folder / path.name)
    common = [str(folder), "--model", str(random_bundle_path), "--backend", "onnx"]
    assert main(["analyze", *common, "--csv", str(tmp_path / "whole.csv")]) == 0
    parts = [tmp_path / f"part-{i}.csv" for i in range(3)]
    for i, part in enumerate(parts):
        assert main(["analyze", *common, "--shard", f"{i}/3", "--csv", str(part)]) == 0
    assert main(["merge", "csv", *map(str, parts), "--out", str(tmp_path / "merged.csv")]) == 0
    assert (tmp_path / "merged.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
