"""``lint-imports`` on the packages as installed: ``python -m tools.lint_imports [lint-imports options]``.

import-linter's grimp finds ``attricam`` on ``sys.path`` and walks its folder, which in the checkout holds
only the console script: ``attricam.engine`` and the rest are mapped there by setuptools'
``package-dir``. So the sources are copied into a temporary folder laid out as in the wheel, and
``lint-imports`` runs there with the contracts of this checkout's ``pyproject.toml``. Its report names
modules, not files, so it reads the same as a run on an installed copy.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .package_layout import REPO_ROOT, stage_sources

__all__ = ["lint_imports", "main"]

_LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"
"""The ``lint-imports`` console script, run by this interpreter (wherever its scripts folder is)."""


def lint_imports(sources: Path, args: list[str], root: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` over the packages staged in ``sources`` with ``root``'s contracts."""
    if importlib.util.find_spec("importlinter") is None:
        raise SystemExit("import-linter is not installed: pip install -e '.[test]'")
    env = {**os.environ, "PYTHONPATH": str(sources)}  # the staged copy, never an installed one
    command = [sys.executable, "-c", _LINT_IMPORTS, "--no-cache", *args, str(root / "pyproject.toml")]
    return subprocess.run(command, cwd=sources, env=env, capture_output=True, text=True, timeout=600, check=False)


def main(argv: list[str] | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="attricam-imports-") as tmp:
        done = lint_imports(stage_sources(Path(tmp)), sys.argv[1:] if argv is None else argv)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
