"""Source toolbar: camera and resolution pickers, open file, filmstrip navigation, play controls."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from .sources import CAMERA_RESOLUTIONS, SourceSpec

__all__ = ["SourceBar"]


class SourceBar(QWidget):
    cameraChosen = Signal(object)  # SourceSpec
    openVideoRequested = Signal()
    openImagesRequested = Signal()
    pauseToggled = Signal(bool)
    stepRequested = Signal(int)
    snapshotRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SourceBar")
        self.camera_box = QComboBox()
        self.camera_box.setMinimumWidth(130)
        self.camera_box.addItem("Looking for cameras…", None)
        self.resolution_box = QComboBox()
        for w, h in CAMERA_RESOLUTIONS:
            self.resolution_box.addItem(f"{w}x{h}", (w, h))
        self.open_video = QPushButton("Open video…")
        self.open_images = QPushButton("Open images…")
        self.prev_button = QToolButton(text="◀")
        self.prev_button.setToolTip("Previous image / step back (←)")
        self.next_button = QToolButton(text="▶")
        self.next_button.setToolTip("Next image / single step (→)")
        self.position = QLabel("")
        self.position.setMinimumWidth(120)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Pause / resume (Space)")
        self.snapshot_button = QPushButton("Snapshot")
        self.snapshot_button.setToolTip("Save the annotated frame as PNG + JSON (S)")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(QLabel("Camera"))
        layout.addWidget(self.camera_box)
        layout.addWidget(self.resolution_box)
        layout.addSpacing(8)
        layout.addWidget(self.open_video)
        layout.addWidget(self.open_images)
        layout.addSpacing(8)
        layout.addWidget(self.prev_button)
        layout.addWidget(self.next_button)
        layout.addWidget(self.position, 1)
        layout.addWidget(self.pause_button)
        layout.addWidget(self.snapshot_button)

        self.camera_box.activated.connect(self._camera_activated)
        self.resolution_box.activated.connect(self._camera_activated)
        self.open_video.clicked.connect(self.openVideoRequested)
        self.open_images.clicked.connect(self.openImagesRequested)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.prev_button.clicked.connect(lambda: self.stepRequested.emit(-1))
        self.next_button.clicked.connect(lambda: self.stepRequested.emit(1))
        self.snapshot_button.clicked.connect(self.snapshotRequested)

    def set_cameras(self, indices: list[int]) -> None:
        self.camera_box.clear()
        if not indices:
            self.camera_box.addItem("No camera", None)
        for index in indices:
            self.camera_box.addItem(f"Camera {index}", index)
        self.camera_box.setEnabled(bool(indices))
        self.resolution_box.setEnabled(bool(indices))

    def set_resolution(self, resolution: tuple[int, int]) -> None:
        index = self.resolution_box.findData(tuple(resolution))
        if index >= 0:
            self.resolution_box.setCurrentIndex(index)

    def camera_spec(self) -> SourceSpec | None:
        index = self.camera_box.currentData()
        if index is None:
            return None
        return SourceSpec("camera", camera=int(index), resolution=tuple(self.resolution_box.currentData()))

    def set_paused(self, paused: bool) -> None:
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.blockSignals(False)

    def set_source_kind(self, kind: str | None) -> None:
        """Filmstrips step both ways; live sources step forward only while paused."""
        self.prev_button.setEnabled(kind == "images")
        self.next_button.setEnabled(kind is not None)
        self.pause_button.setEnabled(kind in ("camera", "video"))
        self.snapshot_button.setEnabled(kind is not None)

    def _camera_activated(self, *_) -> None:
        spec = self.camera_spec()
        if spec is not None:
            self.cameraChosen.emit(spec)

    def _pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pauseToggled.emit(paused)
