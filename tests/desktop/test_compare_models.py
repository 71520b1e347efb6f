"""Two models side by side, live: a second bundle beside the live model on the same faces, chosen from the
Model menu or from the journey's results, shown bar by bar with disagreements first, and exported with S."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

import cv2
import pytest
from PySide6.QtCore import QPoint, Qt

from attricam.engine.attributes import ATTRIBUTES

from .helpers import drop_files, wait_for_packet


def _save_bundle(folder: Path, seed: int) -> Path:
    from attricam.engine.bundle import random_bundle

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.pt"
    random_bundle(seed=seed).save(path)
    return path


@pytest.fixture
def analyse_threads(monkeypatch):
    """The threads the second model ran on."""
    from attricam.engine.comparison import SecondModel

    threads: list[threading.Thread] = []
    original = SecondModel.analyze

    def analyze(self, *args, **kwargs):
        threads.append(threading.current_thread())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SecondModel, "analyze", analyze)
    return threads


def test_a_second_model_stands_beside_the_live_one(
    qtbot, make_window, celeba_face_paths, tmp_path, monkeypatch, analyse_threads
):
    second = _save_bundle(tmp_path / "other-run", seed=1)
    monkeypatch.setattr("attricam.desktop.model_files.QFileDialog.getOpenFileName", lambda *a, **k: (str(second), ""))
    window = make_window()
    live = window.live
    drop_files(window, [celeba_face_paths[0]])
    wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    assert live.side_tabs.currentWidget() is live.attributes

    qtbot.keyClick(live.video, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    packet = wait_for_packet(qtbot, window, lambda p: p.comparison is not None and p.compare_tiles is not None)
    assert analyse_threads and all(t is not threading.main_thread() for t in analyse_threads)  # worker thread only
    qtbot.waitUntil(lambda: live.side_tabs.currentWidget() is live.comparison)
    panel = live.comparison
    qtbot.waitUntil(lambda: "other-run/model.pt" in panel.model_labels[1].text())  # the panel refreshes at 10 Hz
    assert [f.face_id for f in packet.comparison.second.faces] == [f.face_id for f in packet.result.faces]
    qtbot.waitUntil(lambda: panel.bars.disagreements() == packet.comparison.disagreements(live.selected_face))
    differ = panel.bars.disagreements()
    assert differ and panel.bars.visible_attributes()[: len(differ)] == differ
    assert all(ATTRIBUTES[i].frequency <= ATTRIBUTES[j].frequency for i, j in itertools.pairwise(differ))
    qtbot.waitUntil(lambda: f"{len(differ)} disagreement" in panel.summary.text())
    qtbot.waitUntil(lambda: all(not tile.pixmap().isNull() for tile in panel.tiles))

    # a click on the first (rarest) disagreement shows where each model looked for it
    top = panel.bars.row_rect(differ[0]).center().toPoint()
    qtbot.mouseClick(panel.bars, Qt.MouseButton.LeftButton, pos=QPoint(20, top.y()))
    packet = wait_for_packet(qtbot, window, lambda p: p.options.attribute == differ[0] and p.compare_tiles is not None)
    qtbot.waitUntil(lambda: ATTRIBUTES[differ[0]].display_name in panel.caption.text())

    # S exports both models: the PNG is wider than the frame, the JSON names both and where they disagree
    with qtbot.waitSignal(live.worker.snapshotSaved, timeout=20000) as saved:
        qtbot.keyClick(live.video, Qt.Key.Key_S)
    png, sidecar = saved.args
    frame = packet.frame
    assert cv2.imread(png).shape[1] > frame.shape[1]
    data = json.loads(Path(sidecar).read_text())
    assert data["comparison"]["model"] == "other-run/model.pt"
    entry = next(f for f in data["comparison"]["faces"] if f["face"] == live.selected_face)
    assert [d["attribute"] for d in entry["disagreements"]] == [ATTRIBUTES[i].name for i in differ]

    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    wait_for_packet(qtbot, window, lambda p: p.comparison is None)
    assert live.side_tabs.currentWidget() is live.attributes and live.compare_bundle is None


def test_the_journey_puts_naive_and_best_side_by_side(qtbot, make_window, celeba_face_paths, tmp_path):
    naive, best = _save_bundle(tmp_path / "bce", seed=1), _save_bundle(tmp_path / "weighted", seed=2)
    other = _save_bundle(tmp_path / "focal", seed=3)
    row = {"rare_pred_pos_rate@0.5": 0.01, "rare_f1@0.5": 0.3, "rare_f1": 0.4, "mean_auc": 0.9, "seconds": 50}
    rows = [
        {**row, "recipe": "bce", "bundle": str(naive), "stuck_at_0.5": ["Blurry", "Chubby", "Mustache"]},
        {**row, "recipe": "focal", "bundle": str(other), "stuck_at_0.5": ["Blurry", "Chubby"]},
        {**row, "recipe": "weighted", "bundle": str(best), "stuck_at_0.5": []},
    ]
    (tmp_path / "comparison.json").write_text(json.dumps({"budget": "3 epochs", "rows": rows}))
    window = make_window()
    drop_files(window, [celeba_face_paths[0]])
    wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    journey = window.training.journey
    assert journey.show_comparison(tmp_path)
    assert journey.side_by_side_button.text() == "bce vs weighted, side by side live"

    qtbot.mouseClick(journey.side_by_side_button, Qt.MouseButton.LeftButton)
    live = window.live
    qtbot.waitUntil(
        lambda: (
            live.bundle is not None
            and live.bundle.path == naive
            and live.compare_bundle is not None
            and live.compare_bundle.path == best
            and not live.busy
        ),
        timeout=30000,
    )
    assert window.tabs.currentWidget() is live
    qtbot.waitUntil(
        lambda: (
            live.packet.comparison is not None
            and live.packet.comparison.first_label == "bce/model.pt"
            and live.packet.comparison.second_label == "weighted/model.pt"
        ),
        timeout=30000,
    )

    # one click on a recipe compares it with whatever is live
    journey.recipe_box.setCurrentIndex(journey.recipe_box.findText("focal"))
    qtbot.mouseClick(journey.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: live.packet.comparison is not None and live.packet.comparison.second_label == "focal/model.pt",
        timeout=30000,
    )
    assert live.bundle.path == naive


def test_a_finished_run_is_compared_with_the_live_model_in_one_click(qtbot, make_window, celeba_face_paths, tmp_path):
    from attricam.training.events import FinishedEvent

    trained = _save_bundle(tmp_path / "gui-weighted-1", seed=4)
    window = make_window()
    drop_files(window, [celeba_face_paths[0]])
    wait_for_packet(qtbot, window, lambda p: len(p.result.faces) >= 1)
    tab = window.training
    assert not tab.compare_result_button.isEnabled()
    tab._on_event(FinishedEvent(str(trained), "", 1, None, ""))  # what the trainer says at its end
    qtbot.mouseClick(tab.compare_result_button, Qt.MouseButton.LeftButton)
    live = window.live
    qtbot.waitUntil(
        lambda: live.packet.comparison is not None and live.packet.comparison.second_label == "gui-weighted-1/model.pt",
        timeout=30000,
    )
    assert window.tabs.currentWidget() is live and live.bundle.path != trained  # the live model stays
