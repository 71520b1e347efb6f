"""Persistent preferences (QSettings): last source, overlay, sort/filter, geometry, export folder.

The window takes a ``QSettings`` instance so tests can point it at a temporary
INI file; the app uses the platform's native store under AttriCam/AttriCam.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, overload

from PySide6.QtCore import QSettings

__all__ = ["AppSettings", "default_settings"]

T = TypeVar("T")


def default_settings() -> QSettings:
    return QSettings("AttriCam", "AttriCam")


class AppSettings:
    """Typed access to the keys the app uses; unknown or corrupt values fall back to defaults."""

    def __init__(self, store: QSettings) -> None:
        self.store = store

    def _get(self, key: str, default: T, kind: Callable[[Any], T]) -> T:
        """``kind(stored value)``; ``kind`` takes Any: QSettings gives back whatever the backend stored."""
        value = self.store.value(key, default)
        if value is None:  # a null stored under the key
            return default
        try:
            if kind is bool and isinstance(value, str):
                return kind(value.lower() == "true")
            return kind(value)
        except (TypeError, ValueError):
            return default

    # last source ("camera:0:640x480", "video:/path", "images:/a.jpg:/b.jpg")
    @property
    def last_source(self) -> str:
        return self._get("live/last_source", "", str)

    @last_source.setter
    def last_source(self, text: str) -> None:
        self.store.setValue("live/last_source", text)

    @property
    def overlay(self) -> dict[str, object]:
        self.store.beginGroup("overlay")
        try:
            return {key: self.store.value(key) for key in self.store.childKeys()}
        finally:
            self.store.endGroup()

    @overlay.setter
    def overlay(self, state: Mapping[str, object]) -> None:
        self.store.beginGroup("overlay")
        for key, value in state.items():
            self.store.setValue(key, value)
        self.store.endGroup()

    @property
    def sort(self) -> str:
        return self._get("attributes/sort", "probability", str)

    @sort.setter
    def sort(self, value: str) -> None:
        self.store.setValue("attributes/sort", value)

    @property
    def filter(self) -> str:
        return self._get("attributes/filter", "all", str)

    @filter.setter
    def filter(self, value: str) -> None:
        self.store.setValue("attributes/filter", value)

    @property
    def export_folder(self) -> str:
        fallback = Path.home() / "Pictures" / "AttriCam"
        return self._get("export/folder", str(fallback), str)

    @export_folder.setter
    def export_folder(self, folder: str) -> None:
        self.store.setValue("export/folder", folder)

    @property
    def data_root(self) -> str:
        """The CelebA root the Training and Dashboard tabs share; "" when never set (they show the default). Reads
        the two keys each tab kept before they shared one."""
        for key in ("data/celeba_root", "training/data_root", "dashboard/data_root"):
            if value := self._get(key, "", str):
                return str(value)
        return ""

    @data_root.setter
    def data_root(self, root: str) -> None:
        self.store.setValue("data/celeba_root", root)

    @property
    def open_folder(self) -> str:
        return self._get("live/open_folder", str(Path.home()), str)

    @open_folder.setter
    def open_folder(self, folder: str) -> None:
        self.store.setValue("live/open_folder", folder)

    @property
    def recent_sources(self) -> list[list[str]]:
        """Most recent first: the paths of each file/folder selection the user opened (JSON in one key)."""
        try:
            entries = json.loads(self._get("live/recent", "[]", str))
        except ValueError:
            return []
        if not isinstance(entries, list):
            return []
        return [[str(p) for p in e] for e in entries if isinstance(e, list) and e]

    def add_recent_source(self, paths: list[str], keep: int = 8) -> None:
        entry = [str(p) for p in paths]
        entries = [entry] + [e for e in self.recent_sources if e != entry]
        self.store.setValue("live/recent", json.dumps(entries[:keep]))

    @overload
    def value(self, key: str) -> object: ...
    @overload
    def value(self, key: str, default: T, kind: Callable[[Any], T]) -> T: ...
    def value(self, key: str, default: object = None, kind: Callable[[Any], object] | None = None) -> object:
        """The stored value as is, or converted by ``kind`` (``default`` when missing, null or not convertible)."""
        return self.store.value(key, default) if kind is None else self._get(key, default, kind)

    def set_value(self, key: str, value: object) -> None:
        self.store.setValue(key, value)

    def sync(self) -> None:
        self.store.sync()
