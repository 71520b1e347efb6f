"""Live tab: source bar, video (or attention explorer), faces, overlay controls and the attribute panel.

Owns the :class:`~attricam.desktop.live_worker.LiveWorker` and a headless
:class:`~attricam.desktop.live_session.LiveSession` (source, frame on screen, selected
face, pause). A 60 Hz timer takes the newest packet from the worker's mailbox
and shows it (latest frame wins); every control change is sent to the worker
as an immutable ``RenderOptions``. The tab is the composition: its widgets
(:class:`~attricam.desktop.live_views.LiveViews`, :class:`~attricam.desktop.live_side_panel.LiveSidePanel`,
the source bar), the drawing (:class:`~attricam.desktop.live_painter.LivePainter`) and the notices over the
picture (:mod:`~attricam.desktop.live_notices`) are wired here to the worker's signals and driven through
their public methods only.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QVBoxLayout, QWidget

from attricam.engine.bundle import ModelBundle

from .live_notices import BusySign, Toasts
from .live_painter import LivePainter
from .live_protocol import LivePacket, LiveStatus, StatusKind
from .live_session import LiveSession
from .live_side_panel import LiveSidePanel
from .live_views import LiveViews
from .live_worker import LiveWorker
from .model_files import choose_bundle
from .settings import AppSettings
from .source_bar import SourceBar
from .source_chooser import SourceChooser
from .source_dialogs import ask_export_folder
from .sources import SourceKind, SourceSpec

__all__ = ["LiveTab"]

_PAINT_INTERVAL_MS = 15


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

        self.source_bar = SourceBar()
        self.views = LiveViews()
        self.side = LiveSidePanel()  # on a small screen (1280x720 at 125 %) the panels scroll, never the window
        # The child widgets by name, as the window, the tools and the tests reach them:
        self.stack, self.view_tabs = self.views, self.views.tabs
        self.empty_state, self.video, self.explorer = self.views.empty_state, self.views.video, self.views.explorer
        self.face_list, self.overlay = self.side.face_list, self.side.overlay
        self.attributes, self.comparison, self.side_tabs = self.side.attributes, self.side.comparison, self.side.tabs
        self.splitter = QSplitter()
        self.splitter.addWidget(self.views)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([760, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.source_bar)
        row = QHBoxLayout()
        row.addWidget(self.splitter)
        layout.addLayout(row, 1)

        self.painter = LivePainter(
            self.session, self.worker, self.views, self.side, self.source_bar, lambda: self.bundle
        )
        self.toasts = Toasts(self.video, self)
        self.busy_sign = BusySign(self.video, self.session, self)
        self.sources = SourceChooser(self.settings, self.session, self.worker, self.source_bar, self.empty_state, self)
        self._restore()
        self._connect()
        self.source_bar.set_source_kind(None)
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

    @property
    def cameras(self) -> list[int] | None:
        """The camera indices the last scan found; None before the first scan answered."""
        return self.sources.cameras

    @property
    def frames_shown(self) -> int:
        return self.painter.frames_shown

    @property
    def panel_serial(self) -> int:
        """Serial of the packet the toolbar, face list and attribute panel describe (the HUD's is ``packet``)."""
        return self.painter.panel_serial

    # ------------------------------------------------------------------ lifecycle
    def start(self, initial: SourceSpec | None = None, error: str = "") -> None:
        """Start the worker; ``initial`` (e.g. from the command line) beats the remembered source.

        ``error``: why the source asked for on the command line cannot be opened; the empty state says so and
        no camera replaces it."""
        self.sources.initial = initial
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
        self.toasts.stop()
        self.busy_sign.stop()
        self.worker.stop()
        self._save()

    def _connect(self) -> None:
        w = self.worker
        w.camerasFound.connect(self.sources.cameras_found)
        w.modelChanged.connect(self._model_changed)
        w.sourceOpened.connect(self._source_opened)
        w.sourceClosed.connect(self._source_closed)
        w.status.connect(self._status)
        w.snapshotSaved.connect(self._snapshot_saved)
        w.snapshotFailed.connect(self.show_error)
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
        self.empty_state.rescanRequested.connect(self.sources.rescan)
        self.empty_state.reopenRequested.connect(self.sources.reopen_last)
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
        self.toasts.message.connect(self.message)
        self.sources.openRequested.connect(self.open_source)
        self.sources.problem.connect(self.show_error)
        self.busy_sign.settled.connect(self._settle)

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
        return self.sources.open_paths(paths)

    def open_folder_dialog(self) -> None:
        self.sources.ask_folder()

    def open_video_dialog(self) -> None:
        self.sources.ask_video()

    def open_images_dialog(self) -> None:
        self.sources.ask_images()

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
        self.sources.source_opened(spec)
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
        self.views.show_source(True)
        self.message.emit(f"Opened {spec.label}", 3000)

    def _source_closed(self) -> None:
        self.session.source_closed()
        self.video.clear()
        self.source_bar.set_source_kind(None)
        self.views.show_source(False)

    def show_error(self, text: str) -> None:
        """An error from elsewhere in the window (e.g. a bundle that would not load), shown like the worker's."""
        self._status(LiveStatus(StatusKind.ERROR, text))

    def _status(self, status: LiveStatus) -> None:
        if status.text and status.level == "error" and not self.video.has_frame():
            self.session.unreadable = status.text
            is_file = status.kind not in (StatusKind.CAMERA_ERROR, StatusKind.MODEL_ERROR)
            self.empty_state.set_unreadable(status.text, is_file=is_file)
        self.toasts.show(status)

    # ------------------------------------------------------------------ model
    def _model_changed(self, bundle: ModelBundle) -> None:
        self.bundle = bundle
        self.side.set_model(bundle, self.compare_bundle)
        self.video.set_model_warning(bundle.notice)  # says why: untrained, or no shipped model found
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
        self.side.set_compared(self.bundle, bundle)
        if self.packet is not None:  # the frame on screen may have come before this news: show its comparison
            self.painter.show_face(self.packet)

    # ------------------------------------------------------------------ playback
    def set_paused(self, paused: bool) -> None:
        """Pause or resume; resuming a video that ended starts it again from its first frame."""
        if not paused and self.session.ended:
            self.session.ended = False
            self.toasts.clear()  # "End of the video" is over
            self.seek(0)
        self.session.paused = bool(paused)
        self.source_bar.set_paused(self.paused, ended=self.session.ended)
        self.worker.set_paused(self.paused)
        if self.packet is not None:  # the HUD and the panels say so at once, not with the next frame
            self.painter.show_hud(self.packet)
            self.painter.show_panels(self.packet)

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

    def _loop_toggled(self, loop: bool) -> None:
        self.settings.set_value("live/loop", loop)
        self.worker.set_loop(loop)

    # ------------------------------------------------------------------ waiting for the worker
    def _requested(self, request: int, text: str) -> None:
        """A request that changes the frame on screen went out: until it is done, keys that act on "the current
        image" wait (S) or are refused (← / →), and after 300 ms a busy sign shows what is being analysed."""
        self.session.requested(request, text)
        self.busy_sign.start()

    def _request_done(self, request: int) -> None:
        self.session.finished(request)
        if not self.busy:
            self._show_latest()  # the frame it made (if any) is in the mailbox already
            self._settle()

    def _settle(self) -> None:
        """The frame on screen is the one asked for: drop the busy sign and run a snapshot that waited."""
        self.busy_sign.stop()
        if self.session.snapshot_pending:
            self.session.snapshot_pending = False
            self.snapshot()

    def _refuse(self, keys: str) -> None:
        self.toasts.show_text(f"Still analysing {self.session.waiting_for} — {keys} wait until it is shown")

    # ------------------------------------------------------------------ selection
    def select_face(self, face_id: int) -> None:
        self.session.select_face(face_id)
        self._push_options()
        if self.packet is not None:
            self.painter.show_face(self.packet)
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
        if (index := self.side.attribute_after(self.overlay.attribute, delta)) is not None:
            self.select_attribute(index)

    def toggle_landmarks(self) -> None:
        self.overlay.toggle_landmarks()

    def toggle_explorer(self) -> None:
        self.views.toggle_explorer()

    def _overlay_changed(self) -> None:
        self.side.set_selected_attribute(self.overlay.attribute)
        self.explorer.set_selected(self.overlay.attribute)
        self._push_options()

    def _order_changed(self, sort: str, filter_: str) -> None:
        self.explorer.set_filter(filter_)

    def _push_options(self) -> None:
        self.attributes.set_show_unreliable(self.overlay.unreliable.isChecked())
        self.session.explorer_shown = self.views.explorer_shown
        self.worker.set_options(self.overlay.options(self.selected_face), tiles=self.session.explorer_shown)

    # ------------------------------------------------------------------ snapshots
    def snapshot(self) -> None:
        """Export the frame on screen; while another frame is being analysed, export that one once it is shown."""
        if self.busy:
            self.session.snapshot_pending = True
            self.message.emit(f"Snapshot once {self.session.waiting_for} is shown", 3000)
            return
        if self.packet is None:
            self.message.emit("Nothing to save yet", 3000)
            return
        self.painter.show_panels(self.packet)  # the panel beside the picture shows what the PNG and JSON will say
        self.worker.snapshot(self.packet, self.settings.export_folder)

    def choose_export_folder(self) -> None:
        if folder := ask_export_folder(self, self.settings):
            self.message.emit(f"Snapshots go to {folder}", 4000)

    def _snapshot_saved(self, png: str, sidecar: str) -> None:
        self.message.emit(f"Saved {Path(png).name} + {Path(sidecar).name} in {Path(png).parent}", 6000)

    # ------------------------------------------------------------------ drawing
    def _show_latest(self) -> None:
        """The paint timer's tick: the newest packet in the worker's mailbox goes on screen (latest frame wins)."""
        packet = self.worker.take_latest()
        if packet is None:
            self.painter.catch_up()
            return
        if self.session.show(packet):
            self._push_options()  # the selected person has another id now, or left: the first face is selected
        self.painter.show_frame(packet)
        if not self.busy and (self.busy_sign.waiting or self.session.snapshot_pending):
            self._settle()
        self.frameShown.emit(self.frames_shown)
