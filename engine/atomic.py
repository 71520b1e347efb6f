"""Atomic file writes: a crash leaves either the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "temp_prefix"]

_LONGEST_STEM = 100
"""Longer stems are cut (plus a hash) in temporary names: ``.<stem>.XXXXXXXX.tmp<suffix>`` must fit 255 bytes."""


def temp_prefix(target: Path) -> str:
    """``.<stem>.`` of ``target``'s temporaries; a long stem is shortened and tagged with a hash of the whole."""
    stem = target.stem
    if len(stem.encode("utf-8", "surrogateescape")) > _LONGEST_STEM:
        digest = hashlib.sha1(stem.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        stem = f"{stem[: _LONGEST_STEM // 4]}~{digest}"  # a quarter: up to 4 bytes per character
    return f".{stem}."


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it over ``target``.

    The temporary file keeps the target's suffix so writers that look at the
    extension (OpenCV, Pillow, torch.onnx) still choose the right format.
    On any exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the result normal permissions
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def _atomic_open(target: str | os.PathLike[str], mode: str) -> Iterator[IO[Any]]:
    with atomic_path(target) as tmp, open(tmp, mode) as handle:
        yield handle


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    with _atomic_open(target, "wb") as handle:
        handle.write(data)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    with _atomic_open(target, "w") as handle:
        handle.write(text)
