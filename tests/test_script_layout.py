"""The folders of scripts keep to their jobs: benchmarks/ measures speed, experiments/ studies the model, tools/ serves
development, tests/fixtures/ makes the media tests (and benchmarks) use. None edits ``sys.path`` (all run with ``-m``
from the checkout), no test imports a benchmark, and no script reaches into another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

_SCRIPT_FOLDERS = ("benchmarks", "experiments", "tools", "tests/fixtures")
_SCRIPT_MODULES = ("benchmarks", "experiments", "tools", "tests.fixtures")


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO_ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every ``import`` and ``from ... import`` in the file, lazy ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


def test_scripts_do_not_edit_sys_path():
    offenders = [p for p in _python_files(*_SCRIPT_FOLDERS) if "sys.path.insert" in p.read_text(encoding="utf-8")]
    assert not offenders, [str(p.relative_to(REPO_ROOT)) for p in offenders]


def test_no_test_imports_a_benchmark():
    offenders = [
        (str(p.relative_to(REPO_ROOT)), module)
        for p in _python_files("tests")
        for module, _ in _imports(p)
        if module.split(".")[0] == "benchmarks"
    ]
    assert not offenders


def test_scripts_import_no_private_name_of_another_script():
    offenders = [
        (str(p.relative_to(REPO_ROOT)), module, name)
        for p in _python_files(*_SCRIPT_FOLDERS, "tests")
        for module, names in _imports(p)
        if module.startswith(_SCRIPT_MODULES)
        for name in names
        if name.startswith("_")
    ]
    assert not offenders
