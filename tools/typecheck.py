"""mypy with each file named by its installed module: ``python -m tools.typecheck [mypy options]``.

mypy names a file by the folders above it (``engine/mtcnn.py`` would be ``engine.mtcnn``) and cannot
follow setuptools' ``package-dir`` mapping, so ``from attricam.engine.x import y`` would not resolve and
the per-module options in pyproject.toml (written for ``attricam.engine.*``) would not apply. This runs
mypy's own command line with one change: every source it collects from ``[tool.mypy] files`` (or the
command line) gets its installed name (``attricam.engine.mtcnn``). Reports keep the checkout's paths.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from mypy import util
from mypy.fscache import FileSystemCache
from mypy.main import process_options, run_build
from mypy.modulefinder import BuildSource

from .package_layout import python_files

__all__ = ["installed_names", "main"]


def installed_names(sources: list[BuildSource]) -> list[BuildSource]:
    """The sources mypy collected, each file of a mapped package renamed to its installed module."""
    names = {path.resolve(): module for path, module in python_files()}
    renamed = []
    for source in sources:
        module = names.get(Path(source.path).resolve()) if source.path else None
        renamed.append(source if module is None else BuildSource(source.path, module, source.text, base_dir=None))
    return renamed


def main(argv: list[str] | None = None) -> int:
    """mypy's ``main`` (options, build, report, exit status), with :func:`installed_names` between options and build.

    mypy is compiled (mypyc), so its ``process_options`` cannot be patched from here; the steps are called
    in turn instead, as ``mypy.main.main`` calls them.
    """
    t0 = time.time()
    fscache = FileSystemCache()
    sources, options = process_options(sys.argv[1:] if argv is None else argv, fscache=fscache)
    sources = installed_names(sources)
    options.fast_exit = False
    _, messages, blockers = run_build(sources, options, fscache, t0, sys.stdout, sys.stderr)
    n_errors, n_notes, n_files = util.count_stats(messages)
    formatter = util.FancyFormatter(sys.stdout, sys.stderr, options.hide_error_codes)
    if n_errors:
        print(
            formatter.format_error(n_errors, n_files, len(sources), blockers=blockers, use_color=options.color_output)
        )
    else:
        print(formatter.format_success(len(sources), options.color_output))
    return (2 if blockers else 1) if messages and n_notes < len(messages) else 0


if __name__ == "__main__":
    sys.exit(main())
