"""The outputs of ``attricam analyze``: the CSV, the JSON report and annotated copies.

Each output streams into a temporary file beside its target and is renamed
over it only when the run ends (:mod:`attricam.engine.atomic`), so memory stays flat
over thousands of files and a crash never leaves a half-written report. The
CSV contract itself is documented in :mod:`attricam.engine.analyze`.

Reports grow by whole files only (:class:`_WholeRecordFile`): when a write
fails — a full disk, a quota, an I/O error — the report is cut back to the
end of the last complete file and :class:`OutputWriteError` stops the batch,
so what was already computed is kept and the report stays well-formed.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import cv2
import numpy as np

from .atomic import atomic_path, atomic_write_bytes
from .attributes import ATTRIBUTE_NAMES
from .reliability import ModelReliability
from .results import FrameResult

if TYPE_CHECKING:
    from .bundle import ModelBundle

__all__ = [
    "CSV_COLUMNS",
    "AnnotationWriter",
    "CsvReport",
    "JsonReport",
    "OutputWriteError",
    "csv_rows",
    "spreadsheet_safe",
]

_FATAL_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})
"""Write errors that every later file would hit too: they stop the batch instead of skipping one file."""


class OutputWriteError(RuntimeError):
    """An output could not be written (disk full, quota, I/O error); the batch must stop, keeping what it has."""

    def __init__(self, target: Path, error: OSError) -> None:
        from .image_io import display_name

        self.target = target
        self.reason = error.strerror or str(error) or type(error).__name__
        super().__init__(f"cannot write {display_name(target)} ({self.reason})")


class _WholeRecordFile:
    """An unbuffered file that grows by whole records; a failed append is cut back so the file stays whole.

    ``tail`` (the JSON closing brackets) is written after every record and
    overwritten by the next, so the file is complete after each append.
    """

    def __init__(self, handle: BinaryIO, target: Path) -> None:
        self._handle = handle
        self._target = target
        self._good = 0

    def append(self, data: bytes, tail: bytes = b"") -> None:
        try:
            self._handle.seek(self._good)
            _write_all(self._handle, data + tail)
        except OSError as exc:
            with contextlib.suppress(OSError):  # truncating frees space, so the old tail usually fits again
                self._handle.truncate(self._good)
                self._handle.seek(self._good)
                _write_all(self._handle, tail)
            raise OutputWriteError(self._target, exc) from None
        self._good += len(data)


def _write_all(handle: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = handle.write(view)
        if not written:
            raise OSError(errno.ENOSPC, "no space left on device")
        view = view[written:]


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet (Excel, LibreOffice, Sheets) run a cell as a formula: CSV injection."""
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def spreadsheet_safe(cell: str) -> str:
    """``cell``, with a leading ``'`` when a spreadsheet would run it as a formula (OWASP's CSV-injection advice).

    Only text is touched: a number such as ``-1`` or ``-3.5`` (a face id, a box edge) stays as it is,
    so the CSV contract's columns read the same; a file named ``=HYPERLINK(...).jpg`` reads ``'=HYPERLINK(...).jpg``.
    """
    if not cell.startswith(_FORMULA_STARTS) or _PLAIN_NUMBER.fullmatch(cell):
        return cell
    return "'" + cell


CSV_COLUMNS: tuple[str, ...] = (
    "path",
    "face",
    "x",
    "y",
    "w",
    "h",
    "score",
    *(f"p_{name}" for name in ATTRIBUTE_NAMES),
    *(f"y_{name}" for name in ATTRIBUTE_NAMES),
)

_NO_FACE_ID = "-1"


def csv_rows(label: str, result: FrameResult, scale: tuple[float, float] = (1.0, 1.0)) -> list[list[str]]:
    """The CSV rows of one image or video frame: one per face by id, or one ``face=-1`` row with empty numbers.

    ``scale`` (sx, sy) maps boxes from the analysed pixels back to the file's
    own pixels when the loader downscaled a large photo.
    """
    if not result.faces:
        return [[label, _NO_FACE_ID] + [""] * (len(CSV_COLUMNS) - 2)]
    sx, sy = scale
    rows = []
    for face in sorted(result.faces, key=lambda f: f.face_id):
        x1, y1, x2, y2 = (float(v) * s for v, s in zip(face.box, (sx, sy, sx, sy)))
        rows.append(
            [
                label,
                str(face.face_id),
                f"{x1:.1f}",
                f"{y1:.1f}",
                f"{x2 - x1:.1f}",
                f"{y2 - y1:.1f}",
                f"{face.score:.4f}",
            ]
            + [f"{float(p):.5f}" for p in face.probabilities]
            + ["1" if d else "0" for d in face.decisions]
        )
    return rows


class CsvReport:
    """Rows appended as files finish; the file appears (atomically) when the context closes without error."""

    def __init__(self, out: _WholeRecordFile) -> None:
        self._out = out
        self.rows = 0
        self._append([list(CSV_COLUMNS)])

    @classmethod
    @contextlib.contextmanager
    def open(cls, target: Path) -> Iterator[CsvReport]:
        with atomic_path(target) as tmp, open(tmp, "wb", buffering=0) as handle:
            yield cls(_WholeRecordFile(handle, target))

    def _append(self, rows: list[list[str]]) -> None:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows([[spreadsheet_safe(cell) for cell in row] for row in rows])
        self._out.append(text.getvalue().encode("utf-8", "surrogateescape"))  # undecodable names: their own bytes

    def add_rows(self, rows: list[list[str]]) -> None:
        """All rows of one file, or none of them (raises :class:`OutputWriteError`)."""
        self._append(rows)
        self.rows += len(rows)


