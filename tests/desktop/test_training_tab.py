"""The training tab runs a real (tiny) training in a worker process, plots it, and loads the result live."""

from __future__ import annotations

import pytest

from attricam.training.losses import LOSS_NAMES


def test_loss_picker_offers_every_training_loss(qtbot, settings):
    from attricam.desktop.training_tab import TrainingTab

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    offered = [tab.form.combo_box("loss").itemData(i) for i in range(tab.form.combo_box("loss").count())]
    assert offered == list(LOSS_NAMES)


def test_start_refuses_a_folder_that_is_not_celeba(qtbot, settings, tmp_path):
    from attricam.desktop.training_tab import TrainingTab

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    tab.form.data_root.setText(str(tmp_path))
    assert tab.start() is False
    assert "not a CelebA root" in tab.state_label.text()
    assert not tab.job.running


def test_a_followed_event_log_drives_plots_progress_and_state(qtbot, settings, tmp_path):
    from attricam.desktop.training_tab import TrainingTab
    from attricam.training.events import (
        EpochEvent,
        FixAction,
        FixEvent,
        JsonLinesWriter,
        StartedEvent,
        StepEvent,
        StuckEvent,
        ValSummary,
    )

    log = tmp_path / "events.jsonl"
    writer = JsonLinesWriter(log)
    for event in (
        StartedEvent(run="r", epochs=2, start_epoch=0, steps_per_epoch=2, train_images=8, val_images=4),
        StepEvent(epoch=0, step=1, steps_per_epoch=2, loss=1.0, lr=1e-3, images_per_s=10.0),
        StepEvent(epoch=0, step=2, steps_per_epoch=2, loss=0.5, lr=1e-3, images_per_s=10.0),
        StuckEvent(epoch=0, attribute="Bald", predicted_positive_rate=0.0, true_positive_rate=0.02),
        FixEvent(epoch=0, action=FixAction.RAISE_LR, detail="lr 1e-3 -> 2e-3"),
        EpochEvent(
            epoch=0,
            epochs=2,
            train_loss=0.7,
            lr=1e-3,
            seconds=1.0,
            images_per_s=8.0,
            predicted_positive_rate=[0.1] * 40,
            val=ValSummary(
                count=24,
                mean_accuracy=0.9,
                mean_balanced_accuracy=0.7,
                mean_f1=0.3,
                mean_auc=0.6,
                rare_mean_f1=0.1,
                common_mean_f1=0.5,
                rare_predicted_positive_rate=0.05,
            ),
            stuck=["Bald"],
            fixes=["raise_lr: x"],
            best_epoch=0,
        ),
    ):
        writer(event)
    writer.close()
    with open(log, "a") as handle:
        handle.write('not an event\n{"kind": "step", "epoch": 1')  # noise, and a line still being written
    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    assert tab.watch_events(log) == 6
    tab.follower.stop()
    plots = tab.plots
    assert plots.epoch_numbers == [1]
    assert len(plots.step_curve.getData()[0]) == 2
    texts = [plots.events.item(i).text() for i in range(plots.events.count())]
    assert any("STUCK Bald" in t for t in texts) and any("FIX raise_lr" in t for t in texts)
    assert plots.f1_curves["rare_mean_f1"].getData()[1].tolist() == [0.1]
    assert plots.f1_curves["common_mean_f1"].getData()[1].tolist() == [0.5]
    assert (tab.run.epochs, tab.run.epochs_done) == (2, 1)
    assert (tab.progress.value(), tab.progress.maximum()) == (1, 2)


def test_the_form_offers_every_tunable_config_field_and_round_trips_it(qtbot, settings, tmp_path):
    from dataclasses import replace

    from attricam.desktop.training_tab import TrainingTab
    from attricam.training.config import SAMPLERS, TrainConfig, tunable_fields

    tab = TrainingTab(settings)
    qtbot.addWidget(tab)
    form = tab.form
    assert list(form.fields) == [f.name for f in tunable_fields()]
    assert {"loss", "sampler", "epochs", "lr", "batch_size", "threshold_policy"} <= set(form.fields)
    assert [form.combo_box("sampler").itemData(i) for i in range(form.combo_box("sampler").count())] == list(SAMPLERS)
    recipe = replace(
        TrainConfig(data=(str(tmp_path),), out=str(tmp_path / "run")),
        loss="ldam",
        sampler="balanced",
        epochs=7,
        lr=0.0123,
        weight_decay=0.2,
        batch_size=64,
        seed=5,
        train_limit=300,
        val_limit=None,
        threshold_policy="f1",
        stuck_fixes=False,
    )
    form.set_config(recipe)
    assert form.config() == replace(recipe, name="run")
    loss = form.combo_box("loss")
    assert "positive weight 1" in loss.itemData(list(LOSS_NAMES).index("focal"), 3)  # not "capped weights"


