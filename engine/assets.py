"""Where the shipped model lives, in a checkout and in an installed wheel.

A checkout keeps it in ``assets/`` at the repository top; the wheel maps that
folder into the ``attricam`` package (``attricam/assets/``, see
``pyproject.toml``), because a wheel can only carry files inside packages.
Both places are searched in that order; when neither holds the file, the
caller gets a message naming them, so a broken install fails loudly instead of
quietly predicting from random weights.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_BUNDLE_NAME", "asset_folders", "find_asset", "missing_asset_message"]

DEFAULT_BUNDLE_NAME = "attricam-default.pt"
_TOP = Path(__file__).resolve().parent.parent


def asset_folders() -> tuple[Path, ...]:
    """The checkout's ``assets/`` and the installed package's ``attricam/assets/``."""
    return (_TOP / "assets", _TOP / "attricam" / "assets")


def find_asset(name: str) -> Path | None:
    """The first ``folder / name`` that is a file, or None."""
    for folder in asset_folders():
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def missing_asset_message(name: str = DEFAULT_BUNDLE_NAME) -> str:
    folders = " or ".join(str(f) for f in asset_folders())
    return (
        f"the shipped model {name} is missing (looked in {folders}); "
        f"put {name} (and its .onnx twin) in the first folder, pass --model BUNDLE.pt, "
        "or train one with `attricam train`"
    )
