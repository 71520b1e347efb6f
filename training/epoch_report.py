"""What an epoch of training is judged by, and how it is recorded and reported.

The selection set's figures choose the checkpoint and feed the stuck diagnosis; val at 0.5 is for the plots
only. :func:`epoch_record` is the checkpoint's line for an epoch and :func:`report_epoch` tells the listener
(the GUI, the CLI's progress). The loop that calls them is :func:`attricam.training.trainer.main`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .checkpoint import EpochRecord
from .config import TrainConfig
from .data import FaceArrays
from .distributed import DistContext
from .epoch import EpochStats, evaluate
from .evaluation import AttentionSummary, attention_summary
from .events import EpochEvent, Event, EventCallback, FixEvent, StuckEvent, ValSummary
from .metrics import evaluate_predictions

__all__ = ["EpochScores", "epoch_record", "report_epoch", "score_epoch"]


@dataclass(frozen=True)
class EpochScores:
    """What an epoch is judged by: the selection set's figures (they choose the checkpoint and feed the stuck
    diagnosis) and val at 0.5 for the plots."""

    selection: dict[str, float]
    val_at_half: dict[str, float]
    attention: AttentionSummary
    predicted_rate: np.ndarray
    score: float


def score_epoch(
    model: torch.nn.Module,
    stats: EpochStats,
    select: FaceArrays,
    val: FaceArrays,
    holdout: FaceArrays,
    cfg: TrainConfig,
    ctx: DistContext,
) -> EpochScores:
    """Score the epoch's model on the selection set (the calibration slice, else val); without one, the training
    loss and the training batches' predicted-positive rates stand in."""
    selection: dict[str, float] = {}
    attention: AttentionSummary = {}
    predicted_rate = np.asarray(stats.train_predicted_positive_rate)
    score = -stats.loss
    if len(select):
        chosen = evaluate(model, select, cfg, ctx)
        result = evaluate_predictions(chosen.probabilities, select.labels.numpy(), 0.5)
        selection = result.summary()
        predicted_rate = np.array([a.predicted_positive_rate for a in result.attributes])
        score = result.mean_auc
        attention = attention_summary(chosen, cfg.image_width, cfg.image_height)
    val_at_half = selection
    if len(val) and len(holdout):  # val at 0.5, for the plots only: never used to select
        probabilities = evaluate(model, val, cfg, ctx).probabilities
        val_at_half = evaluate_predictions(probabilities, val.labels.numpy(), 0.5).summary()
    return EpochScores(selection, val_at_half, attention, predicted_rate, score)


def epoch_record(
    epoch: int,
    stats: EpochStats,
    scores: EpochScores,
    flags: list[StuckEvent],
    fixes: list[FixEvent],
    *,
    lr: float,
    loss_components: dict[str, float],
) -> EpochRecord:
    """The checkpoint's line for this epoch (``lr`` as the fixes left it)."""
    return EpochRecord(
        epoch=epoch,
        train_loss=stats.loss,
        images_per_s=stats.images_per_s,
        seconds=stats.seconds,
        lr=lr,
        val=scores.val_at_half,
        selection=scores.selection,
        attention=scores.attention,
        predicted_positive_rate=scores.predicted_rate.tolist(),
        stuck=[f.attribute for f in flags],
        fixes=[f"{f.action.value}: {f.detail}" for f in fixes],
        loss_components=loss_components,
    )


def report_epoch(
    callback: EventCallback,
    record: EpochRecord,
    stats: EpochStats,
    cfg: TrainConfig,
    best_epoch: int,
    diagnosis: list[Event],
) -> None:
    """The epoch's stuck flags and fixes, then its summary, to the listener (the GUI, the CLI's progress)."""
    for event in diagnosis:
        callback(event)
    callback(
        EpochEvent(
            epoch=record.epoch,
            epochs=cfg.epochs,
            train_loss=stats.loss,
            lr=record.lr,
            seconds=stats.seconds,
            images_per_s=stats.images_per_s,
            predicted_positive_rate=record.predicted_positive_rate,
            val=ValSummary.optional(record.val),
            stuck=record.stuck,
            fixes=record.fixes,
            best_epoch=best_epoch,
        )
    )
