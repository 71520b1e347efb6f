"""Every file a user has loads as (H, W, 3) RGB uint8, upright and not clipped; every bad file fails by name."""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from attricam.engine.image_io import MAX_SIDE, ImageLoadError, load_image, read_image


@pytest.fixture(scope="module")
def face(celeba_face_paths: list[Path]) -> np.ndarray:
    """A real CelebA face, (218, 178, 3) RGB uint8."""
    with Image.open(celeba_face_paths[0]) as image:
        return np.asarray(image.convert("RGB"))


def _gray(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32)


def _mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def _write_variant(kind: str, face: np.ndarray, folder: Path) -> tuple[Path, np.ndarray]:
    """Write ``face`` as an awkward file; return its path and the RGB the loader should give back."""
    image = Image.fromarray(face)
    gray3 = np.repeat(_gray(face)[..., None], 3, axis=2)
    if kind == "gray.jpg":
        image.convert("L").save(folder / kind, quality=95)
        return folder / kind, gray3
    if kind == "palette.png":
        palette = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=256)
        palette.save(folder / kind)
        return folder / kind, np.asarray(palette.convert("RGB"))
    if kind == "cmyk.jpg":
        image.convert("CMYK").save(folder / kind, quality=95)
        return folder / kind, face
    if kind in ("face.webp", "face.bmp", "face.tif", "face.png"):
        image.save(folder / kind, **({"quality": 95} if kind.endswith("webp") else {}))
        return folder / kind, face
    if kind == "rgb16.png":  # OpenCV writes real 16-bit colour; values span the full 0..65535 range
        cv2.imwrite(str(folder / kind), (face.astype(np.uint16) * 257)[..., ::-1])
        return folder / kind, face
    if kind in ("gray16.png", "gray16.tif"):
        cv2.imwrite(str(folder / kind), _gray(face).round().astype(np.uint16) * 257)
        return folder / kind, gray3
    raise AssertionError(kind)


GOOD_KINDS = [
    "gray.jpg",
    "palette.png",
    "cmyk.jpg",
    "face.webp",
    "face.bmp",
    "face.tif",
    "face.png",
    "rgb16.png",
    "gray16.png",
    "gray16.tif",
]


@pytest.mark.parametrize("kind", GOOD_KINDS)
def test_awkward_formats_load_as_rgb_uint8(kind: str, face: np.ndarray, tmp_path: Path) -> None:
    path, expected = _write_variant(kind, face, tmp_path)
    loaded = load_image(path)
    assert loaded.shape == face.shape and loaded.dtype == np.uint8
    assert loaded.flags.c_contiguous and loaded.flags.writeable
    # 16-bit data scaled, not clipped: a clipped photo would be almost all 255.
    assert _mean_abs_diff(loaded, expected) < 4.0, kind


def test_cmyk_colours_survive(face: np.ndarray, tmp_path: Path) -> None:
    """A CMYK JPEG is not inverted or channel-swapped on the way to RGB."""
    path, _ = _write_variant("cmyk.jpg", face, tmp_path)
    loaded = load_image(path).astype(np.float32)
    for channel in range(3):
        assert np.corrcoef(loaded[..., channel].ravel(), face[..., channel].ravel())[0, 1] > 0.95