class JsonReport:
    """``{"model", "model_trained", "thresholds", "files": [...]}``, one entry per input file.

    An image entry holds ``result`` (``FrameResult.as_dict``: boxes in the
    pixels of ``frame_size``) and ``source_size`` (the file's upright size,
    larger when the photo was downscaled for analysis), a video entry
    ``frames`` (one per analysed frame, ``frame_index`` counted in the file),
    a failed file ``error``. Entries are streamed, so long runs stay small in memory.
    """

    _TAIL = b"\n ]\n}\n"

    def __init__(self, out: _WholeRecordFile) -> None:
        self._out = out
        self._count = 0

    @classmethod
    @contextlib.contextmanager
    def open(cls, target: Path, bundle: ModelBundle) -> Iterator[JsonReport]:
        header = {
            "model": bundle.name,
            "model_trained": bundle.trained,
            "thresholds": {name: float(t) for name, t in zip(ATTRIBUTE_NAMES, bundle.decision_rule.thresholds)},
            "calibrated": not bundle.decision_rule.is_identity,
            "second_opinion": bundle.opinion is not None,
            "reliability": {
                key: r.to_dict()
                for key, fused in (("fused", True), ("model_only", False))
                if (r := ModelReliability.from_metadata(bundle.metadata, fused=fused)) is not None
            },
        }
        with atomic_path(target) as tmp, open(tmp, "wb", buffering=0) as handle:
            out = _WholeRecordFile(handle, target)
            out.append((json.dumps(header, indent=1)[:-2] + ',\n "files": [').encode(), cls._TAIL)
            yield cls(out)

    def _add(self, entry: dict[str, Any]) -> None:
        self._out.append((("," if self._count else "") + "\n  " + json.dumps(entry)).encode(), self._TAIL)
        self._count += 1

    def add_file(
        self, path: Path, frames: list[dict[str, Any]], *, video: bool, source_size: tuple[int, int] | None
    ) -> None:
        if video:
            self._add({"path": str(path), "kind": "video", "frames": frames})
        else:
            self._add(
                {
                    "path": str(path),
                    "kind": "image",
                    "source_size": None if source_size is None else list(source_size),
                    "result": frames[0],
                }
            )

    def add_error(self, path: Path, message: str) -> None:
        self._add({"path": str(path), "error": message})


_KEPT_IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})


class AnnotationWriter:
    """Annotated copies under ``root``, mirroring each input's path (relative to the working directory).

    ``photos/a.jpg`` becomes ``<root>/photos/a.jpg``; an input outside the
    working directory keeps its absolute path below ``root``. Mirroring keeps
    same-named files from different folders apart. Suffixes OpenCV may not
    write (``.tif``, ``.webp``, ...) get ``.png`` appended; videos become ``.mp4``.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def target(self, source: Path, keep: frozenset[str], new_suffix: str) -> Path:
        resolved = source.resolve()
        try:
            relative = resolved.relative_to(Path.cwd())
        except ValueError:
            relative = resolved.relative_to(resolved.anchor)
        if relative.suffix.lower() not in keep:
            relative = relative.with_name(relative.name + new_suffix)
        target = self.root / relative
        if target.resolve() == resolved:
            raise OSError(f"annotated copy of {source} would overwrite it; choose another --annotate folder")
        return target

    def write_image(self, source: Path, image: np.ndarray, result: FrameResult) -> Path:
        from .render import RenderOptions, render_frame

        target = self.target(source, _KEPT_IMAGE_SUFFIXES, ".png")
        bgr = cv2.cvtColor(render_frame(image, result, RenderOptions()), cv2.COLOR_RGB2BGR)
        ok, encoded = cv2.imencode(target.suffix, bgr)
        if not ok:
            raise OSError(f"{target}: OpenCV could not encode the annotated image")
        try:
            atomic_write_bytes(target, encoded.tobytes())
        except OSError as exc:
            if exc.errno in _FATAL_WRITE_ERRORS:
                raise OutputWriteError(target, exc) from None
            raise
        return target

    @contextlib.contextmanager
    def video(self, source: Path, fps: float) -> Iterator[_AnnotatedVideo]:
        target = self.target(source, frozenset({".mp4"}), ".mp4")
        with atomic_path(target) as tmp:
            writer = _AnnotatedVideo(tmp, fps)
            try:
                yield writer
            finally:
                writer.close()
            if not writer.frames:  # raising makes atomic_path drop the empty file
                raise OSError(f"{source}: no frame to annotate")


class _AnnotatedVideo:
    """An mp4v ``cv2.VideoWriter`` opened at the first frame, when the size is known."""

    def __init__(self, path: Path, fps: float) -> None:
        self._path = path
        self._fps = fps if fps > 0 else 30.0
        self._writer: cv2.VideoWriter | None = None
        self.frames = 0

    def write(self, frame: np.ndarray, result: FrameResult) -> None:
        from .render import RenderOptions, render_frame

        if self._writer is None:
            height, width = frame.shape[:2]
            self._writer = cv2.VideoWriter(str(self._path), cv2.VideoWriter.fourcc(*"mp4v"), self._fps, (width, height))
            if not self._writer.isOpened():
                raise OSError(f"{self._path}: OpenCV cannot write an mp4v video here")
        self._writer.write(cv2.cvtColor(render_frame(frame, result, RenderOptions()), cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
