"""``attricam analyze`` end to end through the console script: awkward real photos, bad files, a clip.

One run over a mixed folder (module fixture) feeds most tests, so the suite
pays for model loading once. The bundle is random-init (meaningless
probabilities) but carries distinct per-attribute thresholds, so the test of
the ``y_`` columns against the thresholds means something.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from attricam.engine.analyze_output import CSV_COLUMNS
from attricam.engine.attributes import ATTRIBUTE_NAMES

from .fixtures.demo_clip import make_demo_clip

pytestmark = pytest.mark.slow

EXPECTED_HEADER = (
    ["path", "face", "x", "y", "w", "h", "score"]
    + [f"p_{n}" for n in ATTRIBUTE_NAMES]
    + [f"y_{n}" for n in ATTRIBUTE_NAMES]
)
THRESHOLDS = np.linspace(0.2, 0.8, len(ATTRIBUTE_NAMES)).round(3)
GOOD = [
    "photos/clean.jpg",
    "photos/gray.jpg",
    "photos/rgba.png",
    "photos/cmyk.jpg",
    "photos/deep16.png",
    "photos/phone_rotated.jpg",
    "photos/face.webp",
    "photos/nested/face.bmp",
]
BAD = ["photos/empty.jpg", "photos/text.jpg", "photos/truncated.jpg", "photos/random.png", "photos/broken.mp4"]
NO_FACE = "photos/wall.png"
CLIP = "photos/clip.mp4"


def attricam_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m attricam``."""
    script = Path(sys.executable).with_name("attricam")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "attricam"]


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    cwd: Path


def checkout_env() -> dict[str, str]:
    """The environment with this checkout first on the path, so the console script runs the code under test."""
    root = str(Path(__file__).resolve().parent.parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}


def run_cli(args: list[str], cwd: Path, timeout: float = 300) -> Run:
    done = subprocess.run(
        [*attricam_command(), "analyze", *args],
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=checkout_env(),
    )
    return Run(done.returncode, done.stdout, done.stderr, cwd)


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory) -> Path:
    from attricam.engine.bundle import random_bundle

    bundle = random_bundle(seed=0)
    bundle.thresholds = THRESHOLDS.tolist()
    bundle.metadata["name"] = "random-init"
    return bundle.save(tmp_path_factory.mktemp("model") / "random.pt")


