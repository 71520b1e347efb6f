"""``attricam analyze`` against hostile inputs and faults: one clear line, the right exit code, nothing lost."""

from __future__ import annotations

import csv
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .test_analyze_cli import attricam_command, checkout_env, run_cli
from .test_sources_hostile import write_mjpg_avi

pytestmark = pytest.mark.slow


def _blank_images(folder: Path, count: int, *, name_length: int = 120) -> list[Path]:
    """Small grey PNGs (no face: one short row each) with long names, so a few KB of CSV hold few rows."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{i:03d}_{'x' * name_length}.png"
        Image.fromarray(np.full((48, 64, 3), 128, np.uint8)).save(path)
        paths.append(path)
    return paths


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _hidden_temps(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if ".tmp" in p.name]


@pytest.fixture
def tmpfs(tmp_path: Path):
    """A 12 KiB tmpfs (root only): a real full disk."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("case", ["csv-is-dir", "csv-under-file", "json-under-file", "annotate-is-file", "same-file"])
def test_bad_output_paths_fail_before_the_first_file(case: str, tmp_path: Path, random_bundle_path: Path) -> None:
    image = _blank_images(tmp_path / "in", 1)[0]
    (tmp_path / "taken").mkdir()
    (tmp_path / "plain.txt").write_text("a regular file")
    args = {
        "csv-is-dir": ["--csv", "taken"],
        "csv-under-file": ["--csv", "plain.txt/out.csv"],
        "json-under-file": ["--csv", "out.csv", "--json", "plain.txt/sub/out.json"],
        "annotate-is-file": ["--csv", "out.csv", "--annotate", "plain.txt"],
        "same-file": ["--csv", "out.csv", "--json", "out.csv"],
    }[case]
    expected = {
        "csv-is-dir": "--csv taken is a directory; name a file inside it, e.g. taken/results.csv",
        "csv-under-file": "--csv plain.txt/out.csv: plain.txt is a regular file, so nothing can be created under it",
        "json-under-file": "--json plain.txt/sub/out.json: plain.txt is a regular file",
        "annotate-is-file": "--annotate plain.txt is a file, not a folder",
        "same-file": "--json out.csv is the same file as --csv",
    }[case]
    run = run_cli([str(image), *args, "--model", str(random_bundle_path)], tmp_path, timeout=120)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines() == [
        f"attricam analyze: error: {expected}" + run.stderr.split(expected, 1)[1].strip()
    ]
    assert "Traceback" not in run.stderr and not (tmp_path / "out.csv").exists()
    assert (tmp_path / "plain.txt").read_text() == "a regular file" and not _hidden_temps(tmp_path)


