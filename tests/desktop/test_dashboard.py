"""Dashboard numbers and plots, from evaluation arrays and from a stored report; PNG export."""

from __future__ import annotations

import numpy as np
import pytest

from engine.attributes import NUM_ATTRIBUTES, TRAIN_POSITIVE_RATE


def _arrays(n=300, seed=0):
    rng = np.random.default_rng(seed)
    labels = (rng.random((n, NUM_ATTRIBUTES)) < np.asarray(TRAIN_POSITIVE_RATE)).astype(np.float32)
    probabilities = np.clip(labels * 0.4 + rng.random((n, NUM_ATTRIBUTES)) * 0.6, 0, 1).astype(np.float32)
    attention = rng.random((2, NUM_ATTRIBUTES, 12, 10)).astype(np.float32)
    return probabilities, labels, attention


def test_imbalance_rows_use_the_capped_positive_weight():
    from desktop.dashboard_data import imbalance_rows
    from engine.attributes import attribute_index

    rows = {r[0]: r for r in imbalance_rows()}
    bald, no_beard = TRAIN_POSITIVE_RATE[attribute_index("Bald")], TRAIN_POSITIVE_RATE[attribute_index("No_Beard")]
    assert rows["Bald"][4] == pytest.approx(min(50.0, 1 / (bald + 0.001)))
    assert rows["No_Beard"][4] == pytest.approx(max(1.0, 1 / (no_beard + 0.001)))
    assert rows["Mustache"][4] == pytest.approx(
        min(50.0, 1 / (TRAIN_POSITIVE_RATE[attribute_index("Mustache")] + 0.001))
    )
    assert rows["Bald"][3] == pytest.approx(1 - bald)
    assert rows["Bald"][1] == "ULTRA-RARE"


def test_dashboard_plots_and_exports(qtbot, settings, tmp_path):
    from desktop.dashboard_data import DashboardData
    from desktop.dashboard_tab import DashboardTab
    from engine.bundle import random_bundle

    tab = DashboardTab(settings)
    qtbot.addWidget(tab)
    tab.resize(1200, 800)
    tab.show()
    tab.set_bundle(random_bundle())
    assert "UNTRAINED" in tab.caption.text()
    probabilities, labels, attention = _arrays()
    data = DashboardData.from_arrays(probabilities, labels, [0.5] * NUM_ATTRIBUTES, attention, None, "synthetic")
    tab.set_data(data)
    assert len(data.roc) == NUM_ATTRIBUTES
    assert len(tab.roc_plot.getPlotItem().listDataItems()) >= NUM_ATTRIBUTES
    assert tab.table.rowCount() == NUM_ATTRIBUTES and tab.table.columnCount() == 11
    paths = tab.export_plots(tmp_path / "plots")
    assert len(paths) == 6 and all(p.stat().st_size > 1000 for p in paths)
    tab.shutdown()


def test_report_file_is_found_beside_the_bundle(tmp_path):
    import json

    from desktop.dashboard_data import DashboardData, find_report
    from engine.bundle import random_bundle
    from training.metrics import evaluate_predictions

    probabilities, labels, _ = _arrays()
    bundle = random_bundle()
    bundle.save(tmp_path / "model.pt")
    (tmp_path / "val_report.json").write_text(json.dumps(evaluate_predictions(probabilities, labels, 0.5).to_dict()))
    report = find_report(bundle)
    assert report == tmp_path / "val_report.json"
    data = DashboardData.from_report_file(report)
    assert len(data.metrics) == NUM_ATTRIBUTES and data.count == 300 and not data.roc


def test_gain_axis_names_every_attribute_and_roc_has_a_colour_scale(qtbot, settings):
    from desktop.dashboard_data import DashboardData
    from desktop.dashboard_tab import DashboardTab
    from engine.attributes import ATTRIBUTES

    tab = DashboardTab(settings)
    qtbot.addWidget(tab)
    tab.resize(1100, 800)
    tab.show()
    probabilities, labels, attention = _arrays()
    tab.set_data(DashboardData.from_arrays(probabilities, labels, [0.5] * NUM_ATTRIBUTES, attention, None, "x"))
    names = tab.gain_plot.getAxis("bottom").label_texts()
    assert sorted(names) == sorted(a.display_name for a in ATTRIBUTES)  # all 40, whole, none skipped
    from PySide6.QtGui import QFontMetrics

    axis = tab.gain_plot.getAxis("bottom")
    qtbot.wait(50)
    tab.grab()
    longest = max(QFontMetrics(axis.font()).horizontalAdvance(n) for n in names)
    assert axis.height() > longest  # written upwards, with room for the longest
    import pyqtgraph as pg

    labels = [item.labelText for item in tab.roc_scale.childItems() if isinstance(item, pg.AxisItem)]
    assert tab.roc_scale.isVisible() and any("training frequency" in text for text in labels)
    tab.shutdown()


def test_evaluation_shows_progress_and_can_be_cancelled(qtbot, settings, celeba_root):
    from desktop.dashboard_tab import DashboardTab
    from engine.bundle import random_bundle

    tab = DashboardTab(settings)
    qtbot.addWidget(tab)
    tab.show()
    tab.set_bundle(random_bundle())
    tab.root_edit.setText(str(celeba_root))
    assert not tab.progress.isVisible() and not tab.cancel_button.isVisible()
    assert tab.evaluate()
    assert tab.progress.isVisible() and tab.cancel_button.isEnabled()
    tab._on_event({"kind": "progress", "done": 64, "total": 400})  # what the job prints between chunks
    assert (tab.progress.value(), tab.progress.maximum()) == (64, 400)
    assert tab.progress.text() == "64 / 400 faces"
    tab.cancel_button.click()
    qtbot.waitUntil(lambda: not tab.job.running, timeout=15000)
    qtbot.waitUntil(lambda: "cancelled" in tab.caption.text(), timeout=15000)
    assert not tab.progress.isVisible() and tab.evaluate_button.isEnabled()
    tab.shutdown()
