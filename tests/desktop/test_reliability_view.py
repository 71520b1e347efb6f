"""The attribute panel as a user reads it: unreliable attributes dimmed, marked "?" and never shown as
positive, until the overlay's "Unreliable attributes" toggle is clicked; tooltips give the held-out figures."""

from __future__ import annotations

import numpy as np

from attricam.engine.attributes import ATTRIBUTE_NAMES, attribute_index
from attricam.engine.reliability import ModelReliability
from attricam.engine.results import FaceResult


def _face(reliability: ModelReliability) -> FaceResult:
    probabilities = np.full(40, 0.1, np.float32)
    for name in ("Smiling", "Big_Lips"):
        probabilities[attribute_index(name)] = 0.9
    return FaceResult(
        face_id=0,
        box=np.array([0, 0, 10, 10], np.float32),
        score=0.99,
        landmarks=np.zeros((5, 2), np.float32),
        probabilities=probabilities,
        raw_probabilities=probabilities,
        decisions=probabilities > 0.5,
        thresholds=np.full(40, 0.5, np.float32),
        attention=np.full((1, 4, 40, 12, 10), 1 / 120, np.float32),
        aligned=np.zeros((96, 80, 3), np.uint8),
        align_matrix=np.eye(2, 3, dtype=np.float32),
        second_opinion=True,
        reliability=reliability,
    )


def _reliability() -> ModelReliability:
    auc = [0.55 if n == "Big_Lips" else 0.93 for n in ATTRIBUTE_NAMES]
    section = {"source": "test", "faces": 2480, "auc": auc, "precision": [0.4] * 40, "recall": [0.6] * 40}
    reliability = ModelReliability.from_metadata({"reliability": {"fused": section}}, fused=True)
    assert reliability is not None
    return reliability


def test_unreliable_positive_is_dimmed_until_the_toggle_is_clicked(qtbot):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from attricam.desktop.attribute_panel import AttributePanel
    from attricam.desktop.overlay_controls import OverlayControls

    window = QWidget()
    qtbot.addWidget(window)
    panel, overlay = AttributePanel(), OverlayControls()
    layout = QVBoxLayout(window)
    layout.addWidget(overlay)
    layout.addWidget(panel, 1)
    overlay.changed.connect(lambda: panel.set_show_unreliable(overlay.unreliable.isChecked()))
    window.resize(560, 900)
    window.show()
    qtbot.waitExposed(window)
    panel.set_face(_face(_reliability()), 1)
    smiling, big_lips = attribute_index("Smiling"), attribute_index("Big_Lips")
    shown = panel.bars.shown_positive()
    assert shown[smiling] and not shown[big_lips]  # decided positive, but under the bar: not highlighted
    assert "1 positive" in panel.title.text() and "face network" in panel.title.text()
    assert not overlay.options().show_unreliable

    rect = panel.bars.row_rect(big_lips)
    qtbot.mouseMove(panel.bars, QPoint(int(rect.center().x()), int(rect.center().y())))
    tip = panel.bars.toolTip()
    assert "unreliable" in tip and "AUC 0.55" in tip and "precision 0.40" in tip

    qtbot.mouseClick(overlay.unreliable, Qt.MouseButton.LeftButton)
    assert overlay.options().show_unreliable and panel.bars.shown_positive()[big_lips]
    panel.set_face(_face(_reliability()), 1)
    assert "2 positive" in panel.title.text()
    assert overlay.state()["unreliable"] is True


def test_a_bundle_without_figures_dims_nothing(qtbot):
    from attricam.desktop.attribute_panel import AttributePanel

    panel = AttributePanel()
    qtbot.addWidget(panel)
    face = _face(_reliability())
    panel.set_face(FaceResult(**{**face.__dict__, "reliability": None, "second_opinion": False}), 1)
    assert panel.bars.reliable().all() and panel.bars.shown_positive().sum() == 2
