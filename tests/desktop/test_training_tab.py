"""The training tab runs a real (tiny) training in a worker process, plots it, and loads the result live."""

from __future__ import annotations

import pytest

from training.losses import LOSS_NAMES


def test_loss_picker_offers_every_training_loss(qtbot, settings):
    from desktop.training_tab import TrainingTab

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    offered = [tab.form.loss.itemData(i) for i in range(tab.form.loss.count())]
    assert offered == list(LOSS_NAMES)


def test_start_refuses_a_folder_that_is_not_celeba(qtbot, settings, tmp_path):
    from desktop.training_tab import TrainingTab

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    tab.form.data_root.setText(str(tmp_path))
    assert tab.start() is False
    assert "not a CelebA root" in tab.state_label.text()
    assert not tab.job.running


def test_plots_follow_events(qtbot, settings):
    from desktop.training_tab import TrainingTab

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    tab._on_event({"kind": "started", "run": "r", "epochs": 2, "start_epoch": 0, "steps_per_epoch": 2,
                   "train_images": 8, "val_images": 4})  # fmt: skip
    for step in (1, 2):
        tab._on_event({"kind": "step", "epoch": 0, "step": step, "steps_per_epoch": 2, "loss": 1.0 / step, "lr": 1e-3,
                       "images_per_s": 10.0})  # fmt: skip
    tab._on_event({"kind": "stuck", "epoch": 0, "attribute": "Bald", "predicted_positive_rate": 0.0,
                   "true_positive_rate": 0.02})  # fmt: skip
    tab._on_event({"kind": "fix", "epoch": 0, "action": "raise_lr", "detail": "lr 1e-3 -> 2e-3"})
    tab._on_event({"kind": "epoch", "epoch": 0, "epochs": 2, "train_loss": 0.7, "lr": 1e-3, "seconds": 1.0,
                   "images_per_s": 8.0, "predicted_positive_rate": [0.1] * 40,
                   "val": {"mean_f1": 0.3, "rare_mean_f1": 0.1, "mean_auc": 0.6}, "stuck": ["Bald"],
                   "fixes": ["raise_lr: x"], "best_epoch": 0})  # fmt: skip
    plots = tab.plots
    assert plots.epochs_plotted == 1
    assert len(plots.step_curve.getData()[0]) == 2
    texts = [plots.events.item(i).text() for i in range(plots.events.count())]
    assert any("STUCK Bald" in t for t in texts) and any("FIX raise_lr" in t for t in texts)
    assert plots.f1_curves["rare_mean_f1"].getData()[1].tolist() == [0.1]
    assert tab.progress.value() == 1



def test_sampler_picker_offers_every_sampler_and_round_trips(qtbot, settings, tmp_path):
    from desktop.training_tab import TrainingTab
    from training.sampling import SAMPLERS

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    form = tab.form
    assert [form.sampler.itemData(i) for i in range(form.sampler.count())] == list(SAMPLERS)
    assert form.config(out=str(tmp_path)).sampler == "random"
    form.sampler.setCurrentIndex(SAMPLERS.index("curriculum"))
    config = form.config(out=str(tmp_path))
    assert config.sampler == "curriculum"
    form.sampler.setCurrentIndex(0)
    form.set_config(config)
    assert form.sampler.currentData() == "curriculum"


def test_a_fix_marks_its_epoch_on_the_plots(qtbot, settings):
    from desktop.training_plots import TrainingPlots

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.add_event({"kind": "stuck", "epoch": 2, "attribute": "Bald", "predicted_positive_rate": 0.99,
                     "true_positive_rate": 0.02, "direction": "all-positive"})  # fmt: skip
    assert plots.fix_markers == {}  # a flag alone changes nothing
    for action in ("lower_pos_weight", "raise_lr"):
        plots.add_event({"kind": "fix", "epoch": 2, "action": action, "detail": "x"})
    assert list(plots.fix_markers) == [3]  # after epoch 3 (1-based): where the new loss starts
    loss_line, f1_line = plots.fix_markers[3]
    assert loss_line.value() == 3 and f1_line.value() == 3
    assert loss_line in plots.loss_plot.getPlotItem().items and f1_line in plots.f1_plot.getPlotItem().items
    assert loss_line.label.format == "2 fixes" and "lower_pos_weight, raise_lr" in loss_line.toolTip()
    texts = [plots.events.item(i).text() for i in range(plots.events.count())]
    assert any("STUCK Bald (all-positive)" in t for t in texts)
    plots.clear()
    assert plots.fix_markers == {} and loss_line not in plots.loss_plot.getPlotItem().items


def configure_tiny_run(tab, celeba_root, out, *, epochs: int) -> None:
    """A run small enough for CI: 48 train and 24 val faces, batch 16, one worker, no ONNX export."""
    tab.form.data_root.setText(str(celeba_root))
    tab.form.out.setText(str(out))
    tab.form.epochs.setValue(epochs)
    tab.form.batch_size.setValue(16)
    tab.form.train_limit.setValue(48)
    tab.form.val_limit.setValue(24)
    tab.extra_config = {"export_onnx": False, "workers": 1, "num_threads": 1}


@pytest.mark.slow
def test_tiny_training_runs_to_completion_and_loads_live(qtbot, make_window, celeba_root, tmp_path):
    window = make_window()
    tab = window.training
    configure_tiny_run(tab, celeba_root, tmp_path / "run", epochs=2)
    tab.form.loss.setCurrentIndex(list(LOSS_NAMES).index("focal"))
    assert tab.start()
    qtbot.waitUntil(lambda: not tab.job.running, timeout=480000)
    assert tab.finished_event is not None, tab.log_view.toPlainText()[-3000:]
    assert tab.plots.epochs_plotted == 2
    assert len(tab.plots.step_curve.getData()[0]) >= 2
    assert tab.report.rowCount() == 40
    assert tab.load_button.isEnabled()
    tab.load_button.click()
    qtbot.waitUntil(lambda: window.live.bundle is not None and window.live.bundle.trained, timeout=30000)
    assert str(window.live.bundle.path) == tab.finished_event["bundle"]
    assert "trained" in window.model_label.text() and "UNTRAINED" not in window.model_label.text()
    assert window.live.video.model_warning == ""
    tab.default_button.click()
    qtbot.waitUntil(lambda: not window.live.bundle.trained or window.live.bundle.path != tmp_path / "run" / "model.pt",
                    timeout=30000)  # fmt: skip


@pytest.mark.slow
def test_stop_then_resume_from_checkpoint(qtbot, settings, celeba_root, tmp_path):
    from desktop.training_tab import TrainingTab

    tab = TrainingTab(settings)
    tab.ask_before_close = False
    qtbot.addWidget(tab)
    configure_tiny_run(tab, celeba_root, tmp_path / "run", epochs=3)
    assert tab.start()
    qtbot.waitUntil(lambda: tab.plots.epochs_plotted >= 1, timeout=480000)
    tab.pause_button.setChecked(True)
    assert tab.job.paused
    tab.pause_button.setChecked(False)
    tab.stop()
    assert not tab.job.running
    assert (tmp_path / "run" / "checkpoint.pt").is_file()
    assert tab.resume_run(tmp_path / "run")
    qtbot.waitUntil(lambda: not tab.job.running, timeout=480000)
    assert tab.finished_event is not None, tab.log_view.toPlainText()[-3000:]
    tab.shutdown()
