"""``attricam --source … --screenshot … --exit-after-frames N`` runs the real window and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [
        sys.executable,
        "-m",
        "attricam.desktop",
        "--settings",
        str(tmp_path / "s.ini"),
        "--size",
        "1280x800",
        *args,
    ]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_headless_screenshot_of_an_image(tmp_path, celeba_face_paths):
    out = tmp_path / "shot.png"
    done = _run(
        tmp_path,
        "--source",
        str(celeba_face_paths[0]),
        "--screenshot",
        str(out),
        "--exit-after-frames",
        "1",
        "--attribute",
        "Smiling",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    image = cv2.imread(str(out))
    assert image is not None and image.shape[1] == 1280 and image.shape[0] == 800


def _shown_match(face: np.ndarray, shot: np.ndarray) -> float:
    """How well ``face`` (BGR) matches some region of the screenshot at the size the video view drew it:
    the best normalised correlation over scales 1x..4x (at half resolution, for speed)."""
    screen = cv2.cvtColor(cv2.resize(shot, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    face = cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)
    best = -1.0
    for scale in np.arange(0.5, 2.01, 0.05):
        template = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if template.shape[0] > screen.shape[0] or template.shape[1] > screen.shape[1]:
            break
        best = max(best, float(cv2.matchTemplate(screen, template, cv2.TM_CCOEFF_NORMED).max()))
    return best


def test_headless_filmstrip_stops_at_its_end(tmp_path, celeba_face_paths):
    """Ten frames asked of a two-image filmstrip: the run ends at the strip's end, and its grab is the whole
    window showing the last image (not the first, not the empty state)."""
    out = tmp_path / "strip.png"
    first, last = celeba_face_paths[:2]
    done = _run(tmp_path, "--source", f"{first},{last}", "--screenshot", str(out), "--exit-after-frames", "10")
    assert done.returncode == 0, done.stderr[-2000:]
    shot = cv2.imread(str(out))
    assert shot is not None and shot.shape == (800, 1280, 3)
    shown, previous = _shown_match(cv2.imread(str(last)), shot), _shown_match(cv2.imread(str(first)), shot)
    assert shown > 0.8 > previous + 0.1, (shown, previous)  # measured: 0.93 for the image shown, 0.46 for the other


def test_headless_without_source_grabs_the_empty_state(tmp_path):
    out = tmp_path / "empty.png"
    done = _run(tmp_path, "--screenshot", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.is_file()


def test_missing_source_is_a_clear_error(tmp_path):
    done = _run(tmp_path, "--source", str(tmp_path / "nope.mp4"), "--exit-after-frames", "1")
    assert done.returncode == 2
    assert "nope.mp4: file not found" in done.stderr


def test_attricam_without_a_subcommand_opens_the_window(tmp_path):
    """The console script's default is the desktop app: window options reach it and it grabs the window."""
    out = tmp_path / "default.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    command = [
        sys.executable,
        "-m",
        "attricam",
        "--settings",
        str(tmp_path / "s.ini"),
        "--size",
        "1280x800",
        "--screenshot",
        str(out),
    ]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    image = cv2.imread(str(out))
    assert image is not None and image.shape[:2] == (800, 1280)


def test_headless_broken_source_exits_at_once_with_the_reason(tmp_path):
    import time

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    out = tmp_path / "shot.png"
    started = time.monotonic()
    done = _run(
        tmp_path, "--source", str(broken), "--screenshot", str(out), "--exit-after-frames", "5", "--timeout", "120"
    )
    assert done.returncode == 1
    assert "broken.mp4" in done.stderr and "not a readable video" in done.stderr
    assert "timed out" not in done.stderr
    assert time.monotonic() - started < 60, "it waited for the timeout instead of exiting at once"
    assert out.is_file()  # the grab shows what the window said
