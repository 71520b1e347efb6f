"""A wheel install must carry the shipped model, not fall back to random weights, and install one name only;
the sdist builds the same wheel. The checkout holds no links: ``package-dir`` maps engine/ to attricam.engine."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO_ROOT

pytestmark = pytest.mark.slow

_SOURCES = ("attricam", "engine", "training", "desktop", "assets", "pyproject.toml", "README.md")


def _copy_sources(dest: Path) -> Path:
    """The files a build reads, copied, so it leaves no build/ or egg-info in the checkout."""
    for name in _SOURCES:
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dest.mkdir(exist_ok=True)
            shutil.copy2(REPO_ROOT / name, dest / name)
    return dest


def _build_wheel(source: Path, dist: Path) -> Path:
    """``pip wheel`` of the project at ``source`` (no dependencies, no isolated build env) -> the wheel's path."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    return next(dist.glob("attricam-*.whl"))


def test_built_wheel_ships_the_model_and_loads_it(tmp_path: Path) -> None:
    if not (REPO_ROOT / "assets" / "attricam-default.pt").is_file():
        pytest.skip("this checkout has no shipped model to package")
    source = _copy_sources(tmp_path / "src")
    wheel = _build_wheel(source, tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {"attricam/assets/attricam-default.pt", "attricam/assets/attricam-default.onnx"} <= names
        assert {f"attricam/assets/mtcnn/{net}.pt" for net in ("pnet", "rnet", "onet")} <= names
        assert "attricam/assets/mtcnn/LICENSE.md" in names
        assert all(archive.getinfo(n).file_size < 20_000_000 for n in names)
        # one top-level name in site-packages: no `engine`, `training` or `desktop` to collide with others'
        assert {n.split("/")[0].split("-")[0] for n in names} == {"attricam"}, sorted(names)[:20]
        assert {"attricam/engine/render.py", "attricam/training/trainer.py", "attricam/desktop/app.py"} <= names
        archive.extractall(tmp_path / "site")
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "from attricam.engine.bundle import load_default_bundle; "
            "b = load_default_bundle(allow_random=False); print(b.path, b.trained)",
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.split() == [str(tmp_path / "site" / "attricam" / "assets" / "attricam-default.pt"), "True"]


def test_sdist_holds_the_top_level_folders_and_builds_the_wheel(tmp_path: Path) -> None:
    """A source release (like a ZIP download or a checkout without links) builds the same ``attricam.*`` wheel."""
    source = _copy_sources(tmp_path / "src")
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))",
            str(tmp_path / "sdist"),
        ],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    archive_path = tmp_path / "sdist" / build.stdout.split()[-1]
    with tarfile.open(archive_path) as archive:
        members = archive.getmembers()
        archive.extractall(tmp_path / "unpacked", filter="data")
    assert not [m.name for m in members if m.issym() or m.islnk()]
    names = {m.name.split("/", 1)[1] for m in members if "/" in m.name}
    assert {"engine/render.py", "training/trainer.py", "desktop/app.py", "attricam/cli.py", "pyproject.toml"} <= names
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    with zipfile.ZipFile(_build_wheel(unpacked, tmp_path / "dist")) as archive:
        built = set(archive.namelist())
    assert {"attricam/engine/render.py", "attricam/training/trainer.py", "attricam/desktop/app.py"} <= built
    assert {n.split("/")[0].split("-")[0] for n in built} == {"attricam"}
