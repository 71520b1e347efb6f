"""Check output paths before any work, and clear temporary files a killed run left behind.

A batch that analyses a thousand files and then cannot write its CSV (a
directory of that name, a read-only disk, a path under a regular file) has
thrown away all of its work. So every output is checked first, by writing a
probe file where the output will go, and a problem is one line naming the option.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

from .atomic import temp_prefix
from .image_io import display_name

__all__ = ["OutputPathError", "check_output_file", "check_output_folder", "remove_stale_temps"]

STALE_AFTER_S = 60.0
"""A temporary file untouched this long belongs to a run that died (live writers touch theirs constantly)."""


class OutputPathError(ValueError):
    """An output cannot be written where it was asked for; the message names the option and the path."""


def check_output_file(path: Path, option: str) -> None:
    """Raise :class:`OutputPathError` unless a file can be created (or replaced) at ``path``."""
    shown = f"{option} {display_name(path)}"
    if path.is_dir():
        example = display_name(path / f"results{path.suffix or '.csv'}")
        raise OutputPathError(f"{shown} is a directory; name a file inside it, e.g. {example}")
    _check_writable_folder(path.parent, shown)


def check_output_folder(path: Path, option: str) -> None:
    """Raise :class:`OutputPathError` unless ``path`` is (or can become) a writable folder."""
    shown = f"{option} {display_name(path)}"
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{shown} is a file, not a folder")
    _check_writable_folder(path, shown)


def _check_writable_folder(folder: Path, shown: str) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputPathError(
            f"{shown}: {display_name(existing)} is a regular file, so nothing can be created under it"
        )
    try:  # a real write answers for permissions, read-only mounts and ACLs alike (os.access ignores some)
        fd, probe = tempfile.mkstemp(prefix=".attricam-write-test.", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputPathError(f"{shown}: cannot write in {display_name(existing)} ({exc.strerror or exc})") from None


def remove_stale_temps(target: Path, *, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete the hidden temporaries of ``target`` (``.<stem>.<random>.tmp<suffix>``, see :mod:`attricam.engine.atomic`) left by a killed run.

    Only the exact pattern of ``target`` matches (not ``a.b.csv``'s when clearing ``a.csv``'s), and only
    files untouched for ``older_than_s`` go, so an unlocked concurrent writer's file is spared; a caller
    holding :func:`attricam.engine.output_guard.output_lock` on ``target`` passes 0. Returns what was removed.
    """
    if not target.parent.is_dir():
        return []
    removed = []
    now = time.time()
    pattern = re.compile(re.escape(temp_prefix(target)) + r"[a-z0-9_]+" + re.escape(f".tmp{target.suffix}"))
    for candidate in target.parent.iterdir():  # not glob: a stem may hold [ or *
        if not pattern.fullmatch(candidate.name):
            continue
        with contextlib.suppress(OSError):
            if candidate.is_file() and now - candidate.stat().st_mtime >= older_than_s:
                candidate.unlink()
                removed.append(candidate)
    return removed
