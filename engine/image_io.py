"""Load any photo a user has into the engine's one image type: (H, W, 3) RGB uint8.

The detector, aligner and renderer all assume 8-bit RGB, but real files are
grayscale, palette, RGBA, CMYK, 16-bit, EXIF-rotated or 100-megapixel. This
module is the single place that turns them into that type, so no caller has
to guess, and so every failure is one :class:`ImageLoadError` whose message
starts with the file name (the batch CLI prints it as one stderr line).

Choices, and why:

* **Orientation** — EXIF orientation is applied (``ImageOps.exif_transpose``):
  phone photos are stored sideways and MTCNN does not find sideways faces.
* **Transparency** — composited over white, not dropped: transparent pixels
  often carry black (or garbage) colour, and white is what viewers show.
* **16-bit** — scaled to 8 bits (``v * 255 / 65535``), never clipped; Pillow's
  own ``I;16 -> L`` conversion clips, turning most of a photo white.
* **Size** — the long side is reduced to ``max_side`` (4096 px by default,
  aspect kept). JPEGs are decoded at 1/2, 1/4 or 1/8 scale straight from the
  DCT (``draft``), so a 12000 x 9000 photo never exists in memory at full size.
  Files above :data:`MAX_PIXELS` are refused with a clear error instead of
  Pillow's ``DecompressionBombError``.
* **Memory** — other formats cannot decode at a reduced size, so the decoded
  raster is bounded (:data:`MAX_DECODED_BYTES`, estimated before decoding from
  the mode's bytes per pixel and Pillow's per-row overhead, so a 1 x 249,000,000
  PNG is refused too) and shrunk in its own mode (``reduce``, RGBA in strips)
  before anything is converted or copied: a 485 KB 16-bit grayscale PNG of
  15,800² px peaks near its 0.5 GB raster, not at 9 GB.
* **Animation** — only the first frame of an animated GIF/WebP/PNG is used;
  :attr:`LoadedImage.frames` tells the caller so it can say so.
* **Names** — a file name with a newline or another unprintable character is
  quoted (``display_name``) so every message stays on one line.
* **CMYK** — Pillow's plain conversion; ICC profiles are not applied, so
  colours are approximate (good enough for detection and attributes).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_DECODED_BYTES",
    "MAX_PIXELS",
    "MAX_SIDE",
    "VIDEO_EXTENSIONS",
    "ImageLoadError",
    "LoadedImage",
    "MediaLoadError",
    "display_name",
    "load_image",
    "missing_reason",
    "not_a_file_reason",
    "read_image",
]

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".dib", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm"}
    | {".avif", ".heic", ".heif"}
)
"""Lower-case suffixes that :func:`attricam.engine.sources.iter_media` treats as still images. HEIC/HEIF (iPhone)
is listed although Pillow cannot decode it without ``pillow-heif``: such photos are then reported by
name with that hint instead of silently vanishing from a folder run."""

_NEEDS_PLUGIN = {".heic": "pillow-heif", ".heif": "pillow-heif"}

VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv"}
)
"""Lower-case suffixes read frame by frame with OpenCV (FFmpeg)."""

MAX_SIDE = 4096
"""Default long-side limit of a loaded image, in pixels; MTCNN downscales far below this anyway."""

MAX_PIXELS = 250_000_000
"""Largest accepted image (width x height). Above any camera (200 MP phone modes included); beyond it a
file is far more likely a decompression bomb than a photo, and decoding it could exhaust memory."""

MAX_DECODED_BYTES = 1 << 30
"""Largest decoded raster (Pillow's in-memory size, 1-4 bytes per pixel by mode) a file may need: 1 GiB.
Every later step works on a reduced copy, so this bounds what one photo can take from the machine."""

_PILLOW_LIMIT_LOCK = threading.Lock()


class MediaLoadError(ValueError):
    """A file could not be read as media; the message is ``"<path>: <reason>"`` on one line."""


class ImageLoadError(MediaLoadError):
    """A file could not be turned into an image; the message is ``"<path>: <reason>"``."""


@dataclass(frozen=True)
class LoadedImage:
    pixels: np.ndarray  # (H, W, 3) uint8 RGB, upright, long side <= max_side
    source_size: tuple[int, int]
    """Width, height of the upright image in the file, before any downscaling."""
    frames: int = 1
    """Frames in the file (an animated GIF/WebP/PNG has several); only the first is in ``pixels``."""

    @property
    def scale(self) -> tuple[float, float]:
        """(sx, sy) that map ``pixels`` coordinates back to the file's pixels (1.0 unless downscaled)."""
        height, width = self.pixels.shape[:2]
        return self.source_size[0] / width, self.source_size[1] / height


def load_image(path: str | Path, *, max_side: int = MAX_SIDE) -> np.ndarray:
    """Decode ``path`` into a contiguous (H, W, 3) RGB uint8 array with ``max(H, W) <= max_side``.

    Raises :class:`ImageLoadError` naming the file for anything that is not a
    readable image: missing, a directory, empty, unknown format, truncated,
    corrupt or too many pixels.
    """
    return read_image(path, max_side=max_side).pixels


def read_image(path: str | Path, *, max_side: int = MAX_SIDE) -> LoadedImage:
    """:func:`load_image` plus the file's own upright size, so results can be mapped back to it."""
    path = Path(path)
    name = display_name(path)
    _check_file(path)
    try:
        with _own_pixel_limit():
            image = Image.open(path)  # reads the header only
        with image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageLoadError(
                    f"{name}: {width}x{height} is {width * height / 1e6:.0f} megapixels, "
                    f"more than the {MAX_PIXELS / 1e6:.0f} megapixel limit"
                )
            if max(width, height) > max_side:  # JPEG: decode at 1/2, 1/4 or 1/8 scale straight away
                scale = max_side / max(width, height)
                image.draft(None, (max(1, int(width * scale)), max(1, int(height * scale))))
            needed = _decoded_bytes(image)
            if needed > MAX_DECODED_BYTES:
                raise ImageLoadError(
                    f"{name}: decoding needs {_bytes_text(needed)} ({width}x{height} {image.mode}), "
                    f"more than the {_bytes_text(MAX_DECODED_BYTES)} limit"
                )
            frames = int(getattr(image, "n_frames", 1) or 1)
            image.load()
            reduced = _shrink_decoded(image, max_side)
            oriented = _apply_exif_orientation(reduced)
            turned = oriented.size != reduced.size  # a quarter turn swapped width and height
            source_size = (height, width) if turned else (width, height)
            del reduced
            image.close()  # frees the full raster now (leaving ``with`` only closes the file), before converting
        rgb = _to_rgb(oriented)
        if max(source_size) > max_side:  # sized from the file's own aspect, not from a reduced copy's rounding
            scale = max_side / max(source_size)
            target = (max(1, round(source_size[0] * scale)), max(1, round(source_size[1] * scale)))
            if rgb.size != target:
                rgb = rgb.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        array = np.array(rgb, dtype=np.uint8)
    except ImageLoadError:
        raise
    except FileNotFoundError:
        raise ImageLoadError(f"{name}: file not found") from None
    except UnidentifiedImageError:
        plugin = _NEEDS_PLUGIN.get(path.suffix.lower())
        if plugin:
            reason = f"{path.suffix} photos need the {plugin} package (pip install {plugin}) or a JPEG export"
        else:
            reason = "not an image (unrecognised or unsupported format)"
        raise ImageLoadError(f"{name}: {reason}") from None
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(f"{name}: too many pixels ({exc})") from None
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to decode this image") from None
    except Exception as exc:  # noqa: BLE001 - Pillow plugins raise OSError, ValueError, SyntaxError, struct.error
        raise ImageLoadError(f"{name}: cannot decode image ({_reason(exc)})") from None
    if array.ndim != 3 or array.shape[2] != 3 or array.size == 0:
        raise ImageLoadError(f"{name}: decoded to an unexpected shape {array.shape}")
    return LoadedImage(np.ascontiguousarray(array), source_size, frames)


def display_name(path: str | Path) -> str:
    """``path`` as text for a one-line message: as is when printable, else quoted with escapes (``'a\\nb.jpg'``)."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def missing_reason(path: Path) -> str:
    """Why ``path`` cannot be opened although named: a symlink loop, a dangling link, or simply absent."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (the link points back at itself)"
        if exc.errno == errno.EACCES:  # before is_symlink, which would raise the same error
            return "permission denied (a folder on its path cannot be searched)"
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
            return f"cannot be read ({exc.strerror or exc})"
        with contextlib.suppress(OSError):
            if path.is_symlink():
                return f"dangling symbolic link (its target {display_name(os.readlink(path))} does not exist)"
        return "file not found"
    return "file not found"


def not_a_file_reason(path: Path) -> str:
    """Why ``path`` is no media file although named, or '' when it is a regular file (then it may be opened).

    Checked before opening: a FIFO would block the reader (or read as an empty file), a directory
    or device is never an image or a video, and a missing path gets :func:`missing_reason`.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return missing_reason(path)
    if stat.S_ISDIR(mode):
        return "is a directory"
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device or socket"
        return f"is {kind}, not a regular file"
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        return "permission denied" if exc.errno == errno.EACCES else f"cannot be opened ({exc.strerror or exc})"
    return ""


_ROW_OVERHEAD = 8
"""Bytes Pillow spends per raster row beyond its pixels (a line pointer): what a 1 x 249,000,000 image costs."""


def _decoded_bytes(image: Image.Image) -> int:
    """Pillow's in-memory size of the decoded raster, rows included.

    Pixels take 1 byte for 1/L/P, 2 for I;16, 4 for everything else (RGB is stored padded, as RGBX);
    each row adds :data:`_ROW_OVERHEAD`, which dominates for a tall, thin bomb (measured on Pillow 11:
    a 1 x 20,000,000 L image takes 9 bytes a row).
    """
    width, height = image.size
    per_pixel = 1 if image.mode in ("1", "L", "P") else 2 if image.mode.startswith("I;16") else 4
    return height * (width * per_pixel + _ROW_OVERHEAD)


def _bytes_text(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def _shrink_decoded(image: Image.Image, max_side: int) -> Image.Image:
    """An integer-factor reduction in the image's own mode, so no full-size converted copy ever exists.

    Pillow reduces RGBA and LA through a premultiplied full-size copy (twice the raster: 2 GB for a
    15,800² RGBA PNG), so the image is reduced in strips of whole boxes, each copied on its own; the
    result is the same as one :meth:`PIL.Image.Image.reduce` call.
    """
    factor = max(image.size) // max_side
    if factor < 2:
        return image
    width, height = image.size
    try:
        if image.mode not in ("RGBA", "LA"):
            return image.reduce(factor)
        reduced = Image.new(image.mode, (-(-width // factor), -(-height // factor)))
        rows = factor * max(1, _STRIP_BYTES // max(1, width * 4 * factor))  # whole boxes of rows per strip
        for top in range(0, height, rows):
            strip = image.crop((0, top, width, min(height, top + rows)))
            reduced.paste(strip.reduce(factor), (0, top // factor))
        return reduced
    except ValueError:  # 1, P and I;16 modes: a box resize works on them directly
        return image.resize((max(1, width // factor), max(1, height // factor)), Image.Resampling.BOX)


_STRIP_BYTES = 64 << 20
"""Raster bytes per strip of :func:`_shrink_decoded`: the most its premultiplied copies add."""


def _check_file(path: Path) -> None:
    """Cheap checks first, so the common user mistakes get specific messages."""
    name = display_name(path)
    if reason := not_a_file_reason(path):
        raise ImageLoadError(f"{name}: {reason}{', not an image' if reason == 'is a directory' else ''}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImageLoadError(f"{name}: cannot read ({_reason(exc)})") from None
    if size == 0:
        raise ImageLoadError(f"{name}: empty file (0 bytes)")


def _reason(exc: BaseException) -> str:
    """One line: the exception's first message line, or its type when it has none."""
    text = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextlib.contextmanager
def _own_pixel_limit() -> Iterator[None]:
    """Switch Pillow's global bomb check off for one ``open`` (header only, so the lock is brief).

    We check the declared size ourselves right after, so every oversized file
    gets the same message and a legit 108 MP photo no ``DecompressionBombWarning``.
    """
    with _PILLOW_LIMIT_LOCK:
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def _apply_exif_orientation(image: Image.Image) -> Image.Image:
    """An upright copy; a photo with a corrupt EXIF block still loads, just unrotated."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - malformed EXIF: the pixels are fine, only the metadata is not
        return image.copy()


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB (see the module docstring for the policy)."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P" and "transparency" not in image.info:
        return image.convert("RGB")
    if mode in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode.startswith("I") or mode == "F":
        return Image.fromarray(_deep_to_uint8(np.asarray(image), mode), mode="L").convert("RGB")
    return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def _deep_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """Scale 16/32-bit integer or float grayscale to uint8 by its range, never by clipping.

    ``I;16*`` (and ``I`` data within 0..65535, as Pillow stores some 16-bit
    files) maps 0..65535 -> 0..255; ``F`` data within [0, 1] maps to 0..255;
    anything else is stretched from its own minimum to its maximum.
    """
    values = np.nan_to_num(values.astype(np.float32), copy=False)  # float32: exact for 16-bit, half float64's memory
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if mode == "F" and low >= 0.0 and high <= 1.0:
        scaled = values * 255.0
    elif mode != "F" and low >= 0.0 and high <= 65535.0:
        scaled = values * (255.0 / 65535.0)
    else:
        scaled = (values - low) * (255.0 / max(high - low, 1e-12))
    return np.clip(scaled, 0, 255).round().astype(np.uint8)
