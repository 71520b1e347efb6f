"""Capture + inference off the GUI thread.

:class:`LiveWorker` is a ``QThread`` that owns the frame source and the engine
pipeline. It publishes each finished frame into a one-slot mailbox; the GUI
takes the newest packet on its own timer ("latest frame wins"), so a slow
paint never queues stale frames. Commands from the GUI go through a queue and
are applied between frames. ``stop()`` ends the loop and joins the thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, assert_never

import cv2
import numpy as np
from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtGui import QImage

from attricam.engine.bundle import ModelBundle, load_default_bundle
from attricam.engine.comparison import ModelComparison
from attricam.engine.export import default_stem, export_snapshot
from attricam.engine.image_io import MediaLoadError
from attricam.engine.panel_layout import PanelMemory
from attricam.engine.render import RenderOptions
from attricam.engine.results import FrameResult
from attricam.engine.tracking import iou_matrix

from .attention_tiles import attention_tiles
from .live_comparison import LiveComparison
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
from .screen_render import render_for_view
from .sources import (
    CameraSource,
    FrameSource,
    ImageSequenceSource,
    SourceError,
    SourceKind,
    SourceSpec,
    VideoFileSource,
    open_source,
    probe_cameras,
    wait_interruptibly,
)
from .video_view import fit_size

if TYPE_CHECKING:  # the pipeline (and torch behind it, for a bundle without an ONNX twin) loads on the thread
    from attricam.engine.pipeline import FacePipeline

__all__ = ["LivePacket", "LiveWorker"]

_RECONNECT_INTERVAL_S = 1.0
_FOLLOW_MIN_IOU = 0.3
"""A renumbered face is the selected person when its box overlaps the person's last box at least this much."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Where:
    """The place in the source of an analysed frame, taken when it was read (see :meth:`LiveWorker._where`)."""

    position: str
    source_label: str
    filmstrip: tuple[int, int] | None
    video_frame: tuple[int, int] | None
    source_path: str


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
        self._pipeline_factory = pipeline_factory or functools.partial(_default_pipeline, threads)
        self._realtime = realtime
        self._scan_cameras = scan_cameras
        self._nice = nice
        self._commands: queue.SimpleQueue[tuple[Command, int]] = queue.SimpleQueue()  # command, request id (0: none)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._mailbox_lock = threading.Lock()
        self._mailbox: LivePacket | None = None
        self._options = RenderOptions(attribute=None)
        self._panels = PanelMemory()  # panels follow their faces from one video frame to the next
        self._want_tiles = False
        self._paused = False
        self._held = False
        self._serial = 0
        self.pipeline: FacePipeline | None = None  # made on the worker thread when it starts
        self._source: FrameSource | None = None
        self._last: tuple[np.ndarray, FrameResult, float, _Where] | None = None  # frame, result, capture time, where
        self._compare = LiveComparison()
        self._comparison: ModelComparison | None = None  # the second model's answer for ``_last``
        self._fps = 0.0
        self._last_done = 0.0
        self._latency_ms = 0.0
        self._view_size: tuple[int, int] | None = None
        self._view_ratio = 1.0  # the view's device pixels per logical pixel (1.5 at a 150 % display scale)
        self._render_view: tuple[int, int] | None = None  # the view size the panel memory's offsets are for
        self._hud_rect: tuple[int, int, int, int] | None = None
        self._loop = True
        self._requests = itertools.count(1)
        self._request = 0  # last frame-changing request applied
        self._follow = False  # tracks restarted on (nearly) the same frame: match the selected face by its box
        self._moved: tuple[int, int] | None = None  # selection renumbering of the last analysis
        self._ended = False

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
        self._view_ratio = float(ratio)
        self._view_size = (int(width), int(height))

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
    def _say(self, kind: StatusKind, text: str) -> None:
        self.status.emit(LiveStatus(kind, text))

    def run(self) -> None:
        try:
            if self._nice and hasattr(os, "setpriority"):
                # Linux schedules threads individually: a slightly lower priority than the GUI thread keeps
                # paint and input responsive when the cores are busy (e.g. training beside the app).
                with contextlib.suppress(OSError):
                    os.setpriority(
                        os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + self._nice
                    )
            if self._scan_cameras:
                self.camerasFound.emit(probe_cameras())
            self._say(StatusKind.INFO, "Loading model…")
            try:
                self.pipeline = self._pipeline_factory()
            except Exception as exc:  # noqa: BLE001 - shown to the user, the app keeps running
                self._say(StatusKind.MODEL_ERROR, f"Model could not be loaded: {exc}")
                return
            self.modelChanged.emit(self.pipeline.bundle)
            self._say(StatusKind.INFO, "")
            failure = ""
            while not self._stopping.is_set():
                try:
                    rerender = self._apply_commands()
                    if self._stopping.is_set():
                        break
                    if self._source is not None and self._source.live and not self._paused and not self._held:
                        self._live_step()
                    elif rerender:
                        self._publish_again()
                    else:
                        self._wake.wait(0.1)
                        self._wake.clear()
                    failure = ""
                except Exception as exc:
                    message = f"Analysis failed: {type(exc).__name__}: {exc}"
                    if message != failure:  # say it once, not once per frame
                        log.exception("live worker")
                        self._say(StatusKind.ERROR, message)
                    failure = message
                    self._wake.wait(0.2)
                    self._wake.clear()
        finally:
            self._close_source()
            if self.pipeline is not None:
                self.pipeline.close()  # joins the background detection thread ("attricam-detect")

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
                self._close_source()
                self._last = None
                self.sourceClosed.emit()
            case SetPaused(paused):
                self._paused = paused
                if self._source is not None:
                    self._source.restart_clock()
            case SetHeld(held):
                if held != self._held:
                    self._held = held
                    if self._source is not None:
                        self._source.restart_clock()  # a video goes on at its own pace, not catching up on the hold
                    self.heldChanged.emit(held)
            case Step(delta):
                self._step(delta)
            case Seek(frame):
                self._seek(frame)
            case SetLoop(loop):
                self._loop = loop
                if isinstance(self._source, VideoFileSource):
                    self._source.loop = loop
            case SetOptions(options, tiles):
                self._want_tiles = tiles
                self._set_options(options)
            case SetHudRect(rect):
                self._hud_rect = rect
            case SetBundle(bundle):
                self._swap_bundle(bundle)
            case SetCompareBundle(bundle):
                self._set_compare(bundle)
            case Snapshot(packet, folder):
                self._snapshot(packet, folder)
            case ScanCameras():
                self.camerasFound.emit(probe_cameras())
            case _:
                assert_never(command)

    def _set_options(self, options: RenderOptions) -> None:
        if self._moved is not None and options.selected_face == self._moved[0]:
            # sent before the GUI saw the renumbering: the person it means has the new id now
            options = dataclasses.replace(options, selected_face=self._moved[1])
        elif self._moved is not None and options.selected_face == self._moved[1]:
            self._moved = None  # the GUI follows the new id: later choices mean what they say
        self._options = options

    def _open(self, spec: SourceSpec) -> None:
        try:
            source = open_source(spec, realtime=self._realtime)
            first = source.read() if source.still else None
        except (SourceError, MediaLoadError, OSError) as exc:
            self._say(StatusKind.CAMERA_ERROR if spec.kind == SourceKind.CAMERA else StatusKind.ERROR, str(exc))
            return
        self._close_source()
        self._source = source
        if isinstance(source, VideoFileSource):
            source.loop = self._loop
        self._fps, self._last_done = 0.0, 0.0
        self._last, self._ended = None, False  # nobody on the new source is the person selected before
        self._restart_tracks()
        self.sourceOpened.emit(spec)
        self._say(StatusKind.INFO, "")
        if first is not None:
            self._analyse(first, still=True)

    def _restart_tracks(self, *, follow: bool = False) -> None:
        """New faces ahead (another source, a seek): tracks, smoothing and panel positions start afresh.

        ``follow``: the next frame is next to the one on screen (a step back), so the selected person is found
        again by the place of their box, not by the track id the restart gave someone else.
        """
        self._loaded_pipeline().reset()
        self._compare.reset()
        self._panels.forget()
        self._follow = follow

    def _close_source(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None

    def _step(self, delta: int) -> None:
        source = self._source
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
        elif isinstance(source, VideoFileSource) and self._paused and delta < 0:
            if source.frame_number > 1:
                self._seek(source.frame_number - 2, follow=True)  # the frame before the one on screen
        elif source is not None and source.live and self._paused and delta > 0:
            self._live_step(force=True)

    def _seek(self, frame: int, *, follow: bool = False) -> None:
        """Jump in a video file; tracks and EMAs start afresh, since the faces there are not the ones on screen."""
        source = self._source
        if not isinstance(source, VideoFileSource):
            return
        source.seek(frame)
        self._ended = False
        self._restart_tracks(follow=follow)
        if self._paused:
            self._live_step(force=True)

    def _live_step(self, *, force: bool = False) -> None:
        source = self._source
        if source is None:  # callers check first; a close may have come in between
            return
        wait = 0.0 if force else source.seconds_until_due()
        if wait > 0:
            self._wake.wait(min(wait, 0.1))  # wakes early for commands
            self._wake.clear()
            return
        frame = source.read(paced=False) if force and isinstance(source, VideoFileSource) else source.read()
        if frame is None:
            if isinstance(source, CameraSource):
                self._reconnect(source)
            elif not self._ended:
                self._paused, self._ended = True, True
                self._publish_again()  # the last frame, marked as the end
                self.ended.emit()
            else:
                self._paused = True
            return
        self._analyse(frame, still=False)

    def _reconnect(self, source: CameraSource) -> None:
        attempt = 0
        while not self._stopping.is_set() and self._source is source:
            attempt += 1
            self._say(StatusKind.WARNING, f"{source.spec.label} lost — reconnecting (attempt {attempt})…")
            if wait_interruptibly(_RECONNECT_INTERVAL_S, lambda: self._stopping.is_set() or not self._commands.empty()):
                return  # stop, or the user chose another source: commands run first
            try:
                source.open()
            except SourceError:
                continue
            self._restart_tracks()
            self._say(StatusKind.INFO, f"{source.spec.label} reconnected")
            return

    def _analyse(self, frame: np.ndarray, *, still: bool) -> None:
        captured = time.perf_counter()
        previous = self._last[1] if self._last is not None else None
        pipeline = self._loaded_pipeline()
        result = pipeline.analyze_image(frame) if still else pipeline.process(frame)
        if still:  # a still's face ids say nothing about the previous image's faces: lay it out afresh
            self._panels.forget()
        moved = self._follow_selection(previous, result) if previous is not None else None
        if moved is not None:  # chained with a renumbering the GUI has not taken up yet
            first = self._moved[0] if self._moved is not None and self._moved[1] == moved[0] else moved[0]
            self._moved = (first, moved[1]) if first != moved[1] else None
        self._follow = False
        self._comparison = self._compare.compare(frame, result, pipeline.bundle, still=still)
        self._last = (frame, result, captured, self._where())
        self._latency_ms = -1.0  # measured when published
        now = time.perf_counter()
        if self._last_done and not still:
            rate = 1.0 / max(now - self._last_done, 1e-6)
            self._fps = rate if self._fps == 0 else 0.9 * self._fps + 0.1 * rate
        self._last_done = now
        self._publish(*self._last)

    def _follow_selection(self, previous: FrameResult, result: FrameResult) -> tuple[int, int] | None:
        """After a restart of the tracks on (nearly) the same picture, the selected person keeps the selection
        under whatever id they got: the new face whose box overlaps their last box most. Returns (old, new)."""
        selected = self._options.selected_face
        if selected is None or not self._follow or not result.faces:
            return None
        before = previous.face(selected)
        if before is None:
            return None
        boxes = np.array([f.box for f in result.faces], np.float32).reshape(-1, 4)
        overlap = iou_matrix(np.asarray(before.box, np.float32)[None], boxes)[0]
        best = int(overlap.argmax())
        new_id = result.faces[best].face_id
        if overlap[best] < _FOLLOW_MIN_IOU or new_id == selected:
            return None
        self._options = dataclasses.replace(self._options, selected_face=new_id)
        return selected, new_id

    def _where(self) -> _Where:
        """Where in the source the frame just read is: its packets say so even after the source moved on (a
        filmstrip's step onto a broken file leaves the previous picture on screen, with its own position)."""
        source = self._source
        return _Where(
            position=source.position if source is not None else "",
            source_label=source.spec.label if source is not None else "",
            filmstrip=(source.index, len(source)) if isinstance(source, ImageSequenceSource) else None,
            video_frame=(source.frame_number, source.frame_count) if isinstance(source, VideoFileSource) else None,
            source_path=_current_path(source),
        )

    def _publish_again(self) -> None:
        if self._last is not None:
            self._publish(*self._last)

    def _publish(self, frame: np.ndarray, result: FrameResult, captured: float, where: _Where) -> None:
        options = dataclasses.replace(self._options, fps=self._fps or None)
        view = self._view_size
        if view != self._render_view:  # panels remembered at another zoom would land in the wrong place
            self._panels.forget()
            self._render_view = view
        annotated, _ = render_for_view(frame, result, options, self._panels, view, self._hud_rect, self._view_ratio)
        tiles, tiles_face = None, None
        if self._want_tiles and result.faces:
            face = result.face(options.selected_face) if options.selected_face is not None else None
            face = face or result.faces[0]
            tiles = attention_tiles(face, options)
            tiles_face = face.face_id
        display = _display_image(annotated, view)
        comparison = self._comparison if self._comparison is not None and self._comparison.first is result else None
        self._serial += 1
        if self._latency_ms < 0:  # first publication of this analysis: capture -> rendered
            self._latency_ms = (time.perf_counter() - captured) * 1000.0
        packet = LivePacket(
            serial=self._serial,
            frame=frame,
            annotated=annotated,
            result=result,
            options=options,
            tiles=tiles,
            tiles_face=tiles_face,
            fps=self._fps,
            latency_ms=self._latency_ms,
            position=where.position,
            source_label=where.source_label,
            filmstrip=where.filmstrip,
            display=display,
            video_frame=where.video_frame,
            source_path=where.source_path,
            request=self._request,
            selection_moved=self._moved,
            ended=self._ended,
            comparison=comparison,
            compare_tiles=self._compare.tiles(comparison, options),
        )
        with self._mailbox_lock:
            self._mailbox = packet

    def _swap_bundle(self, bundle: ModelBundle | None) -> None:
        try:
            bundle = bundle or load_default_bundle()
            pipeline = self._loaded_pipeline()
            pipeline.set_bundle(bundle)
        except Exception as exc:  # noqa: BLE001 - a bad bundle must not kill the live view
            self._say(StatusKind.MODEL_ERROR, f"Model not loaded: {exc}")
            return
        self.modelChanged.emit(pipeline.bundle)
        self._say(StatusKind.INFO, f"Model loaded: {pipeline.bundle.name}")
        source = self._source
        self._follow = True  # set_bundle restarted the tracks: the selected person is found again by place
        if self._last is not None and source is not None and (source.still or self._paused):
            # Nothing new would arrive: analyse the frame on screen again, so bars, thresholds and the HUD's
            # model name all come from the new model (set_bundle restarted the tracks, so no EMA mixes models).
            self._analyse(self._last[0], still=source.still)

    def _set_compare(self, bundle: ModelBundle | None) -> None:
        try:
            self._compare.set_bundle(bundle, self._loaded_pipeline().settings)
        except Exception as exc:  # noqa: BLE001 - a bad bundle must not kill the live view
            self._say(StatusKind.MODEL_ERROR, f"Second model not loaded: {exc}")
            return
        self.compareChanged.emit(bundle)
        if self._compare.model is not None:  # set for a bundle, None for none
            self._say(StatusKind.INFO, f"Comparing with {self._compare.model.label}")
        if self._last is not None:  # the frame on screen gets (or loses) the second answer at once
            frame, result, _, _ = self._last
            still = self._source is not None and self._source.still
            self._comparison = self._compare.compare(frame, result, self._loaded_pipeline().bundle, still=still)
            self._publish_again()

    def _loaded_pipeline(self) -> FacePipeline:
        """The pipeline, for the commands and frames that come once it has loaded (:meth:`run` stops when it
        cannot load)."""
        if self.pipeline is None:
            raise RuntimeError("the live pipeline has not loaded")
        return self.pipeline

    def _snapshot(self, packet: LivePacket, folder: str) -> None:
        stem = default_stem()
        try:
            options = dataclasses.replace(packet.options, show_hud=True)  # exports carry the engine HUD like the CLI
            png, sidecar = export_snapshot(
                packet.frame,
                packet.result,
                options,
                folder,
                stem,
                source=_source_name(packet),
                details=_snapshot_details(packet),
                comparison=packet.comparison,
            )
        except Exception as exc:  # noqa: BLE001 - disk full, permissions: tell the user
            self.snapshotFailed.emit(f"Snapshot not saved: {exc}")
            return
        self.snapshotSaved.emit(str(png), str(sidecar))


def _current_path(source: FrameSource | None) -> str:
    if isinstance(source, ImageSequenceSource):
        return str(Path(source.current_path).resolve())
    if isinstance(source, VideoFileSource):
        return str(Path(source.spec.paths[0]).resolve())
    return ""


def _source_name(packet: LivePacket) -> str:
    """The file the frame came from ("b.jpg", "clip.mp4"), or the camera's label."""
    return Path(packet.source_path).name if packet.source_path else packet.source_label


def _snapshot_details(packet: LivePacket) -> dict[str, Any]:
    """Sidecar fields that trace a snapshot to its frame: the file, the filmstrip slot, the video frame.

    ``video_frame`` is the 1-based number the HUD showed; ``frame_index`` the same frame 0-based in the file
    (like ``attricam analyze``'s ``clip.mp4#frame=N``); ``analysed_frame_index`` counts analysed frames only.
    """
    details: dict[str, Any] = {
        "source_path": packet.source_path or None,
        "analysed_frame_index": packet.result.frame_index,
    }
    if packet.filmstrip is not None:
        details["filmstrip"] = {"index": packet.filmstrip[0] + 1, "count": packet.filmstrip[1]}
    if packet.video_frame is not None:
        number, count = packet.video_frame
        details.update(video_frame=number, video_frame_count=count or None, frame_index=number - 1)
    return details


def _display_image(rgb: np.ndarray, view: tuple[int, int] | None) -> QImage | None:
    """``rgb`` resized to fit ``view`` as a QImage that owns its pixels; None when the view size is unknown.

    Made as 32-bit RGB (bytes B, G, R, 0xff), the layout of the window's backing store, so the GUI thread's
    paint is a plain copy with no per-pixel format conversion (that conversion happens here, off the GUI thread).
    """
    if view is None or view[0] < 2 or view[1] < 2:
        return None
    h, w = rgb.shape[:2]
    tw, th = fit_size((w, h), view)
    scaled = (
        rgb
        if (tw, th) == (w, h)
        else cv2.resize(rgb, (tw, th), interpolation=cv2.INTER_AREA if tw < w else cv2.INTER_LINEAR)
    )
    bgra = np.ascontiguousarray(cv2.cvtColor(scaled, cv2.COLOR_RGB2BGRA))
    return QImage(bgra.data, tw, th, 4 * tw, QImage.Format.Format_RGB32).copy()


def _default_pipeline(threads: int | None = 1) -> FacePipeline:
    """The shipped model on onnxruntime (torch is never imported: ~700 MB less memory, faster start) with
    ``threads`` intra-op threads: per-face batches are tiny, and on a busy machine (a training run beside the
    app) more threads than free cores makes a 9 ms frame take far longer. Bundles without an ONNX twin
    fall back to torch (``backend="auto"``). The full cascade runs on its own thread (``background_detection``),
    as in ``attricam bench``, so no video frame waits ~45 ms for it; :meth:`LiveWorker.stop` joins that thread."""
    from attricam.engine.pipeline import FacePipeline, PipelineSettings

    settings = PipelineSettings(
        backend="auto", threads=threads, background_detection=True, background_nice=5, descriptor_async=True
    )
    return FacePipeline(bundle=load_default_bundle(), settings=settings)