def test_read_only_output_folder_is_one_line(tmp_path: Path, tmpfs: Path, random_bundle_path: Path) -> None:
    image = _blank_images(tmp_path / "in", 1)[0]
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    run = run_cli(
        [str(image), "--csv", str(tmpfs / "out.csv"), "--model", str(random_bundle_path)], tmp_path, timeout=120
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"--csv {tmpfs / 'out.csv'}: cannot write in {tmpfs} (Read-only file system)" in run.stderr


def test_full_disk_stops_cleanly_and_keeps_whole_files(tmp_path: Path, tmpfs: Path, random_bundle_path: Path) -> None:
    images = _blank_images(tmp_path / "in", 60)
    out = tmpfs / "out.csv"
    run = run_cli([str(tmp_path / "in"), "--csv", str(out), "--model", str(random_bundle_path)], tmp_path)
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr
    rows = _csv_rows(out)
    assert 5 < len(rows) < 60
    assert [r["path"] for r in rows] == [str(p) for p in images[: len(rows)]]
    assert all(r["face"] == "-1" for r in rows)
    assert (
        f"attricam analyze: error: cannot write {out} (No space left on device): stopped after {len(rows)} file(s); "
        f"the outputs keep their {len(rows)} CSV row(s)"
    ) in run.stderr
    assert not _hidden_temps(tmpfs)


def test_sigterm_keeps_finished_files_and_leaves_no_temporaries(tmp_path: Path, random_bundle_path: Path) -> None:
    _blank_images(tmp_path / "in", 40, name_length=8)
    out = tmp_path / "out"
    args = [
        *attricam_command(),
        "-v",
        "analyze",
        str(tmp_path / "in"),
        "--csv",
        str(out / "r.csv"),
        "--json",
        str(out / "r.json"),
        "--model",
        str(random_bundle_path),
    ]
    process = subprocess.Popen(args, cwd=tmp_path, stderr=subprocess.PIPE, text=True, env=checkout_env())
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "[3/40]" in line:
            process.send_signal(signal.SIGTERM)
            break
    rest = process.communicate(timeout=120)[1]
    stderr = "".join(seen) + rest
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted at" in stderr, stderr
    rows = _csv_rows(out / "r.csv")
    assert 3 <= len(rows) < 40
    import json

    assert len(json.loads((out / "r.json").read_text())["files"]) == len(rows)
    assert not _hidden_temps(out)


def test_links_odd_names_animations_and_truncated_clips(
    tmp_path: Path, celeba_face_paths: list[Path], random_bundle_path: Path
) -> None:
    good = tmp_path / "good.jpg"
    good.write_bytes(celeba_face_paths[0].read_bytes())
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "dangling.jpg").symlink_to(tmp_path / "gone.jpg")
    newline = folder / "bad\nname.jpg"
    newline.write_bytes(b"not a jpeg")
    face = Image.open(good).convert("RGB")
    frames = [face, face.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    clip = write_mjpg_avi(folder / "clip.avi")
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    run = run_cli([str(good), str(loop), str(folder), "--csv", "out.csv", "--model", str(random_bundle_path)], tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    assert "Traceback" not in run.stderr and "[mjpeg" not in run.stderr
    assert f"SKIPPED {loop}: symbolic link loop (the link points back at itself)" in lines
    assert (
        f"SKIPPED {folder / 'dangling.jpg'}: dangling symbolic link (its target {tmp_path / 'gone.jpg'} does not exist)"
        in lines
    )
    assert [line for line in lines if "name.jpg" in line] == [
        f"SKIPPED {str(newline)!r}: not an image (unrecognised or unsupported format)"
    ]
    assert f"NOTE {folder / 'anim.gif'}: animated image with 2 frames: only the first frame is analysed" in lines
    rows = _csv_rows(tmp_path / "out.csv")
    clip_rows = [r for r in rows if r["path"].startswith(str(clip))]
    read = len({r["path"] for r in clip_rows})
    assert 0 < read < 40
    assert (
        f"NOTE {clip}: file ended early: {read} of 40 frames read (truncated or corrupt); rows cover the frames read"
        in lines
    )
    assert any(r["path"] == str(good) and r["face"] == "0" for r in rows)


def test_stale_onnx_twin_is_not_used(tmp_path: Path, random_bundle_path: Path, celeba_face_paths: list[Path]) -> None:
    from attricam.engine.bundle import random_bundle

    stale = random_bundle(seed=7).save(tmp_path / "model.pt")  # other weights ...
    stale.with_suffix(".onnx").write_bytes(random_bundle_path.with_suffix(".onnx").read_bytes())  # ... old twin
    image = tmp_path / "face.jpg"
    image.write_bytes(celeba_face_paths[0].read_bytes())
    auto = run_cli([str(image), "--csv", "auto.csv", "--model", str(stale)], tmp_path)
    torch_run = run_cli([str(image), "--csv", "torch.csv", "--model", str(stale), "--backend", "torch"], tmp_path)
    assert auto.returncode == 0 and torch_run.returncode == 0
    assert (
        "ONNX twin was exported from a different version of model.pt" in auto.stderr
        and "using the torch backend" in auto.stderr
    )
    a, t = _csv_rows(tmp_path / "auto.csv"), _csv_rows(tmp_path / "torch.csv")
    assert [r["p_Smiling"] for r in a] == [r["p_Smiling"] for r in t]
    # --backend onnx refuses the stale twin: StaleOnnxError (a BundleError, exit 2), see test_bundle_integrity


def test_nan_bundle_and_missing_shipped_model_are_refused(tmp_path: Path) -> None:
    from attricam.engine.bundle import random_bundle

    bundle = random_bundle(seed=0)
    bundle.thresholds = [math.nan] * 40
    bad = bundle.save(tmp_path / "nan.pt")
    image = _blank_images(tmp_path / "in", 1)[0]
    run = run_cli([str(image), "--csv", "out.csv", "--model", str(bad)], tmp_path, timeout=120)
    assert run.returncode == 2 and "non-finite numbers (NaN or infinity) in thresholds[0]" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "out.csv").exists()
    code = (
        "import sys, attricam.engine.assets as a; from pathlib import Path; "
        f"a.asset_folders = lambda: (Path({str(tmp_path / 'nowhere')!r}),); "
        "from attricam.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "analyze", str(image), "--csv", "out.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert done.returncode == 2, done.stderr
    assert f"the shipped model attricam-default.pt is missing (looked in {tmp_path / 'nowhere'})" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out.csv").exists()
