"""What the benchmark scripts share: running ``attricam bench`` in a fresh process, and reporting figures as JSON on
stdout and, atomically, in a file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from attricam.engine.atomic import atomic_write_text


def emit_figures(figures: dict, path: Path | None) -> None:
    text = json.dumps(figures, indent=2)
    print(text)
    if path is not None:
        atomic_write_text(path, text + "\n")


def attricam_bench(clip: Path, frames: int, out_json: Path, *extra: str, backend: str = "auto") -> dict:
    """``attricam bench`` over ``clip`` in a fresh process (so startup counts interpreter and imports); its figures."""
    command = [sys.executable, "-m", "attricam", "bench", "--source", str(clip), "--frames", str(frames)]
    command += ["--backend", backend, "--json", str(out_json), *extra]
    subprocess.run(command, check=True, cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL)
    return json.loads(out_json.read_text())
