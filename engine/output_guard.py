"""Outputs that can never destroy an input, each other, a device, or another run's work.

``analyze photo.jpg --csv photo.jpg`` replaced the photo; ``--json`` naming the model replaced
the model; ``--csv /dev/full`` (as root) replaced the device node with a regular file; and
``--csv o/x.csv --json ./o/../o/x.csv`` lost the JSON, because paths were compared as typed.
:class:`OutputGuard` compares what paths *are*: resolved (symlinks, ``..``) and by inode
(hard links), refuses anything but a regular file or a new name, and returns the resolved
path, so an output given as a symlink replaces the link's target and keeps the link.

:func:`output_lock` then holds an advisory lock per output for the whole run: a second run
writing the same file is refused while the first is alive (its rows would otherwise vanish
when the loser renames over the winner), and the temporaries of a locked output can be
cleared without touching a live writer's.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from .image_io import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, display_name
from .output_paths import OutputPathError, check_output_file, check_output_folder

__all__ = ["OutputGuard", "output_lock"]

_MEDIA_SUFFIXES = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS


def _inode(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _resolve(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return path.absolute()


class OutputGuard:
    """Protects inputs (files, and media under input folders) and hands out each output path once."""

    def __init__(self) -> None:
        self._files: dict[Path, str] = {}
        self._inodes: dict[tuple[int, int], str] = {}
        self._folders: dict[Path, str] = {}
        self._outputs: dict[Path, str] = {}

    def protect(self, path: str | Path, what: str) -> None:
        """Never write over ``path`` (``what`` names it in the refusal: "the input photo.jpg", "--model")."""
        path = Path(path)
        resolved = _resolve(path)
        try:
            st = os.stat(path)
        except (OSError, ValueError):  # absent or unreadable: it cannot be written over through a link either
            self._files[resolved] = what
            return
        if stat.S_ISDIR(st.st_mode):
            self._folders[resolved] = what
            return
        self._files[resolved] = what
        self._inodes[(st.st_dev, st.st_ino)] = what

    def file(self, path: str | Path, option: str) -> Path:
        """The resolved path to write ``option``'s file at; :class:`OutputPathError` when it must not be written."""
        path = Path(path)
        shown = f"{option} {display_name(path)}"
        try:
            mode = os.stat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):  # a new file; check_output_file names a bad parent
            mode = None
        except OSError as exc:
            raise OutputPathError(f"{shown}: cannot be used ({exc.strerror or exc})") from None
        if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            raise OutputPathError(f"{shown} is not a regular file (a device, pipe or socket); name a regular file")
        check_output_file(path, option)
        resolved = _resolve(path)
        self._refuse_clash(resolved, _inode(path), shown)
        self._outputs[resolved] = option
        return resolved

    def folder(self, path: str | Path, option: str) -> Path:
        """The resolved folder ``option`` writes into; it must be neither an input folder nor another output."""
        path = Path(path)
        check_output_folder(path, option)
        resolved = _resolve(path)
        shown = f"{option} {display_name(path)}"
        if what := self._folders.get(resolved):
            raise OutputPathError(f"{shown} is {what}; write into another folder")
        if other := self._outputs.get(resolved):
            raise OutputPathError(f"{shown} is the same path as {other}; give each output its own path")
        self._outputs[resolved] = option
        return resolved

    def _refuse_clash(self, resolved: Path, inode: tuple[int, int] | None, shown: str) -> None:
        what = self._files.get(resolved) or (self._inodes.get(inode) if inode else None)
        if what:
            raise OutputPathError(f"{shown} is {what}; writing it would destroy it, so name another file")
        if resolved.suffix.lower() in _MEDIA_SUFFIXES:
            for folder, what in self._folders.items():
                if resolved.is_relative_to(folder):
                    raise OutputPathError(f"{shown} lies in {what} and would be read as an input; name another file")
        if other := self._outputs.get(resolved):
            raise OutputPathError(f"{shown} is the same file as {other}; give each output its own file")


def lock_path(target: Path) -> Path:
    """The lock file beside ``target``: ``.<name>.lock``, shortened with a hash when the name is long."""
    name = target.name
    if len(name) > 150:
        name = f"{name[:100]}~{hashlib.sha1(name.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"
    return target.with_name(f".{name}.lock")


@contextlib.contextmanager
def output_lock(targets: Sequence[tuple[Path, str]]) -> Iterator[None]:
    """Hold an exclusive lock on each ``(resolved path, option)`` for the block; a held one is refused at once.

    The lock is ``flock`` on a small file beside the output, released (and the file removed) when the
    block ends or the process dies, so a killed run never leaves a lock behind that blocks the next.
    """
    with contextlib.ExitStack() as stack:
        for target, option in targets:
            stack.enter_context(_locked(target, option))
        yield


@contextlib.contextmanager
def _locked(target: Path, option: str) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # no flock (Windows): the atomic rename still keeps every file whole
        yield
        return
    path = lock_path(target)
    shown = f"{option} {display_name(target)}"
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # the output's folder is made as atomic_path would
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputPathError(f"{shown}: cannot create its lock file ({exc.strerror or exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise OutputPathError(f"{shown}: cannot lock it ({exc.strerror or exc})") from None
            pid = f" (pid {holder})" if holder.isdigit() else ""
            raise OutputPathError(
                f"{shown} is being written by another attricam run{pid}; wait for it to finish or name another file"
            ) from None
        if _inode(path) == (os.fstat(fd).st_dev, os.fstat(fd).st_ino):
            break  # the file we locked is still the one at the path (not unlinked by a finishing run)
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)
