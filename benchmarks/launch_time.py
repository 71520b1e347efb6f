"""Seconds from ``python -m attricam.desktop`` to a visible AttriCam window on a real X display (xcb, not offscreen).

Checks the same path a user takes, including Qt's xcb plugin and its system libraries. Needs an X
display (a desktop, or ``Xvfb :77 &`` then ``DISPLAY=:77``) and ``xdotool``. Each launch is killed once
its window shows; the first launch is the cold one (files not yet in the page cache).

    DISPLAY=:77 .venv/bin/python -m benchmarks.launch_time --runs 3 [--screenshot out/launch.xwd]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.report import emit_figures

REPO = Path(__file__).resolve().parent.parent


def launch_once(timeout_s: float, screenshot: Path | None) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    start = time.perf_counter()
    app = subprocess.Popen(
        [sys.executable, "-m", "attricam.desktop"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while time.perf_counter() - start < timeout_s:
            if app.poll() is not None:
                raise SystemExit(f"the app exited with {app.returncode}: {app.stderr.read().decode()[-2000:]}")
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "AttriCam"], capture_output=True)
            if found.returncode == 0 and found.stdout.strip():
                seconds = time.perf_counter() - start
                if screenshot is not None:
                    time.sleep(3)  # let the first frame paint
                    with screenshot.open("wb") as out:
                        subprocess.run(["xwd", "-root", "-silent"], stdout=out, check=True)
                return seconds
            time.sleep(0.05)
        raise SystemExit(f"no AttriCam window within {timeout_s} s")
    finally:
        app.kill()
        app.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--screenshot", type=Path, help="xwd dump of the screen after the last launch")
    parser.add_argument("--json", type=Path, default=REPO / "out" / "launch_time.json")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY") or shutil.which("xdotool") is None:
        raise SystemExit("needs an X display (DISPLAY) and xdotool")
    times = [launch_once(args.timeout, args.screenshot if i == args.runs - 1 else None) for i in range(args.runs)]
    emit_figures(
        {"window_visible_s": [round(t, 2) for t in times], "load_avg_1m": round(os.getloadavg()[0], 2)}, args.json
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
