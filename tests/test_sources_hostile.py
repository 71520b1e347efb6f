"""Hostile sources: symlink loops and dangling links, truncated and corrupt videos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from attricam.engine.sources import VideoFrames, iter_media

from .conftest import REPO_ROOT


def write_mjpg_avi(path: Path, frames: int = 40, size: tuple[int, int] = (160, 120)) -> Path:
    """A small MJPG AVI with moving noise (so each JPEG frame is a few KB)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    writer.release()
    return path


def test_symlink_loops_and_dangling_links_are_yielded_to_be_named(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "good.jpg").write_bytes(b"x")
    (folder / "loop.jpg").symlink_to(folder / "loop.jpg")
    (folder / "dangling.png").symlink_to(folder / "gone.png")
    (folder / "cycle").symlink_to(folder)  # a directory cycle must not be walked forever
    named_loop = tmp_path / "named.jpg"
    named_loop.symlink_to(named_loop)
    found = list(iter_media([named_loop, folder]))
    assert found == [named_loop, folder / "dangling.png", folder / "good.jpg", folder / "loop.jpg"]


def test_truncated_video_says_how_many_frames_were_read(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = write_mjpg_avi(tmp_path / "clip.avi")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    video = VideoFrames(path)
    indices = [index for index, _ in video]
    assert indices == list(range(len(indices))) and 5 < len(indices) < 40
    assert video.ended_early and video.frames_declared == 40
    assert video.shortfall_message() == (
        f"{path}: file ended early: {len(indices)} of 40 frames read (truncated or corrupt); rows cover the frames read"
    )
    assert capfd.readouterr().err == ""


def test_corrupt_video_decoder_noise_stays_off_stderr(tmp_path: Path) -> None:
    """FFmpeg's log ("overread 8", "huffman table decode error") is made loud, then must still not show."""
    path = write_mjpg_avi(tmp_path / "corrupt.avi")
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(1)
    for offset in rng.integers(len(data) // 4, len(data) - 2000, 200):  # garble JPEG payloads, keep the header
        data[offset : offset + 64] = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    probe = "from attricam.engine.sources import VideoFrames; v = VideoFrames(%r); print(sum(1 for _ in v), v.frames_declared)"
    env = {**os.environ, "OPENCV_FFMPEG_LOGLEVEL": "24", "PYTHONPATH": str(REPO_ROOT)}  # a fresh, loud FFmpeg
    done = subprocess.run(
        [sys.executable, "-c", probe % str(path)], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    frames, declared = (int(v) for v in done.stdout.split())
    assert 0 < frames < declared == 40 and done.stderr == "", done.stderr
    complete = VideoFrames(write_mjpg_avi(tmp_path / "whole.avi"))
    assert sum(1 for _ in complete) == 40 and not complete.ended_early


def test_video_frames_over_the_pixel_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 16,000² MJPG costs 2.6 GB a frame to decode: refused from the header, or at the first oversized frame."""
    from attricam.engine import sources

    path = write_mjpg_avi(tmp_path / "clip.avi", frames=3)
    reader = sources.VideoReader(path)  # 160x120: fine under the real limit
    monkeypatch.setattr(sources, "MAX_VIDEO_PIXELS", 160 * 120 - 1)
    with pytest.raises(sources.VideoLoadError, match="160x120 frames are 0 megapixels, more than the 0 megapixel"):
        reader.read()  # a header that understated the size: caught before the colour conversion
    reader.close()
    with pytest.raises(sources.VideoLoadError, match=r"clip.avi: 160x120 frames are"):
        list(VideoFrames(path))


def test_symlinked_subfolders_are_followed_once(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "b.jpg").write_bytes(b"x")
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"x")
    (folder / "linked").symlink_to(outside)
    (folder / "again").symlink_to(outside)  # a second way into the same folder: walked once
    (folder / "up").symlink_to(tmp_path)  # a cycle through the parent
    found = list(iter_media([folder]))
    assert found[0] == folder / "a.jpg" and len(found) == 2
    assert found[1].resolve() == outside / "b.jpg"


def test_an_unreadable_subfolder_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "photos"
    (folder / "secret").mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"x")
    real_scandir = os.scandir

    def scandir(path):  # what listing a mode-000 folder does for a user other than root
        if Path(path).name == "secret":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    errors: list[tuple[Path, str]] = []
    found = list(iter_media([folder], on_error=lambda p, e: errors.append((p, e.strerror))))
    assert found == [folder / "a.jpg"] and errors == [(folder / "secret", "Permission denied")]


def test_a_fifo_named_like_media_is_not_read(tmp_path: Path) -> None:
    from attricam.engine.image_io import ImageLoadError, read_image

    os.mkfifo(tmp_path / "pipe.jpg")
    os.mkfifo(tmp_path / "pipe.mp4")
    with pytest.raises(ImageLoadError, match=r"pipe.jpg: is a FIFO \(named pipe\), not a regular file"):
        read_image(tmp_path / "pipe.jpg")
    with pytest.raises(Exception, match=r"pipe.mp4: is a FIFO \(named pipe\), not a regular file"):
        list(VideoFrames(tmp_path / "pipe.mp4"))
