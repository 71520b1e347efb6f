"""What the live tab shows when there is nothing to analyse yet: how to continue, not an error."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["EmptyState"]


class EmptyState(QWidget):
    openVideoRequested = Signal()
    openImagesRequested = Signal()
    rescanRequested = Signal()
    reopenRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EmptyState")
        self.headline = QLabel("Looking for cameras…")
        self.headline.setObjectName("EmptyStateHeadline")
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.headline.setStyleSheet("font-size: 18pt; font-weight: bold;")
        self.hint = QLabel("")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("font-size: 11pt; color: gray;")
        self.open_video = QPushButton("Open video…")
        self.open_images = QPushButton("Open images…")
        self.rescan = QPushButton("Look for cameras again")
        self.reopen = QPushButton("")
        self.reopen.setObjectName("ReopenButton")
        self.reopen.hide()
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.reopen, self.open_video, self.open_images, self.rescan):
            button.setMinimumHeight(32)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self.headline)
        layout.addSpacing(8)
        layout.addWidget(self.hint)
        layout.addSpacing(16)
        layout.addLayout(buttons)
        layout.addStretch(3)
        self.open_video.clicked.connect(self.openVideoRequested)
        self.open_images.clicked.connect(self.openImagesRequested)
        self.rescan.clicked.connect(self.rescanRequested)
        self.reopen.clicked.connect(self.reopenRequested)
        self.set_no_camera()

    def set_reopen(self, label: str) -> None:
        """Offer the source of the last session ("Reopen clip.mp4"); empty hides the button."""
        self.reopen.setText(f"Reopen {label}" if label else "")
        self.reopen.setVisible(bool(label))

    def set_no_camera(self) -> None:
        self.headline.setText("No camera found")
        self.hint.setText(
            "Open a video, some photos or a folder (Ctrl+O), or drop files or folders anywhere on this window.\n"
            "Several images become a filmstrip you step through with ← and →."
        )

    def set_unreadable(self, reason: str, *, is_file: bool = True) -> None:
        """The source the user asked for could not be opened: say that, not "No camera found"."""
        self.headline.setText("This file cannot be read" if is_file else "This source cannot be opened")
        self.hint.setText(reason + "\n\nOpen another file (Ctrl+O), a folder, or drop one here.")

    def set_scanning(self) -> None:
        self.headline.setText("Looking for cameras…")
        self.hint.setText("You can already open or drop a video or images.")

    def set_idle(self) -> None:
        self.headline.setText("No source")
        self.hint.setText("Pick a camera above, open a video or images (Ctrl+O), or drop files on this window.")
