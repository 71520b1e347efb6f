"""Hostile stills: decompression bombs under a memory ceiling, animated GIFs, odd names, broken links."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from attricam.engine import image_io
from attricam.engine.image_io import ImageLoadError, display_name, read_image

from .conftest import REPO_ROOT

_CEILING_BYTES = 3 << 30
"""Address-space ceiling of the bomb subprocess: 3 GiB (the old loader peaked at 8.6 GB RSS on the 16-bit bomb)."""

_BOMB_PROBE = """
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, ({ceiling}, {ceiling}))
sys.path.insert(0, {repo!r})
from tests.hostile import write_blank_png
from attricam.engine.image_io import read_image

def peak_mb():
    # VmHWM belongs to this process's own address space; ru_maxrss would carry over the forking
    # parent's high-water mark (a big pytest process) across exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

path = write_blank_png(Path({path!r}), 15800, 15800, bit_depth={bits}, colour_type={colour_type})
image = read_image(path)
print(json.dumps({{"shape": list(image.pixels.shape), "source": list(image.source_size),
                  "file_bytes": path.stat().st_size,
                  "peak_mb": peak_mb()}}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("bits, colour_type", [(8, 0), (16, 0), (8, 6)])
def test_png_bomb_decodes_within_a_memory_ceiling(bits: int, colour_type: int, tmp_path: Path) -> None:
    """A ~0.5-1 MB 15,800² grayscale or RGBA PNG (under the 250 MP limit) must not take the machine down.

    RGBA sits just under the decoded-size limit (1.0 GB raster); Pillow's RGBA reduce used to copy it
    premultiplied at full size (2.1 GB peak), so it is reduced in strips.
    """
    code = _BOMB_PROBE.format(
        ceiling=_CEILING_BYTES,
        repo=str(REPO_ROOT),
        path=str(tmp_path / "bomb.png"),
        bits=bits,
        colour_type=colour_type,
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["shape"] == [4096, 4096, 3] and report["source"] == [15800, 15800]
    assert report["file_bytes"] < 1_000_000
    assert report["peak_mb"] < 1300, report


def test_decoded_size_above_the_limit_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .hostile import write_blank_png

    path = write_blank_png(tmp_path / "wide.png", 3000, 2000, colour_type=2)  # RGB: 4 bytes/pixel in Pillow
    monkeypatch.setattr(image_io, "MAX_DECODED_BYTES", 20_000_000)
    with pytest.raises(
        ImageLoadError, match=r"wide.png: decoding needs 24 MB \(3000x2000 RGB\), more than the 20 MB limit"
    ):
        read_image(path)


@pytest.mark.parametrize("bits, colour_type, needed", [(8, 0, "2.2 GB"), (16, 0, "2.5 GB"), (8, 6, "3.0 GB")])
def test_a_tall_thin_png_is_refused_by_its_row_overhead(
    bits: int, colour_type: int, needed: str, tmp_path: Path
) -> None:
    """1 x 249,000,000 px: a tiny raster, but Pillow spends 8 bytes a row on top (2.3-5.8 GB peaks before)."""
    from .hostile import write_blank_png

    path = write_blank_png(tmp_path / "tall.png", 1, 249_000_000, bit_depth=bits, colour_type=colour_type)
    with pytest.raises(ImageLoadError, match=rf"tall.png: decoding needs {needed} \(1x249000000 "):
        read_image(path)


def test_rgba_reduced_in_strips_equals_one_reduce(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (1003, 517, 4), dtype=np.uint8), "RGBA")
    monkeypatch.setattr(image_io, "_STRIP_BYTES", 517 * 4 * 3 * 7)  # 21 rows a strip, the last one partial
    assert np.array_equal(np.asarray(image_io._shrink_decoded(image, 300)), np.asarray(image.reduce(3)))


def test_animated_gif_reports_its_frame_count(tmp_path: Path) -> None:
    frames = [Image.fromarray(np.full((40, 30, 3), v, np.uint8)) for v in (10, 120, 240)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    image = read_image(path)
    assert image.frames == 3 and image.pixels.mean() < 40  # the first frame
    still = tmp_path / "still.gif"
    frames[0].save(still)
    assert read_image(still).frames == 1


def test_names_with_newlines_stay_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad\nname.jpg"
    path.write_bytes(b"not a jpeg")
    with pytest.raises(ImageLoadError) as info:
        read_image(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(repr(str(path)) + ": not an image")
    assert display_name(tmp_path / "plain é.jpg") == str(tmp_path / "plain é.jpg")


def test_broken_links_say_what_is_wrong(tmp_path: Path) -> None:
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    dangling = tmp_path / "dangling.jpg"
    dangling.symlink_to(tmp_path / "gone.jpg")
    with pytest.raises(ImageLoadError, match=r"loop\.jpg: symbolic link loop"):
        read_image(loop)
    with pytest.raises(
        ImageLoadError, match=r"dangling.jpg: dangling symbolic link \(its target .*gone.jpg does not exist\)"
    ):
        read_image(dangling)
