"""The live tab's picture area: the empty state while no source is open, else the video and the attention
explorer as two tabs (G switches between them)."""

from __future__ import annotations

from PySide6.QtWidgets import QStackedWidget, QTabWidget, QWidget

from .attention_grid import AttentionExplorer
from .empty_state import EmptyState
from .video_view import VideoView

__all__ = ["LiveViews"]


class LiveViews(QStackedWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_state = EmptyState()
        self.empty_state.set_scanning()
        self.video = VideoView()
        self.explorer = AttentionExplorer()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.video, "Video")
        self.tabs.addTab(self.explorer, "Attention explorer (G)")
        self.addWidget(self.empty_state)
        self.addWidget(self.tabs)

    def show_source(self, opened: bool) -> None:
        """The picture tabs while a source is open, the empty state (how to go on) when none is."""
        self.setCurrentWidget(self.tabs if opened else self.empty_state)

    @property
    def explorer_shown(self) -> bool:
        return self.tabs.currentWidget() is self.explorer

    def toggle_explorer(self) -> None:
        self.tabs.setCurrentIndex(1 - self.tabs.currentIndex())
