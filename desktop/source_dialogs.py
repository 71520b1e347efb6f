"""File dialogs of the live tab: a folder, a video or images to analyse, and the folder snapshots go to.

Each starts where the last one of its kind ended and remembers where this one did; each returns what was chosen
(empty when the dialog was cancelled).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from attricam.engine.image_io import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

from .settings import AppSettings

__all__ = ["ask_export_folder", "ask_folder", "ask_images", "ask_video"]


def _patterns(extensions: Iterable[str]) -> str:
    return " ".join(f"*{e}" for e in sorted(extensions))


def ask_folder(parent: QWidget, settings: AppSettings) -> list[str]:
    """A folder of images and videos (searched recursively)."""
    folder = QFileDialog.getExistingDirectory(
        parent, "Open folder (images and videos, recursive)", settings.open_folder
    )
    if not folder:
        return []
    settings.open_folder = folder
    return [folder]


def ask_video(parent: QWidget, settings: AppSettings) -> list[str]:
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open video", settings.open_folder, f"Videos ({_patterns(VIDEO_EXTENSIONS)});;All files (*)"
    )
    if not path:
        return []
    settings.open_folder = str(Path(path).parent)
    return [path]


def ask_images(parent: QWidget, settings: AppSettings) -> list[str]:
    paths, _ = QFileDialog.getOpenFileNames(
        parent, "Open images", settings.open_folder, f"Images ({_patterns(IMAGE_EXTENSIONS)});;All files (*)"
    )
    if paths:
        settings.open_folder = str(Path(paths[0]).parent)
    return list(paths)


def ask_export_folder(parent: QWidget, settings: AppSettings) -> str:
    """Where snapshots (PNG + JSON) go."""
    folder = QFileDialog.getExistingDirectory(parent, "Export folder", settings.export_folder)
    if folder:
        settings.export_folder = folder
    return folder
