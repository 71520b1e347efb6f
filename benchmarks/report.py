"""How every benchmark script reports: figures as JSON on stdout and, atomically, in a file."""

from __future__ import annotations

import json
from pathlib import Path

from attricam.engine.atomic import atomic_write_text


def emit_figures(figures: dict, path: Path | None) -> None:
    text = json.dumps(figures, indent=2)
    print(text)
    if path is not None:
        atomic_write_text(path, text + "\n")
