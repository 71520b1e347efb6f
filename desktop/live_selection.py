"""The render options the GUI chose, with the selected face kept on the same person across a track restart.

A seek back by one frame, or a model swap, restarts the tracks on (nearly) the picture on screen, and the
selected person comes back under another id. :class:`FollowedSelection` finds them again by the place of
their box and tells the GUI of the renumbering (``moved``), until the GUI's options use the new id.
Lives on the live worker's thread, inside :class:`~attricam.desktop.live_analysis.LiveAnalysis`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from attricam.engine.render import RenderOptions
from attricam.engine.results import FrameResult
from attricam.engine.tracking import iou_matrix

__all__ = ["FollowedSelection"]

_FOLLOW_MIN_IOU = 0.3
"""A renumbered face is the selected person when its box overlaps the person's last box at least this much."""


class FollowedSelection:
    def __init__(self) -> None:
        self.options = RenderOptions(attribute=None)
        self.follow = False  # tracks restarted on (nearly) the same frame: match the selected face by its box
        self.moved: tuple[int, int] | None = None  # (old id, new id) of the last renumbering not yet taken up

    def choose(self, options: RenderOptions) -> None:
        """The GUI's options; a selection sent before the GUI saw a renumbering means the person's new id."""
        if self.moved is not None and options.selected_face == self.moved[0]:
            options = dataclasses.replace(options, selected_face=self.moved[1])
        elif self.moved is not None and options.selected_face == self.moved[1]:
            self.moved = None  # the GUI follows the new id: later choices mean what they say
        self.options = options

    def update(self, previous: FrameResult | None, result: FrameResult) -> None:
        """After an analysis: ``result`` follows ``previous`` (the last result, None for the first)."""
        moved = self._find_again(previous, result) if previous is not None else None
        if moved is not None:  # chained with a renumbering the GUI has not taken up yet
            first = self.moved[0] if self.moved is not None and self.moved[1] == moved[0] else moved[0]
            self.moved = (first, moved[1]) if first != moved[1] else None
        self.follow = False

    def _find_again(self, previous: FrameResult, result: FrameResult) -> tuple[int, int] | None:
        """After a restart of the tracks on (nearly) the same picture, the selected person keeps the selection
        under whatever id they got: the new face whose box overlaps their last box most. Returns (old, new)."""
        selected = self.options.selected_face
        if selected is None or not self.follow or not result.faces:
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
        self.options = dataclasses.replace(self.options, selected_face=new_id)
        return selected, new_id