def test_transparency_is_composited_on_white(face: np.ndarray, tmp_path: Path) -> None:
    rgba = np.dstack([face, np.full(face.shape[:2], 255, np.uint8)])
    rgba[:40, :, :3] = 0  # transparent pixels usually carry black colour
    rgba[:40, :, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(rgba[..., [0, 3]][..., :2].copy(), "LA").save(tmp_path / "la.png")
    loaded = load_image(tmp_path / "rgba.png")
    assert loaded.shape == face.shape
    assert (loaded[:40] == 255).all(), "transparent area must be white, not black"
    assert _mean_abs_diff(loaded[40:], face[40:]) < 1.0
    assert (load_image(tmp_path / "la.png")[:40] == 255).all()


@pytest.mark.parametrize(
    ("orientation", "to_stored"),
    [
        (3, lambda a: np.rot90(a, 2)),  # stored upside down
        (6, lambda a: np.rot90(a, 1)),  # phone held upright: stored rotated 90 degrees counter-clockwise
        (8, lambda a: np.rot90(a, -1)),
    ],
)
def test_exif_orientation_is_applied(orientation: int, to_stored, face: np.ndarray, tmp_path: Path) -> None:
    stored = np.ascontiguousarray(to_stored(face))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"phone_{orientation}.jpg"
    Image.fromarray(stored).save(path, quality=95, exif=exif.tobytes())
    with Image.open(path) as written:
        assert written.size == (stored.shape[1], stored.shape[0])

    loaded = load_image(path)
    assert loaded.shape == face.shape, "the photo must come back upright (218 x 178), not as stored"
    assert read_image(path).source_size == (178, 218)
    assert _mean_abs_diff(loaded, face) < 4.0


def test_huge_jpeg_is_reduced_without_a_bomb_warning(face: np.ndarray, tmp_path: Path) -> None:
    """12000 x 9000 (108 MP) is above Pillow's 89 MP warning: a legit photo, loaded reduced, aspect kept."""
    path = tmp_path / "huge.jpg"
    Image.fromarray(face).resize((9000, 12000), Image.Resampling.BILINEAR).save(path, quality=70)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_image(path)
    assert loaded.shape == (MAX_SIDE, 3072, 3) and loaded.dtype == np.uint8
    read = read_image(path)
    assert read.source_size == (9000, 12000), "boxes must be mappable back to the file's pixels"
    assert read.scale == pytest.approx((9000 / 3072, 12000 / 4096))
    small = cv2.resize(loaded, (178, 218), interpolation=cv2.INTER_AREA)
    assert _mean_abs_diff(small, face) < 8.0  # upscaled, JPEG q70, downscaled again


def test_large_png_is_downscaled_to_max_side(face: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "large.png"
    Image.fromarray(face).resize((2500, 3062), Image.Resampling.BILINEAR).save(path, compress_level=1)
    loaded = load_image(path, max_side=1000)
    assert loaded.shape == (1000, 816, 3)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width x height`` but holds no pixels: a decompression-bomb stand-in."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_too_many_pixels_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(30000, 30000))
    with pytest.raises(ImageLoadError, match="megapixel") as info:
        load_image(path)
    assert str(info.value).startswith(str(path))


def _bad_files(folder: Path, face_path: Path) -> dict[str, Path]:
    good = face_path.read_bytes()
    files = {
        "empty.jpg": b"",
        "text.jpg": b"this is a shopping list, not a photo\n",
        "truncated.jpg": good[: len(good) // 2],
        "random.png": np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "page.png": b"<!DOCTYPE html><html><body>404</body></html>",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files} | {"missing.jpg": folder / "missing.jpg", "folder": folder}


@pytest.mark.parametrize(
    "name", ["empty.jpg", "text.jpg", "truncated.jpg", "random.png", "page.png", "missing.jpg", "folder"]
)
def test_bad_files_raise_one_clear_error_naming_the_file(
    name: str, celeba_face_paths: list[Path], tmp_path: Path
) -> None:
    path = _bad_files(tmp_path, celeba_face_paths[0])[name]
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and len(message) > len(f"{path}: ")
    assert "\n" not in message
    assert info.value.__cause__ is None, "the Pillow exception chain is noise for the user"


def test_avif_loads(face: np.ndarray, tmp_path: Path) -> None:
    from PIL import features

    if not features.check("avif"):
        pytest.skip("this Pillow build has no AVIF codec")
    Image.fromarray(face).save(tmp_path / "face.avif", quality=90)
    assert _mean_abs_diff(load_image(tmp_path / "face.avif"), face) < 6.0


def test_heic_without_its_plugin_says_what_to_install(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))
    with pytest.raises(ImageLoadError, match="pillow-heif") as info:
        load_image(path)
    assert str(info.value).startswith(f"{path}: ")
