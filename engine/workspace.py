"""Where AttriCam keeps files it makes (runs, face caches) and finds what it ships, clone or wheel.

The package's folders sit at the top of a clone (``engine/``, ``training/``, ``desktop/``, mapped to
``attricam.engine`` and the others by setuptools' ``package-dir``) and inside ``site-packages/attricam/``
once a wheel is installed. So a file's *resolved* folder says which: in a clone its parent is the repository,
holding ``pyproject.toml`` and ``assets/``; in a wheel its parent is the ``attricam`` package, whose
``assets/`` is the shipped model's data package. What a user makes goes into the clone when there is
one (``runs/``, ``cache/``, as the README shows), else into a per-user data folder, never into
site-packages.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PACKAGE_PARENT", "checkout_root", "shipped_assets_dir", "user_data_dir", "workspace_dir"]

PACKAGE_PARENT = Path(__file__).resolve().parent.parent
"""The repository in a clone, ``site-packages/attricam`` in a wheel."""


def checkout_root() -> Path | None:
    """The repository folder when running from a clone; None from an installed wheel."""
    return PACKAGE_PARENT if (PACKAGE_PARENT / "pyproject.toml").is_file() else None


def shipped_assets_dir() -> Path:
    """``assets/`` of the clone, or the wheel's ``attricam/assets`` data package: the same path rule serves both."""
    return PACKAGE_PARENT / "assets"


def user_data_dir() -> Path:
    """``$ATTRICAM_HOME``, else ``$XDG_DATA_HOME/attricam`` (``~/.local/share/attricam``)."""
    if home := os.environ.get("ATTRICAM_HOME"):
        return Path(home)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "attricam"


def workspace_dir() -> Path:
    """Where runs and face caches go by default: the clone, else :func:`user_data_dir`."""
    return checkout_root() or user_data_dir()
