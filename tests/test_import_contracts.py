"""The house's load-bearing walls, as import-linter contracts in pyproject.toml (``[tool.importlinter]``):
attricam.cli -> desktop -> training -> engine (all under ``attricam``), desktop takes only
``attricam.training.events``/``attricam.training.config``, and Qt only in desktop."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

_PACKAGES = ("attricam", "desktop", "training", "engine")


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` of the venv this test runs in, on the packages under ``root``."""
    script = Path(sys.executable).with_name("lint-imports")
    assert script.is_file(), "import-linter is not installed: pip install -e '.[test]'"
    env = {**os.environ, "PYTHONPATH": str(root)}  # the packages of ``root``, not an installed copy
    return subprocess.run(
        [str(script), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _copy_packages(dest: Path) -> None:
    for package in _PACKAGES:
        shutil.copytree(
            REPO_ROOT / package,
            dest / package,
            symlinks=True,  # attricam/engine stays a link to engine/, as in the checkout
            ignore=shutil.ignore_patterns("__pycache__", "*.pt", "*.onnx"),
        )
    shutil.copy(REPO_ROOT / "pyproject.toml", dest / "pyproject.toml")


def test_the_import_contracts_hold():
    done = _lint_imports(REPO_ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and done.stdout.count("KEPT") == 3


def test_a_planted_violation_breaks_its_contract(tmp_path):
    _copy_packages(tmp_path)
    (tmp_path / "engine" / "planted.py").write_text("import PySide6.QtCore\n")
    (tmp_path / "desktop" / "planted.py").write_text("from attricam.training.trainer import main\n")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    assert "engine.planted -> PySide6" in done.stdout, done.stdout[-3000:]
    assert "desktop.planted -> attricam.training.trainer" in done.stdout, done.stdout[-3000:]
