"""The live view's second model: another bundle run on the same faces, on the live worker's thread.

:class:`LiveComparison` holds the :class:`~attricam.engine.comparison.SecondModel` the user chose (Model ▸
Compare with a second model…, or a journey recipe), runs it on every analysed frame right after the live
model and renders the two attention tiles of the selected face, so the GUI thread only paints. It
never runs on the GUI thread: the worker builds, calls and resets it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from attricam.engine.bundle import ModelBundle
from attricam.engine.comparison import ModelComparison, SecondModel
from attricam.engine.render import RenderOptions, attention_crop
from attricam.engine.results import FrameResult

from .model_files import bundle_label

if TYPE_CHECKING:  # the pipeline (and torch behind it) loads with the first model, not with the window
    from attricam.engine.pipeline import PipelineSettings

__all__ = ["LiveComparison"]


class LiveComparison:
    def __init__(self) -> None:
        self.model: SecondModel | None = None

    @property
    def bundle(self) -> ModelBundle | None:
        return self.model.bundle if self.model is not None else None

    def set_bundle(self, bundle: ModelBundle | None, settings: PipelineSettings) -> None:
        """Compare with ``bundle`` (None: stop comparing). ``settings``: the live pipeline's, whose backend,
        device and threads the second model uses too."""
        if bundle is None:
            self.model = None
            return
        self.model = SecondModel(
            bundle,
            label=bundle_label(bundle),
            backend=settings.backend,
            device=settings.device,
            threads=settings.threads,
            ema_alpha=settings.ema_alpha,
        )

    def reset(self) -> None:
        """New faces ahead (another source, a seek, a model swap): no smoothing carries over."""
        if self.model is not None:
            self.model.reset()

    def compare(
        self, frame: np.ndarray, result: FrameResult, first: ModelBundle, *, still: bool
    ) -> ModelComparison | None:
        """Both models' answers for the faces of ``result`` (the live model's, on ``frame``), or None."""
        if self.model is None:
            return None
        second = self.model.analyze(frame, result, smooth=not still)
        return ModelComparison(result, second, bundle_label(first), self.model.label)

    @staticmethod
    def tiles(
        comparison: ModelComparison | None, options: RenderOptions
    ) -> tuple[int, tuple[np.ndarray, np.ndarray]] | None:
        """(face id, (A tile, B tile)): the selected face's crop with the overlay attribute's attention of each
        model (the first face when none is selected); None without a comparison or a face."""
        pair = comparison.pair(options.selected_face) if comparison is not None else None
        if pair is None:
            return None
        return pair[0].face_id, (attention_crop(pair[0], options), attention_crop(pair[1], options))
