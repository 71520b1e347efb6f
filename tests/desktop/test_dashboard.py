"""Dashboard numbers and plots, from an evaluation report and from a stored report; PNG export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from attricam.engine.attributes import ATTRIBUTES, NUM_ATTRIBUTES, TRAIN_POSITIVE_RATE


def _arrays(n=300, seed=0):
    rng = np.random.default_rng(seed)
    labels = (rng.random((n, NUM_ATTRIBUTES)) < np.asarray(TRAIN_POSITIVE_RATE)).astype(np.float32)
    probabilities = np.clip(labels * 0.4 + rng.random((n, NUM_ATTRIBUTES)) * 0.6, 0, 1).astype(np.float32)
    attention = rng.random((2, NUM_ATTRIBUTES, 12, 10)).astype(np.float32)
    return probabilities, labels, attention


def _evaluation_report(folder, loss_weights=None):
    """An ``attricam evaluate`` report on synthetic predictions, laid out as attricam.training.evaluate_cmd writes it."""
    from attricam.training.metrics import evaluate_predictions, roc_points

    probabilities, labels, attention = _arrays()
    report = evaluate_predictions(probabilities, labels, 0.5).to_dict()
    roc = {
        a.name: dict(zip(("fpr", "tpr"), (v.tolist() for v in roc_points(probabilities[:, j], labels[:, j]))))
        for j, a in enumerate(ATTRIBUTES)
    }
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "val_arrays.npz", attention=attention, mean_face=np.zeros((96, 80, 3), np.uint8))
    path = folder / "val_report.json"
    path.write_text(json.dumps({**report, "roc": roc, "loss_weights": loss_weights or {}, "arrays": "val_arrays.npz"}))
    return path


def test_the_weight_column_and_plot_show_the_weights_the_model_recorded(qtbot, settings):
    from attricam.desktop.dashboard_tab import DashboardTab
    from attricam.engine.bundle import random_bundle

    tab = DashboardTab(settings)
    qtbot.addWidget(tab)
    bundle = random_bundle()
    tab.set_bundle(bundle)  # records no weights: the dashboard does not invent any
    headers = [tab.table.horizontalHeaderItem(c).text() for c in range(tab.table.columnCount())]
    assert not any("weight" in h for h in headers)
    bundle.metadata["loss_weights"] = {"loss": "focal", "pos_weight": [1.0] * NUM_ATTRIBUTES, "source": "trained"}
    tab.set_bundle(bundle)  # focal applies weight 1, not a cap of 50
    headers = [tab.table.horizontalHeaderItem(c).text() for c in range(tab.table.columnCount())]
    column = headers.index("pos. weight applied (focal)")
    assert {tab.table.item(r, column).text() for r in range(NUM_ATTRIBUTES)} == {"1.00"}
    tab.shutdown()


def test_dashboard_plots_and_exports(qtbot, settings, tmp_path):
    from attricam.desktop.dashboard_data import DashboardData
    from attricam.desktop.dashboard_tab import DashboardTab
    from attricam.engine.bundle import random_bundle

    tab = DashboardTab(settings)
    qtbot.addWidget(tab)
    tab.resize(1200, 800)
    tab.show()
    tab.set_bundle(random_bundle())
    assert "UNTRAINED" in tab.caption.text()
    weights = {"loss": "weighted", "pos_weight": np.linspace(1, 50, NUM_ATTRIBUTES).tolist(), "source": "trained"}
    data = DashboardData.from_report_file(_evaluation_report(tmp_path / "eval", weights))
    tab.set_data(data)
    assert len(data.roc) == NUM_ATTRIBUTES and data.attention is not None and data.mean_face is not None
    assert "weighted" in tab.weight_plot.getAxis("bottom").labelText  # the weights the report says were applied
    assert len(tab.roc_plot.getPlotItem().listDataItems()) >= NUM_ATTRIBUTES
    assert tab.table.rowCount() == NUM_ATTRIBUTES and tab.table.columnCount() == 11
    paths = tab.export_plots(tmp_path / "plots")
    assert len(paths) == 6 and all(p.stat().st_size > 1000 for p in paths)
    tab.shutdown()


def test_report_file_is_found_beside_the_bundle(tmp_path):
    import json

    from attricam.desktop.dashboard_data import DashboardData, find_report
    from attricam.engine.bundle import random_bundle
    from attricam.training.metrics import evaluate_predictions

    probabilities, labels, _ = _arrays()
    bundle = random_bundle()
    bundle.save(tmp_path / "model.pt")
    (tmp_path / "val_report.json").write_text(json.dumps(evaluate_predictions(probabilities, labels, 0.5).to_dict()))
    report = find_report(bundle)
    assert report == tmp_path / "val_report.json"
    data = DashboardData.from_report_file(report)
    assert len(data.metrics) == NUM_ATTRIBUTES and data.count == 300 and not data.roc


def test_gain_axis_names_every_attribute_and_roc_has_a_colour_scale(qtbot, settings, tmp_path):
    from attricam.desktop.dashboard_data import DashboardData
    from attricam.desktop.dashboard_tab import DashboardTab
    from attricam.engine.attributes import ATTRIBUTES

    tab = DashboardTab(settings)
    qtbot.addWidget(tab)
    tab.resize(1100, 800)
    tab.show()
    tab.set_data(DashboardData.from_report_file(_evaluation_report(tmp_path / "eval")))
    names = tab.gain_plot.getAxis("bottom").label_texts()
    assert sorted(names) == sorted(a.display_name for a in ATTRIBUTES)  # all 40, whole, none skipped
    from PySide6.QtGui import QFontMetrics

    axis = tab.gain_plot.getAxis("bottom")
    longest = max(QFontMetrics(axis.font()).horizontalAdvance(n) for n in names)
    qtbot.waitUntil(lambda: axis.height() > longest, timeout=5000)  # written upwards, with room for the longest
    import pyqtgraph as pg

    labels = [item.labelText for item in tab.roc_scale.childItems() if isinstance(item, pg.AxisItem)]
    assert tab.roc_scale.isVisible() and any("training frequency" in text for text in labels)
    from PySide6.QtGui import QImage, QPainter

    image = QImage(400, 400, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    for side in ("bottom", "left"):  # both rates run 0 to 1 and the drawn labels say so at both ends
        drawn = [spec[2] for spec in tab.roc_plot.getAxis(side).generateDrawSpecs(painter)[2]]
        assert "0.0" in drawn and "1.0" in drawn, (side, drawn)
    painter.end()
    tab.shutdown()


def test_evaluation_shows_progress_and_can_be_cancelled(qtbot, settings, celeba_root):
    from attricam.desktop.dashboard_tab import DashboardTab
    from attricam.engine.bundle import random_bundle

    tab = DashboardTab(settings)
    qtbot.addWidget(tab)
    tab.show()
    tab.set_bundle(random_bundle())
    tab.root_edit.setText(str(celeba_root))
    tab.limit.setValue(0)  # every val face: long enough to cancel midway
    assert not tab.progress.isVisible() and not tab.cancel_button.isVisible()
    assert tab.evaluate()
    assert tab.progress.isVisible() and tab.cancel_button.isEnabled()
    tab.cancel_button.click()
    qtbot.waitUntil(lambda: not tab.job.running, timeout=15000)
    qtbot.waitUntil(lambda: "cancelled" in tab.caption.text(), timeout=15000)
    assert not tab.progress.isVisible() and tab.evaluate_button.isEnabled()
    assert tab.data is None  # nothing half-evaluated is shown
    tab.shutdown()


@pytest.mark.slow
def test_evaluation_runs_the_public_cli_and_shows_its_report(qtbot, settings, celeba_root):
    """Evaluate drives ``attricam evaluate --json-events``: progress arrives, then metrics, ROC and attention."""
    from attricam.desktop.dashboard_tab import DashboardTab
    from attricam.engine.bundle import random_bundle

    tab = DashboardTab(settings)
    qtbot.addWidget(tab)
    tab.show()
    tab.set_bundle(random_bundle())
    tab.root_edit.setText(str(celeba_root))
    tab.limit.setValue(24)
    assert tab.evaluate()
    qtbot.waitUntil(lambda: tab.progress.maximum() == 24, timeout=480000)  # a progress event of the child
    qtbot.waitUntil(lambda: not tab.job.running, timeout=480000)
    assert tab.data is not None, tab.caption.text()
    assert tab.data.count == 24 and tab.data.attention is not None and tab.data.roc
    assert len(tab.roc_plot.getPlotItem().listDataItems()) > len(tab.data.roc)  # the curves and the diagonal
    assert tab.table.rowCount() == NUM_ATTRIBUTES and "evaluation of" in tab.caption.text()
    tab.shutdown()
