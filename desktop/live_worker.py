"""Capture + inference off the GUI thread.

:class:`LiveWorker` is a ``QThread`` that owns the frame source and the engine
pipeline. It publishes each finished frame into a one-slot mailbox; the GUI
takes the newest packet on its own timer ("latest frame wins"), so a slow
paint never queues stale frames. Commands from the GUI go through a queue and
are applied between frames. ``stop()`` ends the loop and joins the thread.

The work itself is done by collaborators that live on this thread and have no signals:
:class:`~attricam.desktop.live_playback.Playback` (the source: open, pause, hold, seek, reconnect),
:class:`~attricam.desktop.live_analysis.LiveAnalysis` (the models, the selection, the frame rate),
:class:`~attricam.desktop.live_render.LiveRenderer` (the picture for the view, the packet) and
:func:`~attricam.desktop.live_snapshot.save_snapshot`. The worker applies the commands of
:mod:`~attricam.desktop.live_protocol` with ``match`` and says what happened with its signals.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import os
import queue
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, assert_never

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from attricam.engine.bundle import ModelBundle, load_default_bundle
from attricam.engine.image_io import MediaLoadError
from attricam.engine.render import RenderOptions

from .live_analysis import LiveAnalysis, default_pipeline
from .live_playback import AtEnd, CameraLost, NotDue, Playback
from .live_protocol import (
    CloseSource,
    Command,
    LivePacket,
    LiveStatus,
    OpenSource,
    ScanCameras,
    Seek,
    SetBundle,
    SetCompareBundle,
    SetHeld,
    SetHudRect,
    SetLoop,
    SetOptions,
    SetPaused,
    Snapshot,
    StatusKind,
    Step,
)
from .live_render import LiveRenderer
from .live_snapshot import save_snapshot
from .sources import (
    CameraSource,
    ImageSequenceSource,
    SourceError,
    SourceKind,
    SourceSpec,
    VideoFileSource,
    probe_cameras,
)

if TYPE_CHECKING:  # the pipeline (and torch behind it, for a bundle without an ONNX twin) loads on the thread
    from attricam.engine.pipeline import FacePipeline

__all__ = ["LivePacket", "LiveWorker"]

log = logging.getLogger(__name__)

WORKER_NICE = 3
"""Niceness added to the analysis thread (Linux schedules threads one by one). On the real clip with both
cores busy, the GUI thread's longest event-loop gap was 51.6 and 51.3 ms at +0 and 42.1 and 38.4 ms at +3,
at the same 42 frames shown per second (``python -m benchmarks.bench_gui --real --frames 2000 --nice N``)."""


class LiveWorker(QThread):
    instances: ClassVar[weakref.WeakSet[LiveWorker]] = weakref.WeakSet()
    """Every worker ever made; tests assert none is still running after a window closed."""

    camerasFound = Signal(list)  # list[int]
    modelChanged = Signal(object)  # ModelBundle
    sourceOpened = Signal(object)  # SourceSpec
    sourceClosed = Signal()
    status = Signal(object)  # LiveStatus
    snapshotSaved = Signal(str, str)  # png path, json path
    snapshotFailed = Signal(str)
    requestDone = Signal(int)  # id returned by open_source/step/seek/set_bundle: applied (a frame or not)
    ended = Signal()  # a video file without loop reached its end: paused there
    heldChanged = Signal(bool)  # live analysis held (True) or going again (False), see set_held
    compareChanged = Signal(object)  # the second model's ModelBundle, or None when comparing stopped

    def __init__(
        self,
        pipeline_factory: Callable[[], FacePipeline] | None = None,
        *,
        realtime: bool = True,
        scan_cameras: bool = True,
        threads: int | None = 1,
        nice: int = WORKER_NICE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("LiveWorker")
        LiveWorker.instances.add(self)
        self._pipeline_factory = pipeline_factory or functools.partial(default_pipeline, threads)
        self._scan_cameras = scan_cameras
        self._nice = nice
        self._commands: queue.SimpleQueue[tuple[Command, int]] = queue.SimpleQueue()  # command, request id (0: none)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._mailbox_lock = threading.Lock()
        self._mailbox: LivePacket | None = None
        self._requests = itertools.count(1)
        self._request = 0  # last frame-changing request applied
        self._playback = Playback(realtime=realtime)
        self._renderer = LiveRenderer()
        self._analysis: LiveAnalysis | None = None  # made on the worker thread once the pipeline has loaded

    # ----------------------------------------------------------------- GUI side (any thread)
    def take_latest(self) -> LivePacket | None:
        """The newest packet not yet taken, or None. Called by the GUI's paint timer."""
        with self._mailbox_lock:
            packet, self._mailbox = self._mailbox, None
        return packet

    def open_source(self, spec: SourceSpec) -> int:
        """Returns a request id; :attr:`requestDone` carries it once the source is open (or refused)."""
        return self._send(OpenSource(spec), request=True)

    def close_source(self) -> None:
        self._send(CloseSource())

    def set_paused(self, paused: bool) -> None:
        self._send(SetPaused(bool(paused)))

    def set_held(self, held: bool) -> None:
        """Stop analysing a playing source while ``held`` (the window holds it while a training or evaluation job
        needs the cores and the Live tab is not on screen); the user's pause is left as it is, and playing goes on
        from where it was when released. A held camera's frames are dropped."""
        self._send(SetHeld(bool(held)))

    def step(self, delta: int = 1) -> int:
        """Analyse exactly one frame forward (or back, video files) while paused, or move in the filmstrip."""
        return self._send(Step(int(delta)), request=True)

    def seek(self, frame: int) -> int:
        """Video files: show frame ``frame`` (0-based) next; playing or paused stays as it is."""
        return self._send(Seek(int(frame)), request=True)

    def set_loop(self, loop: bool) -> None:
        """Video files: start again at the first frame after the last one, or stop there."""
        self._send(SetLoop(bool(loop)))

    def set_options(self, options: RenderOptions, *, tiles: bool = False) -> None:
        self._send(SetOptions(options, tiles))

    def set_bundle(self, bundle: ModelBundle | None) -> int:
        """Swap the model; ``None`` goes back to the default bundle."""
        return self._send(SetBundle(bundle), request=True)

    def set_compare_bundle(self, bundle: ModelBundle | None) -> int:
        """Run ``bundle`` too, on the same faces, and publish both answers (None: stop comparing)."""
        return self._send(SetCompareBundle(bundle), request=True)

    def set_view_size(self, width: int, height: int, ratio: float = 1.0) -> None:
        """Size of the video widget in device pixels: frames are scaled to fit it here, so the GUI only blits them;
        ids and bars are drawn ``ratio`` (device pixels per logical one) times larger, like the window's text."""
        self._renderer.set_view(width, height, ratio)

    def set_hud_rect(self, rect: tuple[int, int, int, int] | None) -> None:
        """Where the view paints its HUD (device pixels of the view): the on-video bars keep off it (the frame
        on screen is drawn again when it changed)."""
        self._send(SetHudRect(rect))

    def snapshot(self, packet: LivePacket, folder: str) -> None:
        self._send(Snapshot(packet, folder))

    def rescan_cameras(self) -> None:
        self._send(ScanCameras())

    def stop(self) -> None:
        """End the loop, close the source and the pipeline (joining its detection thread) and join this thread."""
        self._stopping.set()
        self._wake.set()
        if self.isRunning():
            self.wait()

    def _send(self, command: Command, *, request: bool = False) -> int:
        rid = next(self._requests) if request else 0
        self._commands.put((command, rid))
        self._wake.set()
        return rid

    # ----------------------------------------------------------------- worker thread
    def run(self) -> None:
        try:
            self._lower_priority()
            if self._scan_cameras:
                self.camerasFound.emit(probe_cameras())
            self._say(StatusKind.INFO, "Loading model…")
            try:
                self._analysis = LiveAnalysis(self._pipeline_factory())
            except Exception as exc:  # noqa: BLE001 - shown to the user, the app keeps running
                self._say(StatusKind.MODEL_ERROR, f"Model could not be loaded: {exc}")
                return
            self.modelChanged.emit(self._analysis.bundle)
            self._say(StatusKind.INFO, "")
            self._serve()
        finally:
            self._playback.close()
            if self._analysis is not None:
                self._analysis.close()  # joins the background detection thread ("attricam-detect")

    def _lower_priority(self) -> None:
        """Linux schedules threads individually: a slightly lower priority than the GUI thread keeps paint and
        input responsive when the cores are busy (e.g. training beside the app)."""
        if self._nice and hasattr(os, "setpriority"):
            with contextlib.suppress(OSError):
                os.setpriority(
                    os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + self._nice
                )

    def _serve(self) -> None:
        """Apply commands and analyse a playing source's frames until :meth:`stop`."""
        failure = ""
        while not self._stopping.is_set():
            try:
                rerender = self._apply_commands()
                if self._stopping.is_set():
                    break
                if self._playback.playing:
                    self._play_step()
                elif rerender:
                    self._publish()
                else:
                    self._idle(0.1)
                failure = ""
            except Exception as exc:
                message = f"Analysis failed: {type(exc).__name__}: {exc}"
                if message != failure:  # say it once, not once per frame
                    log.exception("live worker")
                    self._say(StatusKind.ERROR, message)
                failure = message
                self._idle(0.2)

    def _apply_commands(self) -> bool:
        """Apply queued commands; True when the last frame must be rendered again."""
        rerender = False
        while True:
            try:
                command, rid = self._commands.get_nowait()
            except queue.Empty:
                return rerender
            if rid:
                self._request = rid
            try:
                self._apply(command)
            finally:
                if rid:  # also when it failed: the GUI stops waiting for this request
                    self.requestDone.emit(rid)
            rerender = rerender or isinstance(command, (SetOptions, SetHudRect))

    def _apply(self, command: Command) -> None:
        match command:
            case OpenSource(spec):
                self._open(spec)
            case CloseSource():
                self._playback.close()
                self._loaded().last = None
                self.sourceClosed.emit()
            case SetPaused(paused):
                self._playback.set_paused(paused)
            case SetHeld(held):
                if self._playback.set_held(held):
                    self.heldChanged.emit(held)
            case Step(delta):
                self._step(delta)
            case Seek(frame):
                self._seek(frame)
            case SetLoop(loop):
                self._playback.set_loop(loop)
            case SetOptions(options, tiles):
                self._renderer.want_tiles = tiles
                self._loaded().selection.choose(options)
            case SetHudRect(rect):
                self._renderer.hud_rect = rect
            case SetBundle(bundle):
                self._set_bundle(bundle)
            case SetCompareBundle(bundle):
                self._set_compare(bundle)
            case Snapshot(packet, folder):
                self._snapshot(packet, folder)
            case ScanCameras():
                self.camerasFound.emit(probe_cameras())
            case _:
                assert_never(command)

    # ----------------------------------------------------------------- sources and playing
    def _open(self, spec: SourceSpec) -> None:
        try:
            first = self._playback.open(spec)
        except (SourceError, MediaLoadError, OSError) as exc:
            self._say(StatusKind.CAMERA_ERROR if spec.kind == SourceKind.CAMERA else StatusKind.ERROR, str(exc))
            return
        self._loaded().new_source()
        self._renderer.forget_panels()
        self.sourceOpened.emit(spec)
        self._say(StatusKind.INFO, "")
        if first is not None:
            self._analyse(first, still=True)

    def _step(self, delta: int) -> None:
        playback = self._playback
        source = playback.source
        if isinstance(source, ImageSequenceSource):
            if not source.step(delta):
                return
            try:
                frame = source.read()
            except MediaLoadError as exc:
                self._say(StatusKind.ERROR, str(exc))  # the previous result stays on screen
                return
            self._say(StatusKind.INFO, "")
            self._analyse(frame, still=True)
        elif isinstance(source, VideoFileSource) and playback.paused and delta < 0:
            if source.frame_number > 1:
                self._seek(source.frame_number - 2, follow=True)  # the frame before the one on screen
        elif source is not None and source.live and playback.paused and delta > 0:
            self._play_step(force=True)

    def _seek(self, frame: int, *, follow: bool = False) -> None:
        """Jump in a video file; tracks and EMAs start afresh, since the faces there are not the ones on screen."""
        if not self._playback.seek(frame):
            return
        self._restart_tracks(follow=follow)
        if self._playback.paused:
            self._play_step(force=True)

    def _play_step(self, *, force: bool = False) -> None:
        """Analyse a camera's or video's next frame once it is due (``force``: now)."""
        outcome = self._playback.next_frame(force=force)
        match outcome:
            case np.ndarray() as frame:
                self._analyse(frame, still=False)
            case NotDue(wait_s):
                self._idle(min(wait_s, 0.1))  # wakes early for commands
            case CameraLost(camera):
                self._reconnect(camera)
            case AtEnd(first):
                if first:
                    self._publish()  # the last frame, marked as the end
                    self.ended.emit()
            case None:
                pass  # closed since the caller looked
            case _:
                assert_never(outcome)

    def _reconnect(self, camera: CameraSource) -> None:
        label = camera.spec.label
        if self._playback.reconnect(
            camera,
            lambda attempt: self._say(StatusKind.WARNING, f"{label} lost — reconnecting (attempt {attempt})…"),
            stopped=self._stopping.is_set,
            interrupted=lambda: self._stopping.is_set() or not self._commands.empty(),  # commands run first
        ):
            self._restart_tracks()
            self._say(StatusKind.INFO, f"{label} reconnected")

    # ----------------------------------------------------------------- analysis and publishing
    def _analyse(self, frame: np.ndarray, *, still: bool) -> None:
        if still:  # a still's face ids say nothing about the previous image's faces: lay it out afresh
            self._renderer.forget_panels()
        self._loaded().analyse(frame, still=still, place=self._playback.place())
        self._publish()

    def _restart_tracks(self, *, follow: bool = False) -> None:
        """New faces ahead (another source, a seek): tracks, smoothing and panel positions start afresh."""
        self._loaded().restart_tracks(follow=follow)
        self._renderer.forget_panels()

    def _publish(self) -> None:
        """Draw the last analysed frame for the view and leave it in the mailbox (replacing one not taken)."""
        analysis = self._loaded()
        if analysis.last is None:
            return
        packet = self._renderer.packet(
            analysis.last,
            analysis.selection.options,
            fps=analysis.fps,
            comparison=analysis.comparison,
            moved=analysis.selection.moved,
            request=self._request,
            ended=self._playback.ended,
        )
        with self._mailbox_lock:
            self._mailbox = packet

    # ----------------------------------------------------------------- models and snapshots
    def _set_bundle(self, bundle: ModelBundle | None) -> None:
        analysis = self._loaded()
        try:
            analysis.set_bundle(bundle or load_default_bundle())
        except Exception as exc:  # noqa: BLE001 - a bad bundle must not kill the live view
            self._say(StatusKind.MODEL_ERROR, f"Model not loaded: {exc}")
            return
        self.modelChanged.emit(analysis.bundle)
        self._say(StatusKind.INFO, f"Model loaded: {analysis.bundle.name}")
        source = self._playback.source
        if analysis.last is not None and source is not None and (source.still or self._playback.paused):
            # Nothing new would arrive: analyse the frame on screen again, so bars, thresholds and the HUD's
            # model name all come from the new model (set_bundle restarted the tracks, so no EMA mixes models).
            self._analyse(analysis.last.frame, still=source.still)

    def _set_compare(self, bundle: ModelBundle | None) -> None:
        analysis = self._loaded()
        try:
            analysis.set_compare(bundle)
        except Exception as exc:  # noqa: BLE001 - a bad bundle must not kill the live view
            self._say(StatusKind.MODEL_ERROR, f"Second model not loaded: {exc}")
            return
        self.compareChanged.emit(bundle)
        if analysis.compare_label is not None:  # set for a bundle, None for none
            self._say(StatusKind.INFO, f"Comparing with {analysis.compare_label}")
        if analysis.last is not None:  # the frame on screen gets (or loses) the second answer at once
            analysis.compare_again(still=self._playback.still)
            self._publish()

    def _snapshot(self, packet: LivePacket, folder: str) -> None:
        try:
            png, sidecar = save_snapshot(packet, folder)
        except Exception as exc:  # noqa: BLE001 - disk full, permissions: tell the user
            self.snapshotFailed.emit(f"Snapshot not saved: {exc}")
            return
        self.snapshotSaved.emit(str(png), str(sidecar))

    # ----------------------------------------------------------------- helpers
    def _say(self, kind: StatusKind, text: str) -> None:
        self.status.emit(LiveStatus(kind, text))

    def _idle(self, seconds: float) -> None:
        """Wait up to ``seconds``; a command or :meth:`stop` wakes it early."""
        self._wake.wait(seconds)
        self._wake.clear()

    def _loaded(self) -> LiveAnalysis:
        """The analysis, for the commands and frames that come once the pipeline has loaded (:meth:`run` stops
        when it cannot load)."""
        if self._analysis is None:
            raise RuntimeError("the live pipeline has not loaded")
        return self._analysis
