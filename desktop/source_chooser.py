"""Which source the live tab opens: dropped or chosen paths, the first one after the camera scan, the last one.

The chooser only decides and remembers (recent sources, the last source, where the dialogs were); it asks for
a source with ``openRequested`` and the live tab sends it to the worker, so every open is one request the busy
sign and the keys wait for.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from .empty_state import EmptyState
from .live_session import LiveSession
from .live_worker import LiveWorker
from .settings import AppSettings
from .source_bar import SourceBar
from .source_dialogs import ask_folder, ask_images, ask_video
from .sources import SourceKind, SourceSpec, classify_paths

__all__ = ["SourceChooser"]


class SourceChooser(QObject):
    openRequested = Signal(object)  # SourceSpec
    problem = Signal(str)  # why nothing was opened, for the user

    def __init__(
        self,
        settings: AppSettings,
        session: LiveSession,
        worker: LiveWorker,
        source_bar: SourceBar,
        empty_state: EmptyState,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._window = parent
        self._settings, self._session, self._worker = settings, session, worker
        self._source_bar, self._empty_state = source_bar, empty_state
        self.cameras: list[int] | None = None
        """The camera indices the last scan found; None before the first scan answered."""
        self.initial: SourceSpec | None = None
        """What the live tab was started with (the command line): no camera or remembered source replaces it."""
        self._pending_recent: tuple[SourceSpec, list[str]] | None = None

    def open_paths(self, paths: list[str]) -> bool:
        """Dropped or chosen files or folders; False (with a ``problem``) when none is usable."""
        spec = classify_paths(paths)
        if spec is None:
            self.problem.emit("Nothing to open: drop image or video files, or a folder holding some")
            return False
        self._pending_recent = (spec, [str(p) for p in paths])
        self.openRequested.emit(spec)
        return True

    def ask_folder(self) -> None:
        if paths := ask_folder(self._window, self._settings):
            self.open_paths(paths)

    def ask_video(self) -> None:
        if paths := ask_video(self._window, self._settings):
            self.open_paths(paths)

    def ask_images(self) -> None:
        if paths := ask_images(self._window, self._settings):
            self.open_paths(paths)

    def rescan(self) -> None:
        self._empty_state.set_scanning()
        self._worker.rescan_cameras()

    def cameras_found(self, indices: list[int]) -> None:
        first_scan = self.cameras is None
        self.cameras = list(indices)
        self._source_bar.set_cameras(indices)
        session = self._session
        if session.spec is None and not session.unreadable:
            self._empty_state.set_idle() if indices else self._empty_state.set_no_camera()
        if first_scan and self.initial is None and not session.unreadable:
            self._open_first(indices)  # else already asked for by start(), or that failed: no camera replaces it

    def _open_first(self, cameras: list[int]) -> None:
        """After the first camera scan: the remembered camera, else the first one found; a remembered file is
        not resumed behind the user's back: the empty state offers it (File > Open recent too)."""
        remembered = SourceSpec.from_text(self._settings.last_source)
        if remembered is not None and remembered.kind == SourceKind.CAMERA and remembered.camera in cameras:
            self._source_bar.set_resolution(remembered.resolution)
            self.openRequested.emit(remembered)
        elif cameras and (camera := self._source_bar.camera_spec()) is not None:
            self.openRequested.emit(camera)
        elif remembered is not None and remembered.kind != SourceKind.CAMERA and remembered.exists():
            self._empty_state.set_reopen(remembered.label)

    def reopen_last(self) -> None:
        remembered = SourceSpec.from_text(self._settings.last_source)
        if remembered is not None and remembered.exists():
            self.openRequested.emit(remembered)
        else:
            self._empty_state.set_reopen("")
            self.problem.emit("The last source is gone; open another one")

    def source_opened(self, spec: SourceSpec) -> None:
        """Remember ``spec`` as the last source, and what the user chose as a recent one (a folder stays one)."""
        if self._pending_recent is not None and self._pending_recent[0] == spec:
            self._settings.add_recent_source(self._pending_recent[1])
        self._pending_recent = None
        self._settings.last_source = spec.to_text()
