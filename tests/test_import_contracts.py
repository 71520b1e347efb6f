"""The house's load-bearing walls, as import-linter contracts in pyproject.toml (``[tool.importlinter]``):
attricam.cli -> desktop -> training -> engine (all under ``attricam``), desktop takes only
``attricam.training.events``/``attricam.training.config``, Qt only in desktop, and no bare ``engine``,
``training`` or ``desktop`` import, and no import cycle inside a package. They run on the sources laid out as installed
(``tools.lint_imports``): the checkout maps its top-level folders with ``package-dir``, not links."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT
from tools.lint_imports import lint_imports
from tools.package_layout import stage_sources


def test_the_import_contracts_hold():
    done = subprocess.run(
        [sys.executable, "-m", "tools.lint_imports"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and done.stdout.count("KEPT") == 5


def test_a_planted_violation_breaks_its_contract(tmp_path):
    sources = stage_sources(tmp_path)
    (sources / "attricam" / "engine" / "planted.py").write_text("import PySide6.QtCore\n")
    (sources / "attricam" / "desktop" / "planted.py").write_text("from attricam.training.trainer import main\n")
    (sources / "attricam" / "training" / "planted.py").write_text("from engine.attributes import ATTRIBUTES\n")
    (sources / "attricam" / "engine" / "planted_a.py").write_text("def f():\n    from . import planted_b\n")
    (sources / "attricam" / "engine" / "planted_b.py").write_text("from .planted_a import f\n")
    done = lint_imports(sources, [])
    assert done.returncode != 0
    assert "engine.planted -> PySide6" in done.stdout, done.stdout[-3000:]
    assert "desktop.planted -> attricam.training.trainer" in done.stdout, done.stdout[-3000:]
    assert "attricam.training.planted -> engine" in done.stdout, done.stdout[-3000:]
    assert "No cycles are allowed in attricam.engine" in done.stdout, done.stdout[-3000:]
    assert ".planted_a -> .planted_b" in done.stdout or ".planted_b -> .planted_a" in done.stdout, done.stdout[-3000:]


def test_the_staged_layout_is_the_installed_one(tmp_path):
    staged = {p.relative_to(tmp_path).as_posix() for p in stage_sources(tmp_path).rglob("*.py")}
    assert {"attricam/cli.py", "attricam/engine/mtcnn.py", "attricam/training/trainer.py"} <= staged
    assert {"attricam/desktop/app.py", "attricam/engine/__init__.py"} <= staged
    assert not any(name.startswith(("engine/", "training/", "desktop/")) for name in staged)
