"""Folder expansion, video frames and the demo-clip maker (real CelebA faces, read back with OpenCV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from attricam.engine.sources import VideoLoadError, is_video, iter_media, iter_video_frames, video_fps

from .fixtures.demo_clip import make_demo_clip


@pytest.fixture(scope="module")
def demo_clip(celeba_root: Path, tmp_path_factory) -> Path:
    """A 12-frame, two-face 640x480 mp4 (written by tests/fixtures/demo_clip.py)."""
    out = tmp_path_factory.mktemp("clip") / "two_faces.mp4"
    return make_demo_clip(out, celeba_root, frames=12, faces=2, fps=24)


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_iter_media_expands_folders_recursively_sorted_by_extension(tmp_path: Path) -> None:
    root = tmp_path / "shoot"
    for name in ["b.JPG", "a.png", "sub/c.mp4", "sub/deeper/d.webp", "notes.txt", "sub/raw.cr2"]:
        _touch(root / name)
    _touch(root / "._a.png")  # macOS resource fork: an image suffix, not an image
    _touch(root / ".cache" / "e.jpg")
    _touch(root / "annotated" / "a.png")
    single = _touch(tmp_path / "single.tiff")
    found = list(iter_media([single, root, root / "a.png"], exclude=[root / "annotated"]))
    assert found == [single, root / "a.png", root / "b.JPG", root / "sub/c.mp4", root / "sub/deeper/d.webp"]


def test_iter_media_yields_named_paths_even_when_missing_or_odd(tmp_path: Path) -> None:
    """A path the user typed is never silently dropped: the loader reports it by name."""
    missing = tmp_path / "gone.jpg"
    odd = _touch(tmp_path / "photo.heic")
    assert list(iter_media([missing, odd])) == [missing, odd]


def test_is_video() -> None:
    assert is_video("clip.MP4") and is_video(Path("a/b.avi")) and not is_video("photo.jpg")


def test_demo_clip_reads_back_with_two_real_faces(demo_clip: Path) -> None:
    from attricam.engine.detection import FaceDetector

    frames = list(iter_video_frames(demo_clip))
    assert [i for i, _ in frames] == list(range(12))
    assert all(f.shape == (480, 640, 3) and f.dtype == np.uint8 for _, f in frames)
    assert video_fps(demo_clip) == pytest.approx(24, abs=0.5)
    faces = FaceDetector().detect(frames[6][1])
    assert len(faces) == 2 and min(f.score for f in faces) > 0.9
    assert frames[0][1].mean() != pytest.approx(frames[6][1].mean(), abs=1e-3), "the clip must move"


def test_demo_clip_as_mjpg_avi(celeba_root: Path, tmp_path: Path) -> None:
    path = make_demo_clip(tmp_path / "one.avi", celeba_root, frames=3, size=(320, 240), faces=1)
    assert [i for i, _ in iter_video_frames(path)] == [0, 1, 2]


def test_iter_video_frames_every_nth_keeps_true_indices(demo_clip: Path) -> None:
    assert [i for i, _ in iter_video_frames(demo_clip, every=5)] == [0, 5, 10]


@pytest.mark.parametrize("content", [b"", b"not a video at all\n"])
def test_unreadable_video_names_the_file(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoLoadError) as info:
        list(iter_video_frames(path))
    assert str(info.value).startswith(f"{path}: ")
    with pytest.raises(VideoLoadError, match="not found"):
        list(iter_video_frames(tmp_path / "missing.mp4"))
