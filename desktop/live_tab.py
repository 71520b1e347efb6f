"""Live tab: source bar, video (or attention explorer), faces, overlay controls and the attribute panel.

Owns the :class:`~attricam.desktop.live_worker.LiveWorker` and a headless
:class:`~attricam.desktop.live_session.LiveSession` (source, frame on screen, selected
face, pause). A 60 Hz timer takes the newest packet from the worker's mailbox
and shows it (latest frame wins); every control change is sent to the worker
as an immutable ``RenderOptions``. Child widgets are driven through their
public methods only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from attricam.engine.bundle import ModelBundle
from attricam.engine.image_io import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

from .attention_grid import AttentionExplorer
from .attribute_panel import AttributePanel
from .comparison_panel import ComparisonPanel
from .empty_state import EmptyState
from .face_list import FaceList
from .live_hud import ShownRate, hud_lines
from .live_protocol import LivePacket, LiveStatus, StatusKind
from .live_session import LiveSession
from .live_worker import LiveWorker
from .model_files import bundle_label, choose_bundle
from .overlay_controls import OverlayControls
from .settings import AppSettings
from .source_bar import SourceBar
from .sources import SourceKind, SourceSpec, classify_paths
from .video_view import VideoView, fit_size

__all__ = ["LiveTab"]

_PAINT_INTERVAL_MS = 15
_PANEL_INTERVAL_S = 0.1
_BUSY_AFTER_S = 0.3
"""An analysis that takes longer than this gets a busy sign over the picture (a slow still, a model swap)."""
_INFO_MS, _ERROR_MS = 4000, 10000
"""How long a status toast stays over the picture; errors too expire, the picture under them is valid."""


class _SidePanelLayout(QVBoxLayout):
    """The side panels' column: as tall as its scroll area, or its minimum height. A word-wrapped legend gives a
    layout height-for-width, and a scroll area then sizes it to its preferred height (every attribute row),
    scrolling the whole column at any window size instead of the attribute list alone."""

    def hasHeightForWidth(self) -> bool:
        return False


class _SidePanelScroll(QScrollArea):
    """The side panels' scroll area: never narrower than their widest row plus the vertical scroll bar, so on a
    short window they scroll up and down but never sideways (the panels take the viewport's width)."""

    def minimumSizeHint(self) -> QSize:
        hint, panels = super().minimumSizeHint(), self.widget()
        if panels is None:
            return hint
        width = panels.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width() + 2 * self.frameWidth()
        return QSize(width, hint.height())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # the panels' minimum may have changed: tell the splitter
            self.updateGeometry()
        return super().event(event)


def _patterns(extensions: Iterable[str]) -> str:
    return " ".join(f"*{e}" for e in sorted(extensions))


class LiveTab(QWidget):
    frameShown = Signal(int)  # frames shown so far
    modelChanged = Signal(object)  # ModelBundle
    message = Signal(str, int)  # text for the status bar, timeout ms

    def __init__(self, settings: AppSettings, worker: LiveWorker | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LiveTab")
        self.settings = settings
        self.worker = worker or LiveWorker()
        self.session = LiveSession()
        self.bundle: ModelBundle | None = None
        self.compare_bundle: ModelBundle | None = None
        """The second model whose answers stand beside the live model's (Compare A | B), or None."""
        self.frames_shown = 0
        self._cameras: list[int] | None = None
        self._initial: SourceSpec | None = None  # what start() was asked to open first
        self._shown_rate = ShownRate()
        self._panels_shown = 0.0
        self._pending_recent: tuple[SourceSpec, list[str]] | None = None
        self._busy_since = 0.0
        self._shown_fps = 0.0
        self._hud_sent: tuple[int, int, int, int] | None = None
        self.panel_serial = 0
        """Serial of the packet the toolbar, face list and attribute panel describe (the HUD's is ``packet``)."""

        self.source_bar = SourceBar()
        self.empty_state = EmptyState()
        self.empty_state.set_scanning()
        self.video = VideoView()
        self.explorer = AttentionExplorer()
        self.view_tabs = QTabWidget()
        self.view_tabs.addTab(self.video, "Video")
        self.view_tabs.addTab(self.explorer, "Attention explorer (G)")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_state)
        self.stack.addWidget(self.view_tabs)

        self.face_list = FaceList()
        self.overlay = OverlayControls()
        self.attributes = AttributePanel()
        self.comparison = ComparisonPanel()
        self.side_tabs = QTabWidget()
        self.side_tabs.setDocumentMode(True)
        self.side_tabs.addTab(self.attributes, "Attributes")
        self.side_tabs.addTab(self.comparison, "Compare A | B")
        side = QWidget()
        side_layout = _SidePanelLayout(side)
        side_layout.setContentsMargins(4, 0, 0, 0)
        for title, widget, stretch in (
            ("Faces (click one in the video or here)", self.face_list, 0),
            ("Attention overlay", self.overlay, 0),
            ("Attributes of the selected face", self.side_tabs, 1),
        ):
            box = QGroupBox(title)
            inner = QVBoxLayout(box)
            inner.setContentsMargins(6, 4, 6, 4)
            inner.addWidget(widget)
            side_layout.addWidget(box, stretch)
        splitter = QSplitter()
        splitter.addWidget(self.stack)
        side_scroll = _SidePanelScroll()  # on a small screen (1280x720 at 125 %) the panels scroll, never the window
        side_scroll.setObjectName("LiveSidePanel")
        side_scroll.setWidget(side)
        side_scroll.setWidgetResizable(True)
        side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        splitter.addWidget(side_scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([760, 520])
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.source_bar)
        row = QHBoxLayout()
        row.addWidget(splitter)
        layout.addLayout(row, 1)

        self._restore()
        self._connect()
        self.source_bar.set_source_kind(None)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.setInterval(_INFO_MS)
        self._message_timer.timeout.connect(lambda: self.video.set_message(""))
        self._busy_timer = QTimer(self)
        self._busy_timer.setInterval(100)
        self._busy_timer.timeout.connect(self._busy_tick)
        self._timer = QTimer(self)
        self._timer.setInterval(_PAINT_INTERVAL_MS)
        self._timer.timeout.connect(self._show_latest)

    # ------------------------------------------------------------------ session state (read-only views)
    @property
    def packet(self) -> LivePacket | None:
        """The analysed frame on screen."""
        return self.session.packet

    @property
    def spec(self) -> SourceSpec | None:
        return self.session.spec

    @property
    def paused(self) -> bool:
        return self.session.paused

    @property
    def selected_face(self) -> int | None:
        return self.session.selected_face

    @property
    def busy(self) -> bool:
        """A frame-changing request (open, step, seek, model) is still being analysed."""
        return self.session.busy

    @property
    def unreadable(self) -> str:
        """Why the last source could not be opened while nothing is on screen ("" when all is well)."""
        return self.session.unreadable

    # ------------------------------------------------------------------ lifecycle
    def start(self, initial: SourceSpec | None = None, error: str = "") -> None:
        """Start the worker; ``initial`` (e.g. from the command line) beats the remembered source.

        ``error``: why the source asked for on the command line cannot be opened; the empty state says so and
        no camera replaces it."""
        self._initial = initial
        self._push_options()
        if initial is not None:
            self.open_source(initial)  # queued: runs as soon as the model has loaded
        if error:
            self.session.unreadable = error
            self.empty_state.set_unreadable(error)
            self.message.emit(error, 0)
        self.worker.start()
        self._timer.start()

    def shutdown(self) -> None:
        """Stop the paint timer and join the worker thread; safe to call twice."""
        self._timer.stop()
        self._message_timer.stop()
        self._busy_timer.stop()
        self.worker.stop()
        self._save()

    def _connect(self) -> None:
        w = self.worker
        w.camerasFound.connect(self._cameras_found)
        w.modelChanged.connect(self._model_changed)
        w.sourceOpened.connect(self._source_opened)
        w.sourceClosed.connect(self._source_closed)
        w.status.connect(self._status)
        w.snapshotSaved.connect(self._snapshot_saved)
        w.snapshotFailed.connect(self._snapshot_failed)
        w.requestDone.connect(self._request_done)
        w.ended.connect(self._ended)
        w.compareChanged.connect(self._compare_changed)
        w.finished.connect(lambda: self._request_done(self.session.awaiting))  # nothing more will come
        bar = self.source_bar
        bar.cameraChosen.connect(self.open_source)
        bar.openVideoRequested.connect(self.open_video_dialog)
        bar.openImagesRequested.connect(self.open_images_dialog)
        bar.pauseToggled.connect(self.set_paused)
        bar.stepRequested.connect(self.step)
        bar.snapshotRequested.connect(self.snapshot)
        bar.seekRequested.connect(self.seek)
        bar.loopToggled.connect(self._loop_toggled)
        bar.playItemRequested.connect(self.play_strip_video)
        bar.backRequested.connect(self.back_to_filmstrip)
        self.empty_state.openVideoRequested.connect(self.open_video_dialog)
        self.empty_state.openImagesRequested.connect(self.open_images_dialog)
        self.empty_state.rescanRequested.connect(self._rescan)
        self.empty_state.reopenRequested.connect(self._reopen_last)
        self.video.faceClicked.connect(self.select_face)
        self.video.resized.connect(self.worker.set_view_size)
        self.face_list.faceSelected.connect(self.select_face)
        self.overlay.changed.connect(self._overlay_changed)
        self.attributes.attributeClicked.connect(self.select_attribute)
        self.attributes.orderChanged.connect(self._order_changed)
        self.comparison.attributeClicked.connect(self.select_attribute)
        self.comparison.chooseRequested.connect(self.choose_compare_bundle)
        self.comparison.stopRequested.connect(lambda: self.load_compare_bundle(None))
        self.explorer.attributeClicked.connect(self.select_attribute)
        self.view_tabs.currentChanged.connect(lambda _: self._push_options())

    def _restore(self) -> None:
        loop = self.settings.value("live/loop", True, bool)
        self.source_bar.set_loop(loop)
        self.worker.set_loop(loop)
        self.overlay.restore(self.settings.overlay)
        self.attributes.set_order(self.settings.sort, self.settings.filter)
        self.explorer.set_filter(self.settings.filter)
        self.attributes.set_selected_attribute(self.overlay.attribute)

    def _save(self) -> None:
        self.settings.overlay = self.overlay.state()
        self.settings.sort, self.settings.filter = self.attributes.sort, self.attributes.filter
        if self.spec is not None:
            self.settings.last_source = self.spec.to_text()

    # ------------------------------------------------------------------ sources
    def open_source(self, spec: SourceSpec) -> None:
        self._requested(self.worker.open_source(spec), spec.label)

    def open_paths(self, paths: list[str]) -> bool:
        """Dropped or chosen files or folders; False (with a message) when none is usable."""
        spec = classify_paths(paths)
        if spec is None:
            self.show_error("Nothing to open: drop image or video files, or a folder holding some")
            return False
        self._pending_recent = (spec, [str(p) for p in paths])
        self.open_source(spec)
        return True

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Open folder (images and videos, recursive)", self.settings.open_folder
        )
        if folder:
            self.settings.open_folder = folder
            self.open_paths([folder])

    def open_video_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open video", self.settings.open_folder, f"Videos ({_patterns(VIDEO_EXTENSIONS)});;All files (*)"
        )
        if path:
            self.settings.open_folder = str(Path(path).parent)
            self.open_paths([path])

    def open_images_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open images", self.settings.open_folder, f"Images ({_patterns(IMAGE_EXTENSIONS)});;All files (*)"
        )
        if paths:
            self.settings.open_folder = str(Path(paths[0]).parent)
            self.open_paths(paths)

    def _rescan(self) -> None:
        self.empty_state.set_scanning()
        self.worker.rescan_cameras()

    def _cameras_found(self, indices: list[int]) -> None:
        first_scan = self._cameras is None
        self._cameras = list(indices)
        self.source_bar.set_cameras(indices)
        if self.spec is None and not self.unreadable:
            self.empty_state.set_idle() if indices else self.empty_state.set_no_camera()
        if not first_scan:
            return
        initial = self._initial
        remembered = SourceSpec.from_text(self.settings.last_source)
        if initial is not None or self.unreadable:
            return  # already queued by start(), or what was asked for failed: no camera replaces it
        if remembered is not None and remembered.kind == SourceKind.CAMERA and remembered.camera in indices:
            self.source_bar.set_resolution(remembered.resolution)
            self.open_source(remembered)
        elif indices and (camera := self.source_bar.camera_spec()) is not None:  # the first camera found
            self.open_source(camera)
        elif remembered is not None and remembered.kind != SourceKind.CAMERA and remembered.exists():
            # A file is not resumed behind the user's back: the empty state offers it (File > Open recent too).
            self.empty_state.set_reopen(remembered.label)

    def _reopen_last(self) -> None:
        remembered = SourceSpec.from_text(self.settings.last_source)
        if remembered is not None and remembered.exists():
            self.open_source(remembered)
        else:
            self.empty_state.set_reopen("")
            self.show_error("The last source is gone; open another one")

    def set_loop(self, loop: bool, *, remember: bool = True) -> None:
        """Video files: play again from the start after the last frame, or stop there. ``remember=False``
        (headless runs) leaves the user's saved choice alone."""
        self.source_bar.blockSignals(True)
        self.source_bar.set_loop(loop)
        self.source_bar.blockSignals(False)
        if remember:
            self.settings.set_value("live/loop", loop)
        self.worker.set_loop(loop)

    def _source_opened(self, spec: SourceSpec) -> None:
        self.session.source_opened(spec)
        if self._pending_recent is not None and self._pending_recent[0] == spec:
            self.settings.add_recent_source(self._pending_recent[1])  # what the user chose: a folder stays a folder
        self._pending_recent = None
        self.settings.last_source = spec.to_text()
        self.source_bar.set_source_kind(spec.kind)
        self.source_bar.set_position("")
        played_from = self.session.return_to
        if played_from is not None and spec == SourceSpec(
            SourceKind.VIDEO, paths=(played_from.paths[played_from.start],)
        ):
            self.source_bar.set_back(played_from.label)
        else:
            self.session.return_to = None
            self.source_bar.set_back("")
        self.set_paused(False)
        self.stack.setCurrentWidget(self.view_tabs)
        self.message.emit(f"Opened {spec.label}", 3000)

    def _source_closed(self) -> None:
        self.session.source_closed()
        self.video.clear()
        self.source_bar.set_source_kind(None)
        self.stack.setCurrentWidget(self.empty_state)

    def show_error(self, text: str) -> None:
        """An error from elsewhere in the window (e.g. a bundle that would not load), shown like the worker's."""
        self._status(LiveStatus(StatusKind.ERROR, text))

    def _status(self, status: LiveStatus) -> None:
        text, level = status.text, status.level
        self.video.set_message(text, level)
        if text:  # every toast fades (errors later): a camera that keeps failing says so again each second
            self._message_timer.start(_INFO_MS if level == "info" else _ERROR_MS)
        if text and not self.video.has_frame() and level == "error":
            self.session.unreadable = text
            is_file = status.kind not in (StatusKind.CAMERA_ERROR, StatusKind.MODEL_ERROR)
            self.empty_state.set_unreadable(text, is_file=is_file)
        if text:
            self.message.emit(text, 6000 if level != "info" else 3000)

    # ------------------------------------------------------------------ model
    def _model_changed(self, bundle: ModelBundle) -> None:
        self.bundle = bundle
        self.overlay.set_model_shape(layers=bundle.config.layers, heads=bundle.config.heads)
        self.attributes.set_thresholds(bundle.decision_rule.thresholds)
        self.video.set_model_warning(bundle.notice)  # says why: untrained, or no shipped model found
        if self.compare_bundle is not None:
            self.comparison.set_models(bundle_label(bundle), bundle_label(self.compare_bundle))
        self.modelChanged.emit(bundle)

    def load_bundle(self, bundle: ModelBundle | None) -> None:
        """Swap the live model; ``None`` returns to the default bundle."""
        self._requested(self.worker.set_bundle(bundle), "loading the model")

    def load_compare_bundle(self, bundle: ModelBundle | None) -> None:
        """Put ``bundle`` beside the live model on the same faces (Compare A | B); ``None`` stops comparing."""
        self._requested(self.worker.set_compare_bundle(bundle), "the second model" if bundle else "one model")

    def choose_compare_bundle(self) -> None:
        """Model > Compare with a second model…: any saved ``.pt``."""
        bundle, problem = choose_bundle(self, self.settings.value("model/open_folder", "runs", str))
        if problem:
            self.show_error(problem)
        if bundle is not None:
            self.settings.set_value("model/open_folder", str(bundle.path.parent) if bundle.path else "runs")
            self.load_compare_bundle(bundle)

    def _compare_changed(self, bundle: ModelBundle | None) -> None:
        self.compare_bundle = bundle
        first = bundle_label(self.bundle) if self.bundle is not None else None
        self.comparison.set_models(first, bundle_label(bundle) if bundle is not None else None)
        self.side_tabs.setCurrentWidget(self.comparison if bundle is not None else self.attributes)
        if self.packet is not None:  # the frame on screen may have come before this news: show its comparison
            self._show_face(self.packet)

    # ------------------------------------------------------------------ controls
    def set_paused(self, paused: bool) -> None:
        """Pause or resume; resuming a video that ended starts it again from its first frame."""
        if not paused and self.session.ended:
            self.session.ended = False
            self.video.set_message("")  # "End of the video" is over
            self.seek(0)
        self.session.paused = bool(paused)
        self.source_bar.set_paused(self.paused, ended=self.session.ended)
        self.worker.set_paused(self.paused)
        if self.packet is not None:  # the HUD and the panels say so at once, not with the next frame
            self._show_hud(self.packet)
            self._show_panels(self.packet)

    def _ended(self) -> None:
        """A video without loop played its last frame: say so, and let Space start it again."""
        self.session.ended = True
        self._show_latest()  # the last frame, marked as the end, is in the mailbox already
        self.set_paused(True)
        self._status(LiveStatus(StatusKind.INFO, "End of the video — Space plays it again"))

    def toggle_pause(self) -> None:
        """Space: pause or resume; on a filmstrip's video item, play that video."""
        if self.session.strip_video() is not None:
            self.play_strip_video()
        elif self.session.pausable:
            self.set_paused(not self.paused)

    def play_strip_video(self) -> None:
        """Play the video item of the filmstrip on screen; "Back to the list" (Backspace) returns to it."""
        strip = self.session.strip_video()
        if strip is None or self.busy:
            return
        self.session.return_to = strip
        self.open_source(SourceSpec(SourceKind.VIDEO, paths=(strip.paths[strip.start],)))

    def back_to_filmstrip(self) -> None:
        if self.session.return_to is not None:
            self.open_source(self.session.return_to)

    def step(self, delta: int = 1) -> None:
        """Filmstrip: previous/next image. Video: pause, then exactly one frame forward or back. Camera: forward."""
        if self.busy:
            self._refuse("← / →")
            return
        plan = self.session.step_plan(delta)
        if plan.pause_first:
            self.set_paused(True)
        if plan.send:
            self._requested(self.worker.step(delta), self.session.step_target(delta))

    def seek(self, frame: int) -> None:
        """Video files: jump to ``frame`` (0-based); a paused video shows that frame at once."""
        if self.session.seekable:
            self.session.ended = False
            self.source_bar.set_paused(self.paused)
            self._requested(self.worker.seek(frame), f"frame {frame + 1}")

    # ------------------------------------------------------------------ waiting for the worker
    def _requested(self, request: int, text: str) -> None:
        """A request that changes the frame on screen went out: until it is done, keys that act on "the current
        image" wait (S) or are refused (← / →), and after 300 ms a busy sign shows what is being analysed."""
        self.session.requested(request, text)
        self._busy_since = time.perf_counter()
        self._busy_timer.start()

    def _request_done(self, request: int) -> None:
        self.session.finished(request)
        if not self.busy:
            self._show_latest()  # the frame it made (if any) is in the mailbox already
            self._settle()

    def _settle(self) -> None:
        """The frame on screen is the one asked for: drop the busy sign and run a snapshot that waited."""
        self._busy_timer.stop()
        self.video.set_busy("")
        if self.session.snapshot_pending:
            self.session.snapshot_pending = False
            self.snapshot()

    def _busy_tick(self) -> None:
        elapsed = time.perf_counter() - self._busy_since
        if not self.busy:
            self._settle()
        elif elapsed >= _BUSY_AFTER_S:
            self.video.set_busy(f"Analysing {self.session.waiting_for}…  {elapsed:.1f} s")

    def _refuse(self, keys: str) -> None:
        text = f"Still analysing {self.session.waiting_for} — {keys} wait until it is shown"
        self.video.set_message(text, "info")
        self._message_timer.start(_INFO_MS)
        self.message.emit(text, 3000)

    def _loop_toggled(self, loop: bool) -> None:
        self.settings.set_value("live/loop", loop)
        self.worker.set_loop(loop)

    def select_face(self, face_id: int) -> None:
        self.session.select_face(face_id)
        self._push_options()
        if self.packet is not None:
            self._show_face(self.packet)
            self.face_list.set_faces(self.packet.result, face_id)

    def select_attribute(self, index: int | None) -> None:
        self.overlay.set_attribute(index)  # emits changed -> _overlay_changed

    def next_face(self) -> None:
        """Select the next face of the frame on screen (wrapping)."""
        face_id = self.session.next_face()
        if face_id is not None:
            self.select_face(face_id)

    def step_attribute(self, delta: int) -> None:
        """Move the overlay attribute up/down the attribute panel's current order."""
        panel = self.comparison.bars if self.side_tabs.currentWidget() is self.comparison else self.attributes
        order = panel.visible_attributes()
        if not order:
            return
        current = self.overlay.attribute
        position = order.index(current) + delta if current in order else (0 if delta > 0 else len(order) - 1)
        self.select_attribute(order[position % len(order)])

    def toggle_landmarks(self) -> None:
        self.overlay.toggle_landmarks()

    def toggle_explorer(self) -> None:
        self.view_tabs.setCurrentIndex(1 - self.view_tabs.currentIndex())

    def snapshot(self) -> None:
        """Export the frame on screen; while another frame is being analysed, export that one once it is shown."""
        if self.busy:
            self.session.snapshot_pending = True
            self.message.emit(f"Snapshot once {self.session.waiting_for} is shown", 3000)
            return
        if self.packet is None:
            self.message.emit("Nothing to save yet", 3000)
            return
        self._show_panels(self.packet)  # the panel beside the picture shows what the PNG and JSON will say
        self.worker.snapshot(self.packet, self.settings.export_folder)

    def choose_export_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export folder", self.settings.export_folder)
        if folder:
            self.settings.export_folder = folder
            self.message.emit(f"Snapshots go to {folder}", 4000)

    def _snapshot_saved(self, png: str, sidecar: str) -> None:
        self.message.emit(f"Saved {Path(png).name} + {Path(sidecar).name} in {Path(png).parent}", 6000)

    def _snapshot_failed(self, text: str) -> None:
        self.show_error(text)

    def _overlay_changed(self) -> None:
        self.attributes.set_selected_attribute(self.overlay.attribute)
        self.comparison.set_selected_attribute(self.overlay.attribute)
        self.explorer.set_selected(self.overlay.attribute)
        self._push_options()

    def _order_changed(self, sort: str, filter_: str) -> None:
        self.explorer.set_filter(filter_)

    def _push_options(self) -> None:
        self.attributes.set_show_unreliable(self.overlay.unreliable.isChecked())
        self.session.explorer_shown = self.view_tabs.currentWidget() is self.explorer
        self.worker.set_options(self.overlay.options(self.selected_face), tiles=self.session.explorer_shown)

    # ------------------------------------------------------------------ drawing
    def _show_latest(self) -> None:
        packet = self.worker.take_latest()
        now = time.perf_counter()
        if packet is None:
            current = self.packet
            if (
                current is not None
                and current.serial != self.panel_serial
                and now - self._panels_shown >= _PANEL_INTERVAL_S
            ):
                self._show_panels(current)  # the last frame before a pause or the end: panels catch up with it
            return
        if self.session.show(packet):
            self._push_options()  # the selected person has another id now, or left: the first face is selected
        self._shown_fps = self._shown_rate.tick(now)
        self._show_hud(packet)
        if self.session.explorer_shown:
            self._show_explorer(packet)
        display = packet.display
        if display is not None and (display.width(), display.height()) != fit_size(
            (packet.annotated.shape[1], packet.annotated.shape[0]), self.video.device_size()
        ):
            display = None  # made for another widget size (a resize in flight): let the view scale this one
        frame_size = (packet.frame.shape[1], packet.frame.shape[0])
        self.video.set_frame(packet.annotated, packet.result, display, frame_size)
        self._show_position(packet)  # with every frame, like the HUD: both name the frame on screen
        if now - self._panels_shown >= _PANEL_INTERVAL_S or packet.filmstrip is not None or self.paused:
            # The bars are EMA-smoothed and unreadable at video rate: 10 Hz keeps the GUI thread light.
            self._show_panels(packet)
        if not self.busy and (self._busy_timer.isActive() or self.session.snapshot_pending):
            self._settle()
        self.frames_shown += 1
        self.frameShown.emit(self.frames_shown)

    def _show_hud(self, packet: LivePacket) -> None:
        result = packet.result
        model = bundle_label(self.bundle) if self.bundle is not None and self.bundle.name == result.model_name else None
        lines = hud_lines(
            packet, paused=self.paused, shown_fps=self._shown_fps, model_label=model, ended=self.session.ended
        )
        self.video.set_hud(lines)
        rect, ratio = self.video.hud_rect(), self.video.devicePixelRatioF()
        hud = (
            int(rect.x() * ratio),
            int(rect.y() * ratio),
            int(rect.width() * ratio) + 1,
            int(rect.height() * ratio) + 1,
        )
        if hud != self._hud_sent:  # the bars on the video keep off the HUD; sent when it changes size
            self._hud_sent = hud
            self.worker.set_hud_rect(hud)

    def _show_panels(self, packet: LivePacket) -> None:
        """Toolbar position, seek bar, face list and attribute panel, all from ``packet``."""
        self._panels_shown = time.perf_counter()
        self.panel_serial = packet.serial
        self._show_face(packet)
        self.face_list.set_faces(packet.result, self.selected_face)
        self._show_position(packet)

    def _show_position(self, packet: LivePacket) -> None:
        ended = "   · ended" if self.session.ended else ""
        self.source_bar.set_position(packet.position + ended)
        if packet.filmstrip is not None:
            self.source_bar.set_play_item(self.session.strip_video() is not None)
        if packet.video_frame is not None:
            self.source_bar.set_video_position(*packet.video_frame)

    def _show_face(self, packet: LivePacket) -> None:
        face = packet.result.face(self.selected_face) if self.selected_face is not None else None
        self.attributes.set_face(face, len(packet.result.faces))
        if self.comparison.comparing:
            self.comparison.show_comparison(
                packet.comparison, packet.compare_tiles, self.selected_face, packet.options.attribute
            )

    def _show_explorer(self, packet: LivePacket) -> None:
        face = packet.result.face(packet.tiles_face) if packet.tiles_face is not None else None
        o = packet.options
        layer = "last layer" if o.layer == -1 else f"layer {o.layer + 1}"
        head = "mean of heads" if o.head is None else f"head {o.head + 1}"
        caption = f"Face #{face.face_id} · {layer} · {head} · click a map to overlay it" if face is not None else ""
        self.explorer.show_face(face, packet.tiles, caption)
