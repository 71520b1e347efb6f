"""Test helpers for media files: the demo-clip maker lives in ``benchmarks/``, a script folder."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from .conftest import REPO_ROOT


def load_make_clip() -> ModuleType:
    """``benchmarks/make_clip.py`` imported from its file (``benchmarks`` is not a package)."""
    if "make_clip" in sys.modules:
        return sys.modules["make_clip"]
    spec = importlib.util.spec_from_file_location("make_clip", REPO_ROOT / "benchmarks" / "make_clip.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_clip"] = module
    spec.loader.exec_module(module)
    return module