def test_a_fix_marks_its_epoch_on_the_plots(qtbot, settings):
    from attricam.desktop.training_plots import TrainingPlots
    from attricam.training.events import FixAction, FixEvent, StuckEvent

    plots = TrainingPlots()
    qtbot.addWidget(plots)
    plots.add_event(
        StuckEvent(
            epoch=2, attribute="Bald", predicted_positive_rate=0.99, true_positive_rate=0.02, direction="all-positive"
        )
    )
    assert plots.fix_markers == {}  # a flag alone changes nothing
    for action in (FixAction.LOWER_POS_WEIGHT, FixAction.RAISE_LR):
        plots.add_event(FixEvent(epoch=2, action=action, detail="x"))
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
    tab.form.spin_box("epochs").setValue(epochs)
    tab.form.spin_box("batch_size").setValue(16)
    tab.form.spin_box("train_limit").setValue(48)
    tab.form.spin_box("val_limit").setValue(24)
    tab.extra_config = {"export_onnx": False, "workers": 1, "num_threads": 1}


@pytest.mark.slow
def test_tiny_training_runs_to_completion_and_loads_live(qtbot, make_window, celeba_root, tmp_path):
    window = make_window()
    tab = window.training
    configure_tiny_run(tab, celeba_root, tmp_path / "run", epochs=2)
    tab.form.combo_box("loss").setCurrentIndex(list(LOSS_NAMES).index("focal"))
    assert tab.start()
    qtbot.waitUntil(lambda: not tab.job.running, timeout=480000)
    assert tab.finished_event is not None, tab.log_view.toPlainText()[-3000:]
    assert tab.plots.epochs_plotted == 2
    assert len(tab.plots.step_curve.getData()[0]) >= 2
    assert tab.report.rowCount() == 40
    assert tab.load_button.isEnabled()
    tab.load_button.click()
    qtbot.waitUntil(lambda: window.live.bundle is not None and window.live.bundle.trained, timeout=30000)
    assert str(window.live.bundle.path) == tab.finished_event.bundle
    weights = window.live.bundle.metadata["loss_weights"]  # what the focal loss really applied: weight 1
    assert weights["loss"] == "focal" and weights["source"] == "trained" and set(weights["pos_weight"]) == {1.0}
    assert "trained" in window.model_label.text() and "UNTRAINED" not in window.model_label.text()
    assert window.live.video.model_warning == ""
    tab.default_button.click()
    qtbot.waitUntil(
        lambda: not window.live.bundle.trained or window.live.bundle.path != tmp_path / "run" / "model.pt",
        timeout=30000,
    )


@pytest.mark.slow
def test_stop_then_resume_continues_at_the_next_epoch(qtbot, settings, celeba_root, tmp_path):
    import torch

    from attricam.desktop.training_tab import TrainingTab
    from attricam.training.events import EpochEvent

    tab = TrainingTab(settings)
    tab.ask_before_close = False
    qtbot.addWidget(tab)
    configure_tiny_run(tab, celeba_root, tmp_path / "run", epochs=3)

    def suspend_after_the_first_epoch(event) -> None:
        if isinstance(event, EpochEvent) and not tab.job.paused:
            tab.pause_button.setChecked(True)  # SIGSTOP as the event arrives: however fast the machine, the run
            # cannot finish its other two epochs (each with its val pass and checkpoint) before the Stop below

    tab.job.event.connect(suspend_after_the_first_epoch)
    assert tab.start()
    qtbot.waitUntil(lambda: tab.job.paused, timeout=480000)
    assert tab.plots.epochs_plotted >= 1
    tab.job.event.disconnect(suspend_after_the_first_epoch)
    tab.pause_button.setChecked(False)
    tab.stop()
    assert not tab.job.running
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    done = int(torch.load(checkpoint, map_location="cpu", weights_only=True)["epoch"]) + 1
    assert tab.run.stopped is not None and tab.run.stopped.epochs_done == done  # the process said where it stopped
    assert 1 <= done < 3, f"Stop came after {done} of 3 epochs"
    assert tab.resume_run(tmp_path / "run")
    qtbot.waitUntil(lambda: not tab.job.running, timeout=480000)
    assert tab.finished_event is not None, tab.log_view.toPlainText()[-3000:]
    assert tab.run.start_epoch == done  # the resumed process started after the checkpoint, not at epoch 0
    assert tab.plots.epoch_numbers[-(3 - done) :] == list(range(done + 1, 4))  # the epochs after the stop, once each
    assert len(set(tab.plots.epoch_numbers)) == len(tab.plots.epoch_numbers) and max(tab.plots.epoch_numbers) == 3
    tab.shutdown()
