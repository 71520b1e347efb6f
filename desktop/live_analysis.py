"""The live model and what it made of the newest frame: the result, a second model's answer, the frame rate.

:class:`LiveAnalysis` is made on the live worker's thread once the pipeline has loaded, and used only
there: it runs the pipeline (and the second model of Model ▸ Compare) on each frame, keeps the selected
face on its person (:class:`~attricam.desktop.live_selection.FollowedSelection`) and swaps models. It has
no signals; :class:`~attricam.desktop.live_worker.LiveWorker` says what happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from attricam.engine.bundle import ModelBundle, load_default_bundle
from attricam.engine.comparison import ModelComparison
from attricam.engine.results import FrameResult

from .live_comparison import LiveComparison
from .live_playback import FramePlace
from .live_selection import FollowedSelection

if TYPE_CHECKING:  # the pipeline (and torch behind it, for a bundle without an ONNX twin) loads on the thread
    from attricam.engine.pipeline import FacePipeline

__all__ = ["Analysed", "LiveAnalysis", "default_pipeline"]


@dataclass(frozen=True)
class Analysed:
    """One analysed frame, shown until the next one (and drawn again when the options or the view change)."""

    frame: np.ndarray  # (h, w, 3) uint8 RGB, as captured
    result: FrameResult
    captured: float  # time.perf_counter() when the analysis started
    place: FramePlace


class LiveAnalysis:
    def __init__(self, pipeline: FacePipeline) -> None:
        self.pipeline = pipeline
        self.selection = FollowedSelection()
        self.last: Analysed | None = None
        self.fps = 0.0  # analysed frames per second of a playing source (smoothed)
        self._last_done = 0.0
        self._compare = LiveComparison()
        self._comparison: ModelComparison | None = None  # the second model's answer for ``last``

    @property
    def bundle(self) -> ModelBundle:
        return self.pipeline.bundle

    @property
    def compare_label(self) -> str | None:
        """The second model's label while comparing, else None."""
        return self._compare.model.label if self._compare.model is not None else None

    @property
    def comparison(self) -> ModelComparison | None:
        """The second model's answer for the faces of ``last`` (None when not comparing)."""
        comparison, last = self._comparison, self.last
        return comparison if comparison is not None and last is not None and comparison.first is last.result else None

    def analyse(self, frame: np.ndarray, *, still: bool, place: FramePlace) -> Analysed:
        """Run both models on ``frame`` (a still: afresh, no tracks or smoothing carried over) and keep it as ``last``."""
        captured = time.perf_counter()
        previous = self.last.result if self.last is not None else None
        result = self.pipeline.analyze_image(frame) if still else self.pipeline.process(frame)
        self.selection.update(previous, result)
        self._comparison = self._compare.compare(frame, result, self.pipeline.bundle, still=still)
        self.last = Analysed(frame, result, captured, place)
        now = time.perf_counter()
        if self._last_done and not still:
            rate = 1.0 / max(now - self._last_done, 1e-6)
            self.fps = rate if self.fps == 0 else 0.9 * self.fps + 0.1 * rate
        self._last_done = now
        return self.last

    def new_source(self) -> None:
        """Another source opened: nothing analysed yet, no frame rate (nobody there is the person selected before)."""
        self.last = None
        self.fps, self._last_done = 0.0, 0.0
        self.restart_tracks()

    def restart_tracks(self, *, follow: bool = False) -> None:
        """New faces ahead (another source, a seek): tracks and smoothing start afresh.

        ``follow``: the next frame is next to the one on screen (a step back), so the selected person is found
        again by the place of their box, not by the track id the restart gave someone else.
        """
        self.pipeline.reset()
        self._compare.reset()
        self.selection.follow = follow

    def set_bundle(self, bundle: ModelBundle) -> None:
        """Swap the live model (raises when it cannot load); the tracks restart, the selection follows by place."""
        self.pipeline.set_bundle(bundle)
        self.selection.follow = True

    def set_compare(self, bundle: ModelBundle | None) -> None:
        """Run ``bundle`` too from the next frame on (None: stop comparing); raises when it cannot load."""
        self._compare.set_bundle(bundle, self.pipeline.settings)

    def compare_again(self, *, still: bool) -> None:
        """Give ``last`` the second model's answer (or none) after the second model changed."""
        if self.last is not None:
            frame, result = self.last.frame, self.last.result
            self._comparison = self._compare.compare(frame, result, self.pipeline.bundle, still=still)

    def close(self) -> None:
        """Joins the pipeline's background detection thread ("attricam-detect")."""
        self.pipeline.close()


def default_pipeline(threads: int | None = 1) -> FacePipeline:
    """The shipped model on onnxruntime (torch is never imported: ~700 MB less memory, faster start) with
    ``threads`` intra-op threads: per-face batches are tiny, and on a busy machine (a training run beside the
    app) more threads than free cores makes a 9 ms frame take far longer. Bundles without an ONNX twin
    fall back to torch (``backend="auto"``). The full cascade runs on its own thread (``background_detection``),
    as in ``attricam bench``, so no video frame waits ~45 ms for it; :meth:`LiveAnalysis.close` joins that thread."""
    from attricam.engine.pipeline import FacePipeline, PipelineSettings

    settings = PipelineSettings(
        backend="auto", threads=threads, background_detection=True, background_nice=5, descriptor_async=True
    )
    return FacePipeline(bundle=load_default_bundle(), settings=settings)
