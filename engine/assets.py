"""Where the shipped model lives, in a checkout and in an installed wheel.

A checkout keeps it in ``assets/`` at the repository top; the wheel maps that
folder into the ``attricam`` package (``attricam/assets/``, see
``pyproject.toml``), because a wheel can only carry files inside packages.
One path rule finds both (:func:`attricam.engine.workspace.shipped_assets_dir`:
the folder beside the package folders); when the file is not there, the caller
gets a message naming the folder, so a broken install fails loudly instead of
quietly predicting from random weights.
"""

from __future__ import annotations

from pathlib import Path

from .workspace import shipped_assets_dir

__all__ = ["DEFAULT_BUNDLE_NAME", "asset_folders", "find_asset", "missing_asset_message", "mtcnn_weights_dir"]

DEFAULT_BUNDLE_NAME = "attricam-default.pt"


def asset_folders() -> tuple[Path, ...]:
    """The checkout's ``assets/``, or the installed package's ``attricam/assets/`` (:mod:`attricam.engine.workspace`)."""
    return (shipped_assets_dir(),)


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


def mtcnn_weights_dir() -> Path:
    """The folder of MTCNN's ``pnet.pt``, ``rnet.pt`` and ``onet.pt`` state dicts.

    They are facenet-pytorch 2.6.0's weights (MIT, its licence beside them in ``assets/mtcnn/``),
    shipped with AttriCam so that facenet-pytorch, which pins torch<2.3 and pulls in torchvision and
    requests, is no runtime dependency.
    """
    for folder in asset_folders():
        if all((folder / "mtcnn" / f"{net}.pt").is_file() for net in ("pnet", "rnet", "onet")):
            return folder / "mtcnn"
    folders = " or ".join(str(f / "mtcnn") for f in asset_folders())
    raise FileNotFoundError(f"MTCNN's weights pnet.pt, rnet.pt and onet.pt are missing (looked in {folders})")
