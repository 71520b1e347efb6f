"""Id labels never cover each other: side-by-side faces in a group photo (2008_002079.jpg: "#3 1.00" hid the
selected "#0 1.00")."""

from __future__ import annotations

import cv2
import numpy as np

from attricam.engine.render import RenderOptions, render_frame

from .test_render_layout import _face, _result


def _label_boxes(canvas: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The black label boxes drawn on a grey frame (x, y, w, h); two that touch become one."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((canvas.max(axis=2) == 0).astype(np.uint8))
    return [tuple(int(v) for v in stats[i, :4]) for i in range(1, count) if stats[i, 2] > 20]


def test_labels_of_overlapping_faces_do_not_cover_each_other_and_the_selected_one_keeps_its_place():
    rng = np.random.default_rng(2)
    frame = np.full((300, 400, 3), 128, np.uint8)
    left, right = _face(3, 100, 100, 60, rng=rng), _face(0, 140, 112, 60, rng=rng)  # labels would overlap above
    for selected in (0, 3):
        canvas = render_frame(
            frame, _result([left, right]), RenderOptions(show_bars=False, show_hud=False, selected_face=selected)
        )
        boxes = _label_boxes(canvas)
        assert len(boxes) == 2, boxes
        chosen = left if selected == 3 else right
        above = [b for b in boxes if b[1] + b[3] <= int(chosen.box[1]) + 1 and abs(b[0] - int(chosen.box[0])) <= 1]
        assert above, f"the selected face #{selected}'s label is not above its box: {boxes}"


def test_the_label_of_a_face_at_the_right_edge_stays_whole_in_the_picture():
    frame = np.full((200, 300, 3), 128, np.uint8)
    face = _face(0, 270, 60, 40, rng=np.random.default_rng(3))  # its box runs past the right edge
    canvas = render_frame(frame, _result([face]), RenderOptions(show_bars=False, show_hud=False))
    ((x, _, w, _),) = _label_boxes(canvas)
    assert x + w <= 300 and w >= 40  # the whole "#0 0.99" box, not a sliver cut by the edge


def test_a_label_never_goes_under_the_viewers_hud_even_when_its_other_places_are_taken():
    """bald_guys.jpg at the top of the view: the places below and inside the box were taken by other labels, and
    the label went back under the HUD."""
    rng = np.random.default_rng(5)
    frame = np.full((320, 300, 3), 128, np.uint8)
    under_hud = _face(1, 20, 30, 100, rng=rng)  # box 20..120 x 30..150: its usual label place is under the HUD
    below = _face(0, 20, 170, 60, rng=rng)  # the selected face's label sits just under the first box
    hud = (0, 0, 200, 40)
    options = RenderOptions(show_bars=False, show_hud=False, selected_face=0)
    canvas = render_frame(frame, _result([under_hud, below]), options, keep_clear=[hud])
    assert not (canvas[0:40, 0:200] == 0).all(axis=-1).any()  # nothing drawn where the HUD covers the picture
    assert len(_label_boxes(canvas)) == 2  # nor over the other label: inside the bottom of its own box
