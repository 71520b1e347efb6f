"""The installed package's layout, read from ``[tool.setuptools.package-dir]`` in pyproject.toml.

The checkout keeps ``engine/``, ``training/`` and ``desktop/`` at its top level; setuptools maps them to
``attricam.engine``, ``attricam.training`` and ``attricam.desktop`` in the wheel, the sdist's build and an
editable install alike (no symlinks). Tools that read imports from the file system instead of importing
(mypy, import-linter's grimp) do not know that mapping, so the two entry points beside this module give
it to them: ``python -m tools.typecheck`` (mypy, each file named by its installed module) and
``python -m tools.lint_imports`` (import-linter, on a copy of the sources laid out as installed).
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

__all__ = ["REPO_ROOT", "package_dirs", "python_files", "stage_sources"]

REPO_ROOT = Path(__file__).resolve().parent.parent


def package_dirs(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Package name -> its folder in the checkout, for the packages holding Python code (not ``attricam.assets``)."""
    setuptools = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    mapping = setuptools.get("package-dir", {})
    dirs = {name: root / mapping.get(name, name.replace(".", "/")) for name in setuptools["packages"]}
    return {name: path for name, path in dirs.items() if (path / "__init__.py").is_file()}


def python_files(root: Path = REPO_ROOT) -> Iterator[tuple[Path, str]]:
    """Every ``.py`` file of the installed packages, with its installed module name (``attricam.engine.mtcnn``)."""
    for package, folder in sorted(package_dirs(root).items()):
        for path in sorted(folder.glob("*.py")):
            yield path, package if path.stem == "__init__" else f"{package}.{path.stem}"


def stage_sources(dest: Path, root: Path = REPO_ROOT) -> Path:
    """Copy the packages' ``.py`` files into ``dest`` laid out as installed (``dest/attricam/engine/...``)."""
    for path, module in python_files(root):
        target = dest.joinpath(*module.split("."))
        target = target / "__init__.py" if path.stem == "__init__" else target.with_suffix(".py")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return dest