def _make_inputs(root: Path, face_path: Path, celeba_root: Path) -> None:
    photos = root / "photos"
    (photos / "nested").mkdir(parents=True)
    with Image.open(face_path) as image:
        face = np.asarray(image.convert("RGB"))
    pil = Image.fromarray(face)
    shutil.copy(face_path, photos / "clean.jpg")
    pil.convert("L").save(photos / "gray.jpg")
    rgba = np.dstack([face, np.full(face.shape[:2], 255, np.uint8)])
    rgba[:30, :, 3] = 0
    Image.fromarray(rgba, "RGBA").save(photos / "rgba.png")
    pil.convert("CMYK").save(photos / "cmyk.jpg")
    cv2.imwrite(str(photos / "deep16.png"), (face.astype(np.uint16) * 257)[..., ::-1])
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, shown upright
    Image.fromarray(np.ascontiguousarray(np.rot90(face, 1))).save(photos / "phone_rotated.jpg", exif=exif.tobytes())
    pil.save(photos / "face.webp", quality=90)
    pil.save(photos / "nested" / "face.bmp")
    wall = np.linspace(60, 200, 320, dtype=np.uint8)[None, :, None].repeat(240, 0).repeat(3, 2)
    Image.fromarray(wall).save(photos / NO_FACE.split("/")[-1])

    good = face_path.read_bytes()
    (photos / "empty.jpg").write_bytes(b"")
    (photos / "text.jpg").write_text("definitely not a JPEG\n")
    (photos / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (photos / "random.png").write_bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    (photos / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 but then nothing")
    make_demo_clip(root / CLIP, celeba_root, frames=10, faces=2)


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory, celeba_face_paths: list[Path], celeba_root: Path, bundle_path: Path) -> Run:
    root = tmp_path_factory.mktemp("analyze")
    _make_inputs(root, celeba_face_paths[0], celeba_root)
    args = ["photos", "--csv", "out/faces.csv", "--json", "out/faces.json", "--annotate", "annotated"]
    args += ["--model", str(bundle_path), "--device", "cpu", "--backend", "torch", "--every", "5"]
    return run_cli(args, cwd=root)


@pytest.fixture(scope="module")
def rows(mixed_run: Run) -> list[dict[str, str]]:
    with open(mixed_run.cwd / "out" / "faces.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_run_succeeds_without_traceback(mixed_run: Run) -> None:
    assert mixed_run.returncode == 0, mixed_run.stderr
    assert "Traceback" not in mixed_run.stderr


def test_csv_header_is_the_contract(mixed_run: Run) -> None:
    with open(mixed_run.cwd / "out" / "faces.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == EXPECTED_HEADER == list(CSV_COLUMNS)


def test_every_good_awkward_file_has_its_face(rows: list[dict[str, str]]) -> None:
    by_path = {r["path"]: r for r in rows}
    for name in GOOD:
        assert name in by_path, f"{name} missing from the CSV"
        row = by_path[name]
        assert row["face"] != "-1" and float(row["score"]) > 0.9, (name, row["face"], row["score"])
        assert float(row["w"]) > 40 and float(row["h"]) > 40
    rotated = by_path["photos/phone_rotated.jpg"]
    assert float(rotated["h"]) > float(rotated["w"]), "the EXIF-rotated photo must be analysed upright"


def test_image_without_a_face_has_one_empty_row(rows: list[dict[str, str]]) -> None:
    wall = [r for r in rows if r["path"] == NO_FACE]
    assert len(wall) == 1 and wall[0]["face"] == "-1"
    assert all(wall[0][c] == "" for c in EXPECTED_HEADER[2:])


def test_video_rows_carry_the_frame_index_in_path(rows: list[dict[str, str]]) -> None:
    clip_rows = [r for r in rows if r["path"].startswith(CLIP)]
    assert sorted({r["path"] for r in clip_rows}) == [f"{CLIP}#frame=0", f"{CLIP}#frame=5"]
    for frame in (0, 5):
        faces = [r for r in clip_rows if r["path"] == f"{CLIP}#frame={frame}"]
        assert sorted(r["face"] for r in faces) == ["0", "1"]
        assert all(float(r["score"]) > 0.9 for r in faces)


def test_bad_files_are_named_once_on_stderr(mixed_run: Run, rows: list[dict[str, str]]) -> None:
    lines = mixed_run.stderr.splitlines()
    for name in BAD:
        naming = [line for line in lines if name in line]
        assert len(naming) == 1, (name, naming)
        assert len(naming[0].split(f"{name}: ", 1)[1]) > 3, "the line must give a reason"
        assert not any(r["path"].startswith(name) for r in rows)


def test_untrained_model_warning(mixed_run: Run) -> None:
    assert "WARNING: model random.pt is UNTRAINED (random weights): probabilities are meaningless" in mixed_run.stderr


def test_decisions_are_binary_and_follow_the_thresholds(rows: list[dict[str, str]]) -> None:
    faces = [r for r in rows if r["face"] != "-1"]
    assert faces
    checked = 0
    for row in faces:
        for name, threshold in zip(ATTRIBUTE_NAMES, THRESHOLDS):
            probability, decision = float(row[f"p_{name}"]), row[f"y_{name}"]
            assert 0.0 <= probability <= 1.0 and decision in ("0", "1")
            if abs(probability - threshold) > 1e-5:  # the CSV rounds p to 5 decimals
                assert decision == ("1" if probability >= threshold else "0"), (row["path"], name)
                checked += 1
    assert checked > 0.9 * 40 * len(faces)


def test_json_has_one_entry_per_file(mixed_run: Run, rows: list[dict[str, str]]) -> None:
    report = json.loads((mixed_run.cwd / "out" / "faces.json").read_text())
    assert report["model_trained"] is False
    assert list(report["thresholds"]) == list(ATTRIBUTE_NAMES)
    entries = {e["path"]: e for e in report["files"]}
    assert set(entries) == set(GOOD) | set(BAD) | {NO_FACE, CLIP}
    assert all("error" in entries[name] for name in BAD)
    assert entries["photos/clean.jpg"]["result"]["faces"][0]["score"] > 0.9
    assert [f["frame_index"] for f in entries[CLIP]["frames"]] == [0, 5]


def test_annotate_writes_images_and_the_clip(mixed_run: Run) -> None:
    out = mixed_run.cwd / "annotated" / "photos"
    for name in [*GOOD, NO_FACE]:
        relative = Path(name).relative_to("photos")
        written = out / relative if relative.suffix in (".jpg", ".png", ".bmp") else out / f"{relative}.png"
        image = cv2.imread(str(written))
        assert image is not None and image.ndim == 3, written
    capture = cv2.VideoCapture(str(out / "clip.mp4"))
    assert capture.isOpened() and int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 2
    capture.release()
    leftovers = [p for p in mixed_run.cwd.rglob("*") if ".tmp" in p.name]
    assert not leftovers, "atomic writes must leave no temporary files"


def test_nothing_readable_exits_non_zero(tmp_path: Path, bundle_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "empty.jpg").write_bytes(b"")
    (tmp_path / "bad" / "notes.png").write_text("hello")
    run = run_cli(["bad", "missing.jpg", "--csv", "out.csv", "--model", str(bundle_path), "--device", "cpu"], tmp_path)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    for name in ("bad/empty.jpg", "bad/notes.png", "missing.jpg"):
        assert sum(name in line for line in run.stderr.splitlines()) == 1, name


def test_bad_model_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "not_a_model.pt").write_text("nope")
    run = run_cli(["x.jpg", "--csv", "out.csv", "--model", "not_a_model.pt"], tmp_path, timeout=120)
    assert run.returncode == 2 and "not_a_model.pt" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out.csv").exists()


def test_csv_rows_scale_boxes_back_to_the_file() -> None:
    """A downscaled photo's boxes are reported in the file's own pixels."""
    from attricam.engine.analyze_output import csv_rows
    from attricam.engine.results import FaceResult, FrameResult

    n = len(ATTRIBUTE_NAMES)
    face = FaceResult(
        face_id=0,
        box=np.array([10, 20, 110, 150], np.float32),
        score=0.99,
        landmarks=np.zeros((5, 2), np.float32),
        probabilities=np.full(n, 0.7, np.float32),
        raw_probabilities=np.full(n, 0.7, np.float32),
        decisions=np.ones(n, bool),
        thresholds=np.full(n, 0.5, np.float32),
        attention=np.zeros((1, 1, n, 2, 2), np.float32),
        aligned=np.zeros((8, 8, 3), np.uint8),
        align_matrix=np.eye(2, 3, dtype=np.float32),
    )
    (row,) = csv_rows("big.jpg", FrameResult(0, (400, 300), (face,)), scale=(3.0, 2.0))
    assert row[:7] == ["big.jpg", "0", "30.0", "40.0", "300.0", "260.0", "0.9900"]
    assert len(row) == len(EXPECTED_HEADER)


def test_torch_and_onnx_backends_agree(tmp_path: Path, celeba_face_paths: list[Path], random_bundle_path: Path) -> None:
    shutil.copy(celeba_face_paths[1], tmp_path / "face.jpg")
    probabilities = {}
    for backend in ("torch", "onnx"):
        args = ["face.jpg", "--csv", f"{backend}.csv", "--model", str(random_bundle_path), "--device", "cpu"]
        run = run_cli([*args, "--backend", backend], tmp_path)
        assert run.returncode == 0, run.stderr
        with open(tmp_path / f"{backend}.csv", newline="") as handle:
            (row,) = list(csv.DictReader(handle))
        assert row["face"] == "0" and float(row["score"]) > 0.9
        probabilities[backend] = np.array([float(row[f"p_{n}"]) for n in ATTRIBUTE_NAMES])
    np.testing.assert_allclose(probabilities["onnx"], probabilities["torch"], atol=2e-3)


def test_version_is_the_package_version() -> None:
    """``attricam --version`` prints ``attricam.__version__``, the version pyproject.toml builds with."""
    from importlib.metadata import version

    import attricam

    done = subprocess.run([sys.executable, "-m", "attricam", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["attricam", attricam.__version__]
    assert version("attricam") == attricam.__version__
