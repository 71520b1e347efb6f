"""The one renderer as a user sees its output: a soft overlay inside the face, panels that cover nothing."""

from __future__ import annotations

import numpy as np

from attricam.engine.render import RenderOptions, face_mask, render_frame
from attricam.engine.results import FaceResult, FrameResult, StageTimings


def _face(face_id: int, x: float, y: float, size: float, *, rng: np.random.Generator) -> FaceResult:
    """A face whose crop (96x80) maps onto the frame square at (x, y) with side ``size``."""
    scale = 80.0 / size
    matrix = np.array([[scale, 0, -x * scale], [0, scale, -y * scale]], np.float32)
    attention = rng.random((2, 4, 40, 12, 10)).astype(np.float32)
    probabilities = rng.random(40).astype(np.float32)
    return FaceResult(
        face_id=face_id,
        box=np.array([x, y, x + size, y + size * 1.2], np.float32),
        score=0.99,
        landmarks=np.array([[x + 0.4 * size, y + 0.6 * size]] * 5, np.float32),
        probabilities=probabilities,
        raw_probabilities=probabilities,
        decisions=probabilities > 0.3,
        thresholds=np.full(40, 0.5, np.float32),
        attention=attention / attention.sum(axis=(-1, -2), keepdims=True),
        aligned=np.zeros((96, 80, 3), np.uint8),
        align_matrix=matrix,
    )


def _result(faces) -> FrameResult:
    return FrameResult(
        frame_index=0, frame_size=(640, 480), faces=tuple(faces), timings=StageTimings(), model_name="test"
    )


def test_overlay_fades_to_nothing_before_the_edge_of_the_face_crop():
    rng = np.random.default_rng(0)
    frame = np.full((300, 300, 3), 128, np.uint8)
    face = _face(0, 100, 100, 100, rng=rng)
    out = render_frame(
        frame,
        _result([face]),
        RenderOptions(attribute=3, opacity=1.0, show_boxes=False, show_bars=False, show_hud=False),
    )
    changed = np.abs(out.astype(int) - frame).max(axis=2)
    # the crop covers x 100..200, y 100..220: its border band (neck, shoulders, background) is untouched
    band = np.ones((300, 300), bool)
    band[110:216, 108:192] = False
    band[:, :95] = band[:, 205:] = band[:95] = band[225:] = False
    assert changed[band].max() == 0, "the overlay tints the crop's border: a hard-edged quadrilateral"
    assert changed[140:180, 130:170].max() > 40, "no heatmap over the middle of the face"
    # and it fades: neighbouring pixels never jump by more than a small step
    assert np.abs(np.diff(changed.astype(int), axis=0)).max() < 60
    assert np.abs(np.diff(changed.astype(int), axis=1)).max() < 60


def test_face_mask_is_one_over_the_face_and_zero_at_the_crop_border():
    mask = face_mask(96, 80)
    assert mask.shape == (96, 80) and mask[52, 40] == 1.0
    assert mask[0].max() == 0 and mask[-1].max() == 0 and mask[:, 0].max() == 0 and mask[:, -1].max() == 0


def _overlap(a, b) -> int:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return max(0, min(ax + aw, bx + bw) - max(ax, bx)) * max(0, min(ay + ah, by + bh) - max(ay, by))


def test_group_photo_panels_cover_no_face_and_no_other_panel():
    from attricam.engine.panel_layout import face_obstacles
    from attricam.engine.render_panels import face_label_width, layout_panels

    rng = np.random.default_rng(1)
    # a row of five faces across a 640x360 frame, like a group photo, plus one face in front
    faces = [_face(i, 20 + 125 * i, 90, 70, rng=rng) for i in range(5)] + [_face(5, 280, 230, 60, rng=rng)]
    result = _result(faces)
    options = RenderOptions(attribute=3)
    hud = [(0, 336, 300, 24)]
    layout = layout_panels(result, options, (640, 360), hud)
    obstacles = face_obstacles([f.box for f in faces], [face_label_width(f) for f in faces]) + hud
    rects = [rect for rect, _ in layout]
    for i, rect in enumerate(rects):
        x, y, w, h = rect
        assert x >= 0 and y >= 0 and x + w <= 640 and y + h <= 360, f"panel {i} leaves the frame"
        assert all(_overlap(rect, o) == 0 for o in obstacles), f"panel {i} covers a face, its label or the HUD"
        assert all(_overlap(rect, other) == 0 for other in rects[i + 1 :]), f"panel {i} covers another panel"
    assert all(3 in order for _, order in layout), "the overlay attribute lost its row"
    out = render_frame(np.zeros((360, 640, 3), np.uint8), result, options)
    assert out.shape == (360, 640, 3)


