"""Every subcommand at its edges: hostile arguments, files and outputs give one line and the right exit code,
and leave every input exactly as it was (issue 22).

Inputs are made at run time in a scratch folder (a photo, links to it, a FIFO, a model copy, junk
files, hostile ``--config`` files); each case runs ``attricam.cli.main`` in process and the folder is
compared byte for byte before and after. ``merge cache`` runs end to end in ``test_merge_cache_end_to_end``.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from attricam.cli import main
from attricam.engine.attributes import ATTRIBUTE_NAMES
from attricam.engine.bundle import default_bundle_path

from .test_analyze_cli import attricam_command, checkout_env
from .test_sources_hostile import write_mjpg_avi


def _snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root``: a file's SHA-256, a link's target, or its kind (FIFO, folder)."""
    entries = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                entries[str(path)] = f"link -> {os.readlink(path)}"
            elif stat.S_ISREG(mode):
                entries[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                entries[str(path)] = "dir" if stat.S_ISDIR(mode) else f"mode {stat.S_IFMT(mode):o}"
    return entries


def _fake_root(root: Path) -> Path:
    """A CelebA root with one (unreadable) image: enough for checks that run before any data loads."""
    (root / "img_align_celeba").mkdir(parents=True)
    (root / "img_align_celeba" / "000001.jpg").write_bytes(b"not a JPEG")
    (root / "list_eval_partition.txt").write_text("000001.jpg 0\n")
    (root / "list_attr_celeba.txt").write_text(f"1\n{' '.join(ATTRIBUTE_NAMES)}\n000001.jpg {' '.join(['1'] * 40)}\n")
    return root


def _shard_set(folder: Path) -> None:
    """Three shard CSVs of one job with their manifests, a truncated copy of shard 1 and a CSV without manifest."""
    from attricam.engine.shards import ShardManifest, file_sha256, parse_shard

    folder.mkdir()
    for i in range(3):
        part = folder / f"p{i}.csv"
        part.write_text(f"path,face\nf{i}.jpg,-1\n")
        ShardManifest(parse_shard(f"{i}/3"), "job", 1, file_sha256(part), True).write(part)
    (folder / "cut.csv").write_bytes((folder / "p1.csv").read_bytes()[:-3])
    (folder / "cut.csv.shard.json").write_bytes((folder / "p1.csv.shard.json").read_bytes())
    (folder / "plain.csv").write_text("path,face\nf1.jpg,-1\n")


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


_CONFIGS: dict[str, object] = {
    "list": ["data", "out"],
    "empty": {},
    "no-out": {"data": ["root"]},
    "extra-key": {"data": ["root"], "out": "run", "colour": "blue"},
    "wrong-type": {"data": ["root"], "out": "run", "epochs": "3"},
    "lr-null": {"data": ["root"], "out": "run", "lr": None},
    "threads": {"data": ["root"], "out": "run", "num_threads": -1},
    "height-47": {"data": ["root"], "out": "run", "image_height": 47},
    "epochs-0": {"data": ["root"], "out": "run", "epochs": 0},
    "augment-key": {"data": ["root"], "out": "run", "augment": {"sparkle": 1}},
    "cache-is-file": {"data": ["root"], "out": "run", "cache_dir": "plain.txt"},
    "batch-0": {"data": ["root"], "out": "run", "batch_size": 0},
    "model-negative": {"data": ["root"], "out": "run", "model": {"stem_width": -5}},
    "data-string": {"data": "root", "out": "run"},
}


@pytest.fixture
def scratch(tmp_path: Path, random_bundle_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The hostile inputs, in the working directory of the command."""
    Image.fromarray(np.full((48, 64, 3), 128, np.uint8)).save(tmp_path / "photo.jpg")
    (tmp_path / "link.jpg").symlink_to("photo.jpg")
    os.link(tmp_path / "photo.jpg", tmp_path / "hard.csv")
    os.mkfifo(tmp_path / "fifo.csv")
    (tmp_path / "folder").mkdir()
    (tmp_path / "in").mkdir()
    shutil.copy(tmp_path / "photo.jpg", tmp_path / "in" / "face.jpg")
    (tmp_path / "plain.txt").write_text("a regular file")
    (tmp_path / "junk.pt").write_bytes(os.urandom(2048))
    write_mjpg_avi(tmp_path / "clip.avi", frames=2)
    shutil.copy(random_bundle_path, tmp_path / "m.pt")
    _fake_root(tmp_path / "root")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.pt").write_bytes((tmp_path / "m.pt").read_bytes()[:700])  # truncated zip
    (tmp_path / "evil").mkdir()
    (tmp_path / "evil" / "checkpoint.pt").write_bytes(pickle.dumps(_Evil(), protocol=2))
    (tmp_path / "configs").mkdir()
    for name, content in _CONFIGS.items():
        (tmp_path / "configs" / f"{name}.json").write_text(json.dumps(content))
    (tmp_path / "configs" / "invalid.json").write_text('{"data": ["root"], "out": ')
    (tmp_path / "configs" / "nan.json").write_text('{"data": ["root"], "out": "run", "lr": NaN}')
    (tmp_path / "configs" / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    _shard_set(tmp_path / "shards")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


# (argv, exit code, text the one line holds)
CASES: dict[str, tuple[list[str], int, str]] = {
    # analyze: outputs that would destroy an input, the model, each other, or a device
    "analyze-csv-is-input": (["analyze", "photo.jpg", "--csv", "photo.jpg"], 2, "is the input photo.jpg"),
    "analyze-csv-links-input": (["analyze", "photo.jpg", "--csv", "link.jpg"], 2, "is the input photo.jpg"),
    "analyze-csv-hardlinks-input": (["analyze", "photo.jpg", "--csv", "hard.csv"], 2, "is the input photo.jpg"),
    "analyze-json-is-model": (
        ["analyze", "photo.jpg", "--csv", "o.csv", "--json", "m.pt", "--model", "m.pt"], 2, "is the model (--model)",
    ),
    "analyze-same-resolved": (
        ["analyze", "photo.jpg", "--csv", "folder/same.csv", "--json", "./folder/../folder/same.csv"], 2,
        "is the same file as --csv",
    ),
    "analyze-csv-is-shipped-model": (
        ["analyze", "photo.jpg", "--csv", str(default_bundle_path())], 2, "is the shipped model",
    ),
    "analyze-json-is-onnx-twin": (
        ["analyze", "photo.jpg", "--csv", "o.csv", "--json", "m.onnx", "--model", "m.pt"], 2, "is the model's ONNX twin",
    ),
    "bench-json-is-shipped-model": (
        ["bench", "--source", "photo.jpg", "--json", str(default_bundle_path())], 2, "is the shipped model",
    ),
    "analyze-csv-in-input-folder": (["analyze", "in", "--csv", "in/x.jpg"], 2, "would be read as an input"),
    "analyze-annotate-is-input-folder": (["analyze", "in", "--csv", "o.csv", "--annotate", "in"], 2, "is the input in"),
    "analyze-annotate-is-csv": (["analyze", "in", "--csv", "new/o", "--annotate", "new/o"], 2, "same path as --csv"),
    "analyze-csv-fifo": (["analyze", "photo.jpg", "--csv", "fifo.csv"], 2, "is not a regular file"),
    "analyze-csv-device": (["analyze", "photo.jpg", "--csv", "/dev/null"], 2, "is not a regular file"),
    "analyze-csv-dir": (["analyze", "photo.jpg", "--csv", "folder"], 2, "is a directory"),
    "analyze-every-0": (["analyze", "photo.jpg", "--csv", "o.csv", "--every", "0"], 2, "--every: must be >= 1"),
    "analyze-shard-3-of-3": (["analyze", "photo.jpg", "--csv", "o.csv", "--shard", "3/3"], 2, "--shard"),
    "analyze-hostile-model": (["analyze", "photo.jpg", "--csv", "o.csv", "--model", "junk.pt"], 2, "junk.pt"),
    # train: arguments
    "train-batch-0": (["train", "--out", "new", "--batch", "0"], 2, "--batch: must be between 2"),
    "train-batch-negative": (["train", "--out", "new", "--batch", "-3"], 2, "--batch: must be between 2"),
    "train-lr-nan": (["train", "--out", "new", "--lr", "nan"], 2, "--lr: must be a finite number"),
    "train-lr-0": (["train", "--out", "new", "--lr", "0"], 2, "--lr: must be > 0"),
    "train-epochs-0": (["train", "--out", "new", "--epochs", "0"], 2, "--epochs: must be between 1"),
    "train-epochs-negative": (["train", "--out", "new", "--epochs", "-1"], 2, "--epochs: must be between 1"),
    "train-stem-negative": (["train", "--out", "new", "--model-option", "stem_width=-5"], 2, "stem_width"),
    "train-image-0x0": (["train", "--out", "new", "--image-size", "0x0"], 2, "--image-size"),
    "train-threads-negative": (["train", "--out", "new", "--threads", "-1"], 2, "--threads"),
    "train-loss-option-nan": (["train", "--out", "new", "--loss-option", "gamma=nan"], 2, "finite"),
    "train-resume-truncated": (
        ["train", "--data", "root", "--out", "run", "--resume"], 2, "cannot be resumed: not a readable checkpoint",
    ),
    "train-resume-malicious": (
        ["train", "--data", "root", "--out", "evil", "--resume"], 2, "cannot be resumed: not a readable checkpoint",
    ),
    "train-out-is-file": (["train", "--data", "root", "--out", "plain.txt"], 2, "--out plain.txt is a file"),
    "train-events-dir": (["train", "--data", "root", "--out", "new", "--events", "folder"], 2, "--events folder is a"),
    "evaluate-events-dir": (["evaluate", "--model", "m.pt", "--events", "folder"], 2, "--events folder is a"),
    # train --config: hostile files
    "config-missing": (["train", "--config", "configs/none.json"], 2, "does not exist"),
    "config-invalid-json": (["train", "--config", "configs/invalid.json"], 2, "is not valid JSON"),
    "config-deep-json": (["train", "--config", "configs/deep.json"], 2, "is not valid JSON"),
    "config-is-fifo": (["train", "--config", "fifo.csv"], 2, "is not a regular file"),
    "config-nan": (["train", "--config", "configs/nan.json"], 2, "lr must be a finite number"),
    "config-list": (["train", "--config", "configs/list.json"], 2, "must hold a JSON object"),
    "config-empty": (["train", "--config", "configs/empty.json"], 2, "missing data and out"),
    "config-no-out": (["train", "--config", "configs/no-out.json"], 2, "missing out"),
    "config-extra-key": (["train", "--config", "configs/extra-key.json"], 2, "unknown keys ['colour']"),
    "config-wrong-type": (["train", "--config", "configs/wrong-type.json"], 2, 'epochs must be an integer, got "3"'),
    "config-lr-null": (["train", "--config", "configs/lr-null.json"], 2, "lr must be a number, got null"),
    "config-threads": (["train", "--config", "configs/threads.json"], 2, "num_threads must be >= 1"),
    "config-height-47": (["train", "--config", "configs/height-47.json"], 2, "image_height must be a multiple of 8"),
    "config-epochs-0": (["train", "--config", "configs/epochs-0.json"], 2, "epochs must be >= 1"),
    "config-augment-key": (["train", "--config", "configs/augment-key.json"], 2, "unknown augment key 'sparkle'"),
    "config-cache-is-file": (["train", "--config", "configs/cache-is-file.json"], 2, "cache_dir plain.txt is a file"),
    "config-batch-0": (["train", "--config", "configs/batch-0.json"], 2, "batch_size must be >= 2"),
    "config-model-negative": (["train", "--config", "configs/model-negative.json"], 2, "stem_width must be between"),
    "config-data-string": (["train", "--config", "configs/data-string.json"], 2, "data must be a list of strings"),
    # evaluate
    "evaluate-missing-model": (["evaluate", "--model", "none.pt", "--data", "root"], 2, "model bundle not found"),
    "evaluate-hostile-model": (["evaluate", "--model", "junk.pt", "--data", "root"], 2, "junk.pt"),
    "evaluate-missing-root": (["evaluate", "--model", "m.pt", "--data", "nowhere"], 2, "data root nowhere does not"),
    "evaluate-limit-0": (["evaluate", "--model", "m.pt", "--limit", "0"], 2, "--limit: must be >= 1"),
    "evaluate-out-is-file": (
        ["evaluate", "--model", "m.pt", "--data", "root", "--out", "plain.txt"], 2, "is a file, not a folder",
    ),
    # bench
    "bench-frames-0": (["bench", "--source", "photo.jpg", "--frames", "0"], 2, "--frames: must be >= 1"),
    "bench-json-dir": (["bench", "--source", "photo.jpg", "--json", "folder"], 2, "is a directory"),
    "bench-json-is-source": (["bench", "--source", "photo.jpg", "--json", "photo.jpg"], 2, "is the clip"),
    "bench-missing-source": (["bench", "--source", "none.mp4"], 2, "is not a video file"),
    "bench-source-not-video": (["bench", "--source", "junk.pt"], 2, "junk.pt: cannot open video"),
    "bench-hostile-model": (["bench", "--source", "clip.avi", "--model", "junk.pt"], 2, "junk.pt"),
    # cache
    "cache-missing-root": (["cache", "--data", "/nonexistent"], 2, "data root /nonexistent does not exist"),
    "cache-workers-0": (["cache", "--data", "root", "--workers", "0"], 2, "--workers: must be >= 1"),
    "cache-bad-partition": (["cache", "--data", "root", "--partitions", "train,dev"], 2, "--partitions"),
    "cache-dir-is-file": (["cache", "--data", "root", "--cache", "plain.txt"], 2, "is a file, not a folder"),
    # export-onnx
    "export-out-is-model": (["export-onnx", "--model", "m.pt", "--out", "m.pt"], 2, "is the model (--model)"),
    "export-out-dir": (["export-onnx", "--model", "m.pt", "--out", "folder"], 2, "is a directory"),
    "export-out-fifo": (["export-onnx", "--model", "m.pt", "--out", "fifo.csv"], 2, "is not a regular file"),
    "export-missing-model": (["export-onnx", "--model", "none.pt"], 2, "model bundle not found"),
    "export-hostile-model": (["export-onnx", "--model", "junk.pt", "--out", "x.onnx"], 2, "junk.pt"),
    # merge
    "merge-csv-missing-shard": (
        ["merge", "csv", "shards/p0.csv", "shards/p2.csv", "--out", "all.csv"], 2, "shard(s) 1/3 missing",
    ),
    "merge-csv-shard-twice": (
        ["merge", "csv", "shards/p0.csv", "shards/p0.csv", "shards/p1.csv", "shards/p2.csv", "--out", "all.csv"], 2,
        "shard 0/3 is given twice",
    ),
    "merge-csv-truncated": (
        ["merge", "csv", "shards/p0.csv", "shards/cut.csv", "shards/p2.csv", "--out", "all.csv"], 2,
        "changed or truncated",
    ),
    "merge-csv-no-manifest": (
        ["merge", "csv", "shards/p0.csv", "shards/plain.csv", "shards/p2.csv", "--out", "all.csv"], 2,
        "no shard manifest",
    ),
    "merge-csv-out-is-a-shard": (
        ["merge", "csv", "shards/p0.csv", "shards/p1.csv", "shards/p2.csv", "--out", "shards/p1.csv"], 2,
        "is the shard shards/p1.csv",
    ),
    "merge-csv-out-is-fifo": (
        ["merge", "csv", "shards/p0.csv", "shards/p1.csv", "shards/p2.csv", "--out", "fifo.csv"], 2,
        "is not a regular file",
    ),
    "merge-cache-shards-0": (["merge", "cache", "--data", "root", "--shards", "0"], 2, "--shards: must be >= 1"),
    "merge-cache-missing-root": (["merge", "cache", "--data", "nowhere", "--shards", "2"], 2, "data root nowhere"),
    "merge-cache-no-images": (
        ["merge", "cache", "--data", "root", "--partitions", "val", "--shards", "2"], 2, "no val images under root",
    ),
    "merge-cache-dir-is-file": (
        ["merge", "cache", "--data", "root", "--cache", "plain.txt", "--shards", "2"], 2, "is a file, not a folder",
    ),
    "merge-cache-no-shards": (
        ["merge", "cache", "--data", "root", "--cache", "folder", "--shards", "2"], 2, "no finished cache of shard",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_is_one_line_and_changes_nothing(
    case: str, scratch: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, expected_code, expected_text = CASES[case]
    before = _snapshot(scratch)
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == expected_code, err
    assert len(lines) == 1 and expected_text in lines[0], err
    assert "Traceback" not in err
    assert _snapshot(scratch) == before
    assert not (scratch / "pwned").exists()


@pytest.mark.slow
def test_merge_cache_end_to_end(celeba_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's sharded-cache steps through the console entry: two ``cache --shard`` runs, one ``merge cache``."""
    from attricam.training.cache import CropSpec, build_face_cache, cache_ready

    names = [f"{i:06d}.jpg" for i in range(1, 5)]
    root = tmp_path / "celeba"
    (root / "img_align_celeba").mkdir(parents=True)
    for name in names:
        shutil.copy(celeba_root / "img_align_celeba" / name, root / "img_align_celeba" / name)
    with open(celeba_root / "list_attr_celeba.txt", encoding="utf-8") as handle:
        (root / "list_attr_celeba.txt").write_text("".join(handle.readline() for _ in range(2 + len(names))))
    (root / "list_eval_partition.txt").write_text("".join(f"{n} 0\n" for n in names))
    common = ["--data", str(root), "--cache", str(tmp_path / "cache"), "--partitions", "train"]
    for shard in ("0/2", "1/2"):
        assert main(["cache", *common, "--shard", shard, "--workers", "1"]) == 0
    assert not cache_ready(root, names, tmp_path / "cache", CropSpec())
    assert main(["merge", "cache", *common, "--shards", "2"]) == 0, capsys.readouterr().err
    assert cache_ready(root, names, tmp_path / "cache", CropSpec())
    merged = build_face_cache(root, names, tmp_path / "cache")  # found, not rebuilt: no detector runs
    assert set(merged.filenames) | set(merged.no_face) | set(merged.unreadable) == set(names)
    assert len(merged.filenames) >= 3 and len(merged.images) == len(merged.filenames)


def test_merge_csv_joins_a_whole_set_in_any_order(scratch: Path) -> None:
    (scratch / "linked.csv").symlink_to("shards/p1.csv")  # a shard named through a link finds its manifest
    parts = ["shards/p2.csv", "shards/p0.csv", "linked.csv"]
    assert main(["merge", "csv", *parts, "--out", "all.csv"]) == 0
    assert (scratch / "all.csv").read_text() == "path,face\nf0.jpg,-1\nf1.jpg,-1\nf2.jpg,-1\n"


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(scratch: Path) -> None:
    import csv

    names = ["=HYPERLINK(1).png", "+sum.png", "-x.png", "@cmd.png", "plain.png"]
    for name in names:
        shutil.copy(scratch / "photo.jpg", scratch / "in" / name)
    assert main(["analyze", *(f"in/{n}" for n in names), "--csv", "o.csv", "--model", "m.pt"]) == 0
    with open(scratch / "o.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["path"] for r in rows] == [f"in/{n}" for n in names]  # a path starting with a folder is harmless
    assert main(["analyze", *names[:1], "--csv", "bare.csv", "--model", "m.pt"]) == 1  # not there: no row
    (scratch / names[0]).write_bytes((scratch / "photo.jpg").read_bytes())
    (scratch / names[2]).write_bytes((scratch / "photo.jpg").read_bytes())
    assert main(["analyze", "--model", "m.pt", "--csv", "bare.csv", "--", names[0], names[2], "photo.jpg"]) == 0
    with open(scratch / "bare.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["path"] for r in rows] == ["'=HYPERLINK(1).png", "'-x.png", "photo.jpg"]
    assert all(r["face"] == "-1" for r in rows)  # numbers, negative ones too, stay numbers


def test_spreadsheet_safe_touches_only_formulas() -> None:
    from attricam.engine.analyze_output import spreadsheet_safe

    assert [spreadsheet_safe(c) for c in ("=1+2", "+A1", "-2+3", "@SUM(A1)", "\tx", "-1", "-3.5", "+4", "a=b")] == [
        "'=1+2", "'+A1", "'-2+3", "'@SUM(A1)", "'\tx", "-1", "-3.5", "+4", "a=b",
    ]  # fmt: skip


def test_a_long_csv_name_is_written_whole(scratch: Path) -> None:
    """245 characters: the temporary and the lock file beside it have longer names, shortened with a hash."""
    name = f"{'n' * 245}.csv"
    assert main(["analyze", "photo.jpg", "--csv", name, "--model", "m.pt"]) == 0
    assert (scratch / name).read_text().count("\n") == 2
    assert not [p for p in scratch.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_a_second_run_on_the_same_csv_is_refused_while_the_first_lives(scratch: Path) -> None:
    for i in range(40):
        shutil.copy(scratch / "photo.jpg", scratch / "in" / f"{i:02d}.jpg")
    args = [*attricam_command(), "-v", "analyze", "in", "--csv", "busy.csv", "--model", "m.pt"]
    first = subprocess.Popen(args, cwd=scratch, stderr=subprocess.PIPE, text=True, env=checkout_env())
    assert first.stderr is not None
    for line in first.stderr:
        if "[3/41]" in line:
            first.send_signal(signal.SIGSTOP)  # mid-run, holding its lock, for as long as the second one takes
            break
    try:
        second = subprocess.run(args, cwd=scratch, capture_output=True, text=True, env=checkout_env(), timeout=120)
    finally:
        first.send_signal(signal.SIGCONT)
    rest = first.communicate(timeout=300)[1]
    assert second.returncode == 2 and second.stderr.count("\n") == 1, second.stderr
    assert f"is being written by another attricam run (pid {first.pid})" in second.stderr
    assert first.returncode == 0, rest
    assert (scratch / "busy.csv").read_text().count("\n") == 42  # the header and all 41 files: nothing lost


def test_a_locked_output_is_refused_while_its_run_lives(scratch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from attricam.engine.output_guard import output_lock

    with output_lock([((scratch / "busy.csv").resolve(), "--csv")]):
        before = _snapshot(scratch)
        code = main(["analyze", "photo.jpg", "--csv", "busy.csv"])
        assert _snapshot(scratch) == before
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"--csv {scratch / 'busy.csv'} is being written by another attricam run (pid {os.getpid()})" in err
    assert not list(scratch.glob(".busy.csv*")), "the lock file goes with the run"


def test_a_run_folder_in_use_is_refused(scratch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from attricam.engine.output_guard import output_lock

    with output_lock([((scratch / "live" / "checkpoint.pt").resolve(), "--out")]):
        before = _snapshot(scratch)
        code = main(["train", "--data", "root", "--out", "live", "--resume"])
        assert _snapshot(scratch) == before
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "is being written by another attricam run" in err


def test_an_unexpected_error_is_one_line_naming_a_log(
    scratch: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import attricam.engine.bench

    def broken(args: object) -> int:
        raise RuntimeError("something nobody expected\nsecond line")

    monkeypatch.setattr(attricam.engine.bench, "run_bench", broken)
    code = main(["bench", "--source", "photo.jpg"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("attricam bench: internal error: RuntimeError: something nobody expected (")
    log = Path(lines[0].split("the traceback is in ", 1)[1].rstrip(")"))
    try:
        assert "Traceback" in log.read_text() and "second line" in log.read_text()
    finally:
        log.unlink()


def test_a_subcommand_that_fails_to_load_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import attricam.engine.bench

    def broken(parser: object) -> None:
        raise NameError("name 'SOMETHING' is not defined")

    monkeypatch.setattr(attricam.engine.bench, "add_bench_arguments", broken)
    code = main(["bench", "--source", "x.mp4"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("attricam bench: internal error: NameError: name 'SOMETHING' is not defined (")
    Path(lines[0].split("the traceback is in ", 1)[1].rstrip(")")).unlink()


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--size", "abc"], "--size: expected WIDTHxHEIGHT"),
        (["--resolution", "0x0"], "--resolution: expected WIDTHxHEIGHT"),
        (["--exit-after-frames", "0"], "--exit-after-frames: must be >= 1"),
        (["--timeout", "nan"], "--timeout: must be a finite number"),
    ],
)
def test_the_app_refuses_bad_options_in_one_line(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("PySide6")
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("attricam: error: argument ") and expected in lines[0], lines


def test_the_console_script_prints_one_line(tmp_path: Path) -> None:
    run = subprocess.run(
        [*attricam_command(), "train", "--out", str(tmp_path / "run"), "--batch", "0"],
        capture_output=True,
        text=True,
        env=checkout_env(),
        timeout=120,
        check=False,
    )
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "--batch: must be between 2" in run.stderr
    assert not (tmp_path / "run").exists()


def test_a_long_output_name_still_has_room_for_its_temporary(tmp_path: Path) -> None:
    from attricam.engine.atomic import atomic_write_text, temp_prefix
    from attricam.engine.output_paths import remove_stale_temps

    target = tmp_path / f"{'n' * 245}.csv"
    atomic_write_text(target, "path\n")
    assert target.read_text() == "path\n" and sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    leftover = tmp_path / f"{temp_prefix(target)}abc_1234.tmp.csv"
    leftover.write_text("")
    neighbour = tmp_path / ".a.b.abc_1234.tmp.csv"  # a temporary of a.b.csv, not of a.csv
    neighbour.write_text("")
    assert remove_stale_temps(target, older_than_s=0) == [leftover] and not leftover.exists()
    assert remove_stale_temps(tmp_path / "a.csv", older_than_s=0) == [] and neighbour.exists()


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to run as another user")
def test_unreadable_files_and_folders_are_named_and_the_rest_analysed(random_bundle_path: Path) -> None:
    """As a user who cannot read some of it (root reads everything): each unreadable thing is one line, the rest is kept."""
    import csv
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="attricam-perm-"))  # in /tmp: reachable by the other user
    try:
        blank = Image.fromarray(np.full((48, 64, 3), 128, np.uint8))
        for sub in ("locked", "photos/ok", "photos/secret"):
            (folder / sub).mkdir(parents=True)
        for name in ("good.png", "locked/x.png", "photos/ok/a.png", "photos/secret/b.png"):
            blank.save(folder / name)
        (folder / "v.mp4").write_bytes(b"\x00" * 64)
        shutil.copy(random_bundle_path, folder / "m.pt")
        from attricam.engine.mtcnn_export import ensure_exported

        nets = ensure_exported()  # the detector's ONNX cache, copied where the other user can read it
        shutil.copytree(nets, folder / "cache" / nets.name)
        for path in (folder / "locked", folder / "photos/secret", folder / "v.mp4"):
            path.chmod(0)
        folder.chmod(0o777)  # the rest keeps root's umask 022: readable by all
        run = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                *attricam_command(),
                "analyze",
                "good.png",
                "locked/x.png",
                "v.mp4",
                "photos",
                "--csv",
                "out.csv",
                "--model",
                "m.pt",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**checkout_env(), "ATTRICAM_CACHE": str(folder / "cache"), "HOME": str(folder)},
        )
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
        lines = [line for line in run.stderr.splitlines() if line.startswith("SKIPPED")]
        assert sorted(lines) == [
            "SKIPPED locked/x.png: permission denied (a folder on its path cannot be searched)",
            "SKIPPED photos/secret: cannot read this folder (Permission denied); its files are not analysed",
            "SKIPPED v.mp4: permission denied",
        ], run.stderr
        with open(folder / "out.csv", newline="", encoding="utf-8") as handle:
            assert [r["path"] for r in csv.DictReader(handle)] == ["good.png", "photos/ok/a.png"]
    finally:
        for path in (folder / "locked", folder / "photos/secret", folder / "v.mp4"):
            path.chmod(0o700)
        shutil.rmtree(folder)


@pytest.mark.parametrize("command", ["export-onnx", "analyze", "bench", "merge"])
def test_a_read_only_disk_is_one_line(command: str, scratch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mount = scratch / "ro"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here ({done.stderr.decode().strip()})")
    try:
        argv = {
            "export-onnx": ["export-onnx", "--model", "m.pt", "--out", "ro/m.onnx"],
            "analyze": ["analyze", "photo.jpg", "--csv", "ro/out.csv"],
            "bench": ["bench", "--source", "photo.jpg", "--json", "ro/bench.json"],
            "merge": ["merge", "csv", "shards/p0.csv", "shards/p1.csv", "shards/p2.csv", "--out", "ro/all.csv"],
        }[command]
        code = main(argv)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "cannot write in ro (Read-only file system)" in lines[0], lines


def test_zero_epochs_are_refused_wherever_a_config_is_made() -> None:
    from attricam.training.config import TrainConfig

    for epochs in (0, -1):
        with pytest.raises(ValueError, match="epochs must be >= 1"):
            TrainConfig(data=("root",), out="run", epochs=epochs)


def test_resuming_a_run_killed_while_finishing_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """All epochs in the checkpoint, no bundle yet: the log said "epoch 2/1"."""
    import logging

    from attricam.training.trainer import main as train_main

    from .test_training_trainer import _config, _faces

    cfg = _config(tmp_path / "run", epochs=1)
    faces = (_faces(32, 0), _faces(16, 1))
    train_main(cfg, faces=faces)
    (tmp_path / "run" / "model.pt").unlink()  # as if killed before the bundle was written
    with caplog.at_level(logging.INFO, logger="attricam.training.trainer"):
        result = train_main(cfg, faces=faces, resume=True)
    assert "all epochs (1/1) are done; finishing the run" in caplog.text and "epoch 2/1" not in caplog.text
    assert result["finished"] and (tmp_path / "run" / "model.pt").is_file()


if sys.platform != "linux":  # FIFOs, /dev/null and flock are what these cases are about
    pytestmark = pytest.mark.skip(reason="Linux-only edge cases")
