"""AttriCam's main window: Live, Training and Dashboard tabs, menus, shortcuts, drag and drop."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QWidget,
)

from attricam.engine.bundle import ModelBundle
from attricam.training.config import CELEBA_IMAGE_DIR

from . import shortcuts as keys
from .cpu_share import CpuShare
from .live_tab import LiveTab
from .live_worker import LiveWorker
from .model_files import bundle_label, choose_bundle
from .settings import AppSettings
from .shortcut_guard import ShortcutGuard
from .sources import SourceSpec

if TYPE_CHECKING:  # imported when the window is built (below), after the Live tab
    from .dashboard_tab import DashboardTab
    from .training_tab import TrainingTab

__all__ = ["SHORTCUTS", "MainWindow"]

SHORTCUTS: tuple[tuple[str, str], ...] = tuple((s.label, s.does) for s in keys.ALL)
"""(keys, what they do) as Help lists them; the table itself is :mod:`attricam.desktop.shortcuts`."""


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(
        self,
        settings: AppSettings,
        *,
        worker: LiveWorker | None = None,
        initial_source: SourceSpec | None = None,
        startup_error: str = "",
        training_tab: TrainingTab | None = None,
        dashboard_tab: DashboardTab | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.setWindowTitle("AttriCam")
        self.setAcceptDrops(True)
        self.settings = settings
        self.live = LiveTab(settings, worker)
        from .dashboard_tab import DashboardTab
        from .training_tab import TrainingTab

        self.training = training_tab or TrainingTab(settings)
        self.dashboard = dashboard_tab or DashboardTab(settings)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.live, "Live")
        # Their forms and plots are taller than a 1280x720 screen leaves: they scroll instead of making the
        # whole window (and the Live tab) too tall to fit.
        self.tabs.addTab(_scrolling(self.training), "Training")
        self.tabs.addTab(_scrolling(self.dashboard), "Dashboard")
        self.setCentralWidget(self.tabs)
        self.model_label = QLabel("model: loading…")
        self.statusBar().addPermanentWidget(self.model_label)

        self.live.message.connect(self.statusBar().showMessage)
        self.live.modelChanged.connect(self._model_changed)
        self.training.loadBundleRequested.connect(self._load_bundle)
        self.training.compareBundleRequested.connect(self._compare_bundle)
        self.dashboard.set_live_bundle_source(lambda: self.live.bundle)
        jobs = [self.training.job, self.dashboard.job]
        self.cpu_share = CpuShare(self.tabs, self.live, self.live.worker, jobs, self)
        self._share_data_root()
        self._build_menus()
        self._build_shortcuts()
        self._restore_geometry()
        self._closed = False
        self.live.start(initial_source, error=startup_error)
        self.live.video.setFocus()

    def _share_data_root(self) -> None:
        """One CelebA root for the Training and Dashboard tabs: typing or browsing it in one shows in the other
        (and is remembered for both)."""
        edits = [self.training.form.data_root, self.dashboard.root_edit]
        for edit in edits:
            others = [other for other in edits if other is not edit]
            edit.textChanged.connect(lambda text, others=others: self._data_root_changed(text, others))

    def _data_root_changed(self, text: str, others: list[QLineEdit]) -> None:
        for other in others:
            if other.text() != text:
                other.setText(text)
        if (Path(text.strip()) / CELEBA_IMAGE_DIR).is_dir():  # remembered once it names a CelebA root
            self.settings.data_root = text.strip()

    # ------------------------------------------------------------------ menus and keys
    def _build_menus(self) -> None:
        live = self.live
        file_menu = self.menuBar().addMenu("&File")
        self._add_action(file_menu, "Open &images…", live.open_images_dialog, keys.OPEN_IMAGES)
        self._add_action(file_menu, "Open &video…", live.open_video_dialog, keys.OPEN_VIDEO)
        self.open_folder_action = self._add_action(
            file_menu, "Open &folder…", live.open_folder_dialog, keys.OPEN_FOLDER
        )
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        # S itself is a Live-tab key: the menu only names it
        self.snapshot_action = self._add_action(file_menu, f"&Snapshot\t{keys.SNAPSHOT.label}", live.snapshot)
        self._add_action(file_menu, "Export &folder…", live.choose_export_folder)
        self._add_action(file_menu, "&Quit", self.close, keys.QUIT)
        model_menu = self.menuBar().addMenu("&Model")
        self._add_action(model_menu, "&Load model bundle…", self.open_bundle_dialog, keys.LOAD_MODEL)
        self._add_action(model_menu, "Back to the &default model", lambda: self._load_bundle(None))
        model_menu.addSeparator()
        self._add_action(model_menu, "&Compare with a second model…", self._choose_compare_bundle, keys.COMPARE)
        self.stop_compare_action = self._add_action(
            model_menu, "&Stop comparing", lambda: live.load_compare_bundle(None)
        )
        self.stop_compare_action.setEnabled(False)
        live.worker.compareChanged.connect(lambda bundle: self.stop_compare_action.setEnabled(bundle is not None))
        self.help_menu = self.menuBar().addMenu("&Help")
        self._add_action(self.help_menu, "&Keyboard shortcuts", self._show_shortcuts)
        self._add_action(self.help_menu, "&About AttriCam", self._show_about)

    def _add_action(
        self,
        menu: QMenu,
        text: str,
        slot: Callable[[], object],
        shortcut: keys.Shortcut | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut.keys[0]))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        entries = [e for e in self.settings.recent_sources if all(Path(p).exists() for p in e)]
        for paths in entries:
            first = Path(paths[0])
            text = f"{first.name}/  ({first.parent})" if first.is_dir() else f"{first.name}  ({first.parent})"
            if len(paths) > 1:
                text = f"{len(paths)} items from {first.parent}"
            action = self.recent_menu.addAction(text)
            action.setToolTip("\n".join(paths))
            action.triggered.connect(lambda _=False, p=paths: self._open_recent(p))
        if not entries:
            self.recent_menu.addAction("(nothing opened yet)").setEnabled(False)

    def _open_recent(self, paths: list[str]) -> None:
        if self.live.open_paths(paths):
            self.tabs.setCurrentWidget(self.live)

    def _build_shortcuts(self) -> None:
        live = self.live
        bindings: list[tuple[keys.Shortcut, tuple[Callable[[], object], ...]]] = [
            (keys.PAUSE, (live.toggle_pause,)),
            (keys.SNAPSHOT, (live.snapshot,)),
            (keys.ATTRIBUTE, (lambda: live.step_attribute(-1), lambda: live.step_attribute(1))),
            (keys.STEP, (lambda: live.step(-1), lambda: live.step(1))),
            (keys.NO_OVERLAY, (lambda: live.select_attribute(None),)),
            (keys.BACK, (live.back_to_filmstrip,)),
            (keys.LANDMARKS, (live.toggle_landmarks,)),
            (keys.EXPLORER, (live.toggle_explorer,)),
            (keys.NEXT_FACE, (live.next_face,)),
            (keys.TABS, tuple(partial(self.tabs.setCurrentIndex, i) for i in range(3))),
        ]
        self._shortcuts = []
        for entry, slots in bindings:
            for key, slot in zip(entry.keys, slots, strict=True):
                shortcut = QShortcut(QKeySequence(key), self if entry.window_wide else self.live)
                shortcut.setContext(
                    Qt.ShortcutContext.WindowShortcut
                    if entry.window_wide
                    else Qt.ShortcutContext.WidgetWithChildrenShortcut
                )
                shortcut.activated.connect(slot)
                self._shortcuts.append(shortcut)
        self.tabs.currentChanged.connect(self._tab_changed)
        self._guard = ShortcutGuard(self)
        _application().installEventFilter(self._guard)

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.live:
            self.live.video.setFocus()

    def _show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{s.label}</b></td><td>&nbsp;&nbsp;{s.does}</td></tr>" for s in keys.ALL)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{rows}</table>")

    def about_text(self) -> str:
        import platform
        from importlib.metadata import version

        import PySide6

        from attricam import __version__

        bundle = self.live.bundle
        model = f"{bundle_label(bundle)} ({'trained' if bundle.trained else 'untrained'})" if bundle else "loading…"
        return (
            f"<h3>AttriCam {__version__}</h3>"
            "<p>Live facial-attribute analysis you can look inside: 40 CelebA attributes from a cross-attention "
            "model, with the attention map of each.</p>"
            f"<p>Model: {model}<br>Python {platform.python_version()} · PySide6 {PySide6.__version__} · "
            f"PyTorch {version('torch')} · onnxruntime {version('onnxruntime')}</p>"
        )

    def _show_about(self) -> None:
        QMessageBox.about(self, "About AttriCam", self.about_text())

    # ------------------------------------------------------------------ model
    def _load_bundle(self, bundle: ModelBundle | None) -> None:
        self.live.load_bundle(bundle)
        self.tabs.setCurrentWidget(self.live)

    def _compare_bundle(self, bundle: ModelBundle | None) -> None:
        self.live.load_compare_bundle(bundle)
        self.tabs.setCurrentWidget(self.live)

    def _choose_compare_bundle(self) -> None:
        self.tabs.setCurrentWidget(self.live)
        self.live.choose_compare_bundle()

    def open_bundle_dialog(self) -> None:
        """Model > Load model bundle…: any saved ``.pt`` (a run folder's model.pt, a colleague's bundle)."""
        start = self.settings.value("model/open_folder", "runs", str)
        bundle, problem = choose_bundle(self, start)
        if problem:
            self.live.show_error(problem)
        if bundle is not None:
            self.settings.set_value("model/open_folder", str(bundle.path.parent) if bundle.path else "runs")
            self._load_bundle(bundle)

    def _model_changed(self, bundle: ModelBundle) -> None:
        state = "trained" if bundle.trained else "UNTRAINED (random weights)"
        self.model_label.setText(f"model: {bundle_label(bundle)} · {state}")
        self.model_label.setToolTip(str(bundle.path) if bundle.path else bundle.name)
        if self.statusBar().currentMessage().startswith("Loading model"):
            self.statusBar().clearMessage()  # the permanent label says it now
        self.dashboard.set_bundle(bundle)
        self.training.set_live_bundle(bundle)

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and self.live.open_paths(paths):
            self.tabs.setCurrentWidget(self.live)
            event.acceptProposedAction()

    # ------------------------------------------------------------------ geometry and close
    def _restore_geometry(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        if screen is not None and not screen.isEmpty():  # e.g. a 1280x720 screen, or geometry from a larger one
            frame = self.frameGeometry().size() - self.geometry().size()
            self.resize(
                min(self.width(), screen.width() - frame.width()), min(self.height(), screen.height() - frame.height())
            )
        tab = self.settings.value("window/tab", 0, int)
        self.tabs.setCurrentIndex(tab if 0 <= tab < self.tabs.count() else 0)

    def shutdown(self) -> None:
        """Stop every worker (joined) and save settings; idempotent."""
        if self._closed:
            return
        self._closed = True
        _application().removeEventFilter(self._guard)
        self.cpu_share.close()
        self.live.shutdown()
        self.training.shutdown()
        self.dashboard.shutdown()
        self.settings.set_value("window/geometry", self.saveGeometry())
        self.settings.set_value("window/tab", self.tabs.currentIndex())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.training.confirm_close():
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()


def _application() -> QApplication:
    """The running application (a window exists only inside one)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("no QApplication: create one before the window")
    return app


def _scrolling(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area that resizes it: scroll bars only below its minimum size."""
    area = QScrollArea()
    area.setObjectName(f"{widget.objectName() or type(widget).__name__}Scroll")
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setWidget(widget)
    return area