def test_a_single_face_keeps_its_full_panel_beside_the_box():
    from attricam.engine.render import layout_panels

    rng = np.random.default_rng(2)
    face = _face(0, 200, 100, 120, rng=rng)
    ((rect, order),) = layout_panels(_result([face]), RenderOptions(), (640, 480))
    positives = [int(i) for i in np.argsort(-face.probabilities) if face.decisions[i]]
    assert face.decisions.sum() >= 2  # the face has several positives, so a truncated panel would show
    assert order == positives[: RenderOptions().top_k]  # every row, most probable first: nothing dropped
    assert rect[0] >= 320  # right of the box, as before


def _covers_nothing(layout, obstacles) -> bool:
    rects = [rect for rect, _ in layout]
    return all(_overlap(r, o) == 0 for r in rects for o in obstacles) and all(
        _overlap(a, b) == 0 for i, a in enumerate(rects) for b in rects[i + 1 :]
    )


def test_panels_keep_clear_of_the_hair_beside_a_face():
    """2009_004587.jpg as face boxes: a tall man's face at the top, a woman's small face low on the right.
    Her panel fits left of her detector box, right on her hair; it must keep clear of her whole head."""
    from attricam.engine.panel_layout import face_obstacles, head_box
    from attricam.engine.render_panels import face_label_width, layout_panels

    rng = np.random.default_rng(4)
    man, woman = _face(0, 146, 31, 73, rng=rng), _face(1, 269, 273, 55, rng=rng)
    man = man.__class__(**{**man.__dict__, "box": np.array([146.2, 31.2, 219.0, 128.7], np.float32)})
    woman = woman.__class__(**{**woman.__dict__, "box": np.array([268.6, 273.2, 323.9, 344.7], np.float32)})
    result = _result([man, woman])
    hud = [(0, 476, 240, 24)]
    layout = layout_panels(result, RenderOptions(), (400, 500), hud)
    heads = face_obstacles([head_box(f.box) for f in (man, woman)])
    labels = face_obstacles([f.box for f in (man, woman)], [face_label_width(f) for f in (man, woman)])
    assert _covers_nothing(layout, heads + labels + hud), f"a panel covers a head, a label or another panel: {layout}"
    for face, (_rect, order) in zip((man, woman), layout):
        assert len(order) == min(6, int(face.decisions.sum())) or len(order) == 1, "rows were dropped for no reason"


def test_a_big_face_in_a_small_frame_gets_compact_panels_beside_it():
    """No room beside the head and too little beside the box for a full panel: the short form fits there,
    with all its rows, rather than a panel over the face."""
    from attricam.engine.panel_layout import face_obstacles
    from attricam.engine.render_panels import face_label_width, layout_panels, panel_width

    face = _face(0, 165, 30, 150, rng=np.random.default_rng(0))
    face = face.__class__(**{**face.__dict__, "box": np.array([165, 30, 315, 290], np.float32)})
    ((rect, order),) = layout_panels(_result([face]), RenderOptions(), (480, 300))
    assert _covers_nothing([(rect, order)], face_obstacles([face.box], [face_label_width(face)]))
    assert rect[2] < panel_width(face, order), "expected the compact panel"
    assert len(order) == 6
    out = render_frame(np.zeros((300, 480, 3), np.uint8), _result([face]), RenderOptions(show_hud=False))
    assert out.shape == (300, 480, 3)  # the compact form renders


def _moved(face: FaceResult, dx: float, dy: float) -> FaceResult:
    return face.__class__(**{**face.__dict__, "box": face.box + np.array([dx, dy, dx, dy], np.float32)})


