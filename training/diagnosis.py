"""Stuck-model diagnosis: catch the all-negative (and all-positive) trap while training, and optionally fix it.

The course's checklist: watch every attribute's predicted-positive rate each
epoch; an attribute that is really present (true rate >= 2 %) but predicted
positive for fewer than 5 % of faces after 3 epochs is stuck. We also require
the predicted rate to be below half the true rate: a rare attribute predicted
near its own prevalence (Bald at 2.3 %, or Pale_Skin at 3.3 % against 4.9 %,
which tripped the plain rule mid-run in our first default run) is not caught
in the all-negative trap, and doubling the learning rate for it only hurts.
The emergency fixes follow the checklist: double the learning rate, double the
stuck attributes' positive weights (cap 100x), raise the focal gamma and switch
on the diversity penalty. Each flag and fix is logged and returned as an event.

The trap has a mirror image: an attribute predicted positive for >= 95 % of
faces while fewer than half really have it. Over-correction causes it (a 50x
positive weight on top of a class-balanced sampler, or a boost that
overshot), so its fix is the inverse of the boost and nothing more: halve
that attribute's positive weight (floor 0.25, below 1 only to offset a
sampler that over-draws its positives). A higher learning rate, gamma or
diversity penalty would push it further the wrong way.

No fix is applied after the run's last epoch: it would change a loss that is
never used again, while the log and the plots would say the run was fixed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from attricam.engine.attributes import ATTRIBUTE_NAMES

from .events import FixAction, FixEvent, StuckEvent
from .losses import EMERGENCY_WEIGHT_CAP, AttributeLoss

__all__ = ["DiagnosisConfig", "StuckDiagnosis", "apply_emergency_fixes"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiagnosisConfig:
    stuck_rate: float = 0.05
    min_true_rate: float = 0.02
    relative_rate: float = 0.5
    """...and below this fraction of the true rate."""
    positive_stuck_rate: float = 0.95
    """All-positive: predicted positive for at least this share of faces ..."""
    positive_max_true_rate: float = 0.5
    """... while its true rate is below this."""
    patience_epochs: int = 3
    """Flags start once this many epochs are complete."""
    fixes: bool = True
    max_lr_boosts: int = 2
    """The learning rate is doubled at most this many times over a run."""
    lower_factor: float = 0.5
    """All-positive fix: the positive weight is multiplied by this ..."""
    min_pos_weight: float = 0.25
    """... but never taken below this."""


class StuckDiagnosis:
    def __init__(self, config: DiagnosisConfig = DiagnosisConfig()) -> None:
        self.config = config
        self.history: list[list[float]] = []

    def update(self, epoch: int, predicted_rate: np.ndarray, true_rate: np.ndarray) -> list[StuckEvent]:
        """Record one epoch (0-based) of per-attribute rates (40,); return the flags raised for it."""
        predicted_rate = np.asarray(predicted_rate, dtype=np.float64)
        true_rate = np.asarray(true_rate, dtype=np.float64)
        self.history.append(predicted_rate.tolist())
        if epoch + 1 < self.config.patience_epochs:
            return []
        c = self.config
        negative = (
            (predicted_rate < c.stuck_rate)
            & (true_rate >= c.min_true_rate)
            & (predicted_rate < c.relative_rate * true_rate)
        )
        positive = (predicted_rate >= c.positive_stuck_rate) & (true_rate < c.positive_max_true_rate)
        events = [
            StuckEvent(
                epoch=epoch,
                attribute=ATTRIBUTE_NAMES[j],
                predicted_positive_rate=float(predicted_rate[j]),
                true_positive_rate=float(true_rate[j]),
                direction="all-positive" if positive[j] else "all-negative",
            )
            for j in np.flatnonzero(negative | positive)
        ]
        for e in events:
            log.warning(
                "epoch %d: %s looks stuck %s: predicted positive %.1f %% vs true %.1f %%",
                epoch + 1,
                e.attribute,
                e.direction,
                100 * e.predicted_positive_rate,
                100 * e.true_positive_rate,
            )
        return events


def apply_emergency_fixes(
    epoch: int,
    flags: list[StuckEvent],
    loss: AttributeLoss,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    lr_boosts_done: int,
    config: DiagnosisConfig = DiagnosisConfig(),
    *,
    epochs: int | None = None,
) -> list[FixEvent]:
    """Apply the fixes for ``flags``; returns one event per fix (empty when nothing is stuck or nothing follows).

    ``epochs`` is the run's length: after epoch ``epochs - 1`` (0-based) nothing is changed.
    """
    if not flags or not config.fixes:
        return []
    if epochs is not None and epoch + 1 >= epochs:
        log.warning("epoch %d is the last: stuck attributes flagged, no fix applied", epoch + 1)
        return []
    fixes = _fix_all_positive(epoch, [f for f in flags if f.direction == "all-positive"], loss, config)
    negative = [f for f in flags if f.direction != "all-positive"]
    if negative:
        fixes += _fix_all_negative(epoch, negative, loss, optimizer, scheduler, lr_boosts_done, config)
    for f in fixes:
        log.warning("epoch %d: emergency fix %s: %s", epoch + 1, f.action, f.detail)
    return fixes


def _mask(flags: list[StuckEvent]) -> torch.Tensor:
    mask = torch.zeros(len(ATTRIBUTE_NAMES), dtype=torch.bool)
    for f in flags:
        mask[ATTRIBUTE_NAMES.index(f.attribute)] = True
    return mask


def _fix_all_positive(
    epoch: int, flags: list[StuckEvent], loss: AttributeLoss, config: DiagnosisConfig
) -> list[FixEvent]:
    if not flags:
        return []
    mask = _mask(flags).to(loss.pos_weight.device)
    lowered = torch.clamp(loss.pos_weight * config.lower_factor, min=config.min_pos_weight)
    loss.pos_weight.copy_(torch.where(mask, torch.minimum(lowered, loss.pos_weight), loss.pos_weight))
    names = ", ".join(f.attribute for f in flags)
    detail = f"pos weight x{config.lower_factor:g} (floor {config.min_pos_weight:g}) for {names}"
    return [FixEvent(epoch=epoch, action=FixAction.LOWER_POS_WEIGHT, detail=detail)]


def _fix_all_negative(
    epoch: int,
    flags: list[StuckEvent],
    loss: AttributeLoss,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    lr_boosts_done: int,
    config: DiagnosisConfig,
) -> list[FixEvent]:
    fixes: list[FixEvent] = []
    if lr_boosts_done < config.max_lr_boosts:
        scheduler.base_lrs = [lr * 2 for lr in scheduler.base_lrs]
        for group in optimizer.param_groups:
            group["lr"] *= 2
        peak = f"learning rate x2 (peak {scheduler.base_lrs[0]:.2e})"
        fixes.append(FixEvent(epoch=epoch, action=FixAction.RAISE_LR, detail=peak))
    loss.boost_positives(_mask(flags), 2.0, EMERGENCY_WEIGHT_CAP)
    names = ", ".join(f.attribute for f in flags)
    boost = f"pos weight x2 (cap {EMERGENCY_WEIGHT_CAP:.0f}) for {names}"
    fixes.append(FixEvent(epoch=epoch, action=FixAction.BOOST_POS_WEIGHT, detail=boost))
    gamma = loss.raise_gamma(1.0)
    fixes.append(FixEvent(epoch=epoch, action=FixAction.RAISE_GAMMA, detail=f"focal gamma -> {gamma:.1f}"))
    loss.enable_diversity(0.1)
    diversity = f"diversity penalty weight {loss.diversity_weight:.2f}"
    fixes.append(FixEvent(epoch=epoch, action=FixAction.ENABLE_DIVERSITY, detail=diversity))
    return fixes
