"""Exponential moving average of the weights (Polyak averaging; timm's ``ModelEmaV2``).

The averaged weights are smoother than the last step's and usually score a
little higher; they are what the trainer evaluates, selects and ships. The
decay warms up as ``min(decay, (1 + step) / (10 + step))`` so early epochs are
not dominated by the random initialisation.
"""

from __future__ import annotations

from typing import TypedDict

import torch
from torch import nn

__all__ = ["EmaState", "ModelEma"]


class EmaState(TypedDict):
    """:meth:`ModelEma.state_dict`, as checkpoints hold it."""

    decay: float
    steps: int
    state: dict[str, torch.Tensor]


class ModelEma:
    def __init__(self, model: nn.Module, decay: float = 0.998, frozen: tuple[str, ...] = ()) -> None:
        """``frozen``: state-dict prefixes of weights that never train; kept bit-identical, not averaged."""
        self.decay = decay
        self.frozen = frozen
        self.steps = 0
        self.state: dict[str, torch.Tensor] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.steps += 1
        d = min(self.decay, (1 + self.steps) / (10 + self.steps))
        for k, v in model.state_dict().items():
            if self.frozen and k.startswith(self.frozen):
                continue
            ema = self.state[k]
            if ema.dtype.is_floating_point:
                ema.mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                ema.copy_(v)

    def state_dict(self) -> EmaState:
        return {"decay": self.decay, "steps": self.steps, "state": self.state}

    def load_state_dict(self, saved: EmaState) -> None:
        self.decay, self.steps = float(saved["decay"]), int(saved["steps"])
        for k, v in saved["state"].items():
            self.state[k].copy_(v)