def _count_searches(monkeypatch) -> list[int]:
    import attricam.engine.render_panels

    calls = [0]
    search = attricam.engine.render_panels.place_panel

    def counting(*args, **kwargs):
        calls[0] += 1
        return search(*args, **kwargs)

    monkeypatch.setattr(attricam.engine.render_panels, "place_panel", counting)
    return calls


def test_live_panels_follow_their_faces_without_searching_again(monkeypatch):
    from attricam.engine.panel_layout import PanelMemory
    from attricam.engine.render import layout_panels

    rng = np.random.default_rng(5)
    faces = [_face(0, 60, 80, 90, rng=rng), _face(1, 330, 100, 80, rng=rng)]
    memory = PanelMemory()
    first = layout_panels(_result(faces), RenderOptions(attribute=3), (640, 360), memory=memory)
    searches = _count_searches(monkeypatch)
    for step in range(1, 6):  # both people drift right and down a little, frame after frame
        moved = [_moved(f, 4 * step, 2 * step) for f in faces]
        layout = layout_panels(_result(moved), RenderOptions(attribute=3), (640, 360), memory=memory)
        for (rect, order), (rect0, order0) in zip(layout, first):
            assert rect == (rect0[0] + 4 * step, rect0[1] + 2 * step, rect0[2], rect0[3]), "the panel left its face"
            assert order == order0
    assert searches[0] == 0, "a steady scene searched for panel spots again"


def test_a_followed_panel_that_would_cover_a_face_is_laid_out_afresh(monkeypatch):
    from attricam.engine.panel_layout import PanelMemory, face_obstacles
    from attricam.engine.render_panels import face_label_width, layout_panels

    rng = np.random.default_rng(6)
    left, right = _face(0, 60, 80, 90, rng=rng), _face(1, 400, 100, 80, rng=rng)
    memory = PanelMemory()
    ((rect, _), _) = layout_panels(_result([left, right]), RenderOptions(), (640, 360), memory=memory)
    # the right-hand person walks into the spot where the left face's panel is
    walked = _moved(right, rect[0] + 10 - 400, rect[1] + 5 - 100)
    searches = _count_searches(monkeypatch)
    layout = layout_panels(_result([left, walked]), RenderOptions(), (640, 360), memory=memory)
    assert searches[0] > 0
    faces = [left, walked]
    assert _covers_nothing(layout, face_obstacles([f.box for f in faces], [face_label_width(f) for f in faces]))


def test_followed_panels_are_searched_again_every_refresh_and_after_a_face_joins(monkeypatch):
    from attricam.engine.panel_layout import PanelMemory
    from attricam.engine.render import layout_panels

    rng = np.random.default_rng(7)
    faces = [_face(0, 60, 80, 90, rng=rng)]
    memory = PanelMemory(refresh_every=4)
    searches = _count_searches(monkeypatch)
    per_frame = []
    for _ in range(8):
        before = searches[0]
        layout_panels(_result(faces), RenderOptions(), (640, 360), memory=memory)
        per_frame.append(searches[0] > before)
    assert per_frame == [True, False, False, False, True, False, False, False]
    newcomer = _face(1, 400, 100, 80, rng=rng)
    before = searches[0]
    layout_panels(_result([*faces, newcomer]), RenderOptions(), (640, 360), memory=memory)
    assert searches[0] > before, "a face joined but the old layout was kept"


def test_an_id_label_under_a_viewers_hud_moves_below_its_face():
    rng = np.random.default_rng(4)
    frame = np.full((300, 300, 3), 128, np.uint8)
    face = _face(0, 20, 30, 100, rng=rng)  # the label's usual place (above the box) is the top-left corner
    hud = (0, 0, 200, 40)  # where the live view paints its HUD, in frame pixels
    plain = render_frame(frame, _result([face]), RenderOptions(show_bars=False))
    moved = render_frame(frame, _result([face]), RenderOptions(show_bars=False), keep_clear=[hud])
    x, y, w, h = hud
    assert (plain[y : y + h, x : x + w] == 0).all(axis=-1).any()  # without a HUD the black label sits there
    assert not (moved[y : y + h, x : x + w] == 0).all(axis=-1).any()  # with it, nothing is drawn under the HUD
    below = moved[30 + 120 : 30 + 120 + 20, 20:80]
    assert (below == 0).all(axis=-1).any()  # ... the label is under the box instead
