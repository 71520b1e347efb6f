"""Progress events of a training run: one stream for the CLI's tqdm bar, JSON-lines logs and the GUI.

The GUI's training tab runs training in a separate process, so every event is a
frozen dataclass of plain numbers, strings and lists: picklable and, through
:func:`event_to_json`, JSON-able. ``kind`` names the type for consumers that
only see the JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

__all__ = [
    "EpochEvent",
    "Event",
    "EventCallback",
    "FinishedEvent",
    "FixEvent",
    "JsonLinesWriter",
    "StartedEvent",
    "StepEvent",
    "StuckEvent",
    "event_to_json",
]


@dataclass(frozen=True)
class StartedEvent:
    run: str
    epochs: int
    start_epoch: int
    steps_per_epoch: int
    train_images: int
    val_images: int
    kind: str = "started"


@dataclass(frozen=True)
class StepEvent:
    epoch: int
    step: int
    """Step within the epoch, 1-based."""
    steps_per_epoch: int
    loss: float
    lr: float
    images_per_s: float
    kind: str = "step"


@dataclass(frozen=True)
class StuckEvent:
    epoch: int
    attribute: str
    predicted_positive_rate: float
    true_positive_rate: float
    direction: str = "all-negative"
    """``all-negative`` (predicted almost never) or ``all-positive`` (predicted almost always)."""
    kind: str = "stuck"


@dataclass(frozen=True)
class FixEvent:
    epoch: int
    action: str
    """``raise_lr``, ``boost_pos_weight``, ``raise_gamma``, ``enable_diversity`` or ``lower_pos_weight``."""
    detail: str
    kind: str = "fix"


@dataclass(frozen=True)
class EpochEvent:
    epoch: int
    epochs: int
    train_loss: float
    lr: float
    seconds: float
    images_per_s: float
    predicted_positive_rate: list[float]
    """Per attribute, on val at threshold 0.5 (training batches when there is no val split)."""
    val: dict[str, float] = field(default_factory=dict)
    """Summary val metrics at threshold 0.5 (means, rare F1, AUC)."""
    stuck: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    best_epoch: int = -1
    kind: str = "epoch"


@dataclass(frozen=True)
class FinishedEvent:
    bundle: str
    report: str
    best_epoch: int
    val: dict[str, float]
    onnx: str = ""
    kind: str = "finished"


Event = StartedEvent | StepEvent | StuckEvent | FixEvent | EpochEvent | FinishedEvent
EventCallback = Callable[[Event], None]


def event_to_json(event: Event) -> str:
    return json.dumps(asdict(event), allow_nan=True)


class JsonLinesWriter:
    """An event callback appending one JSON object per line (flushed, so another process can tail it)."""

    def __init__(self, target: str | Path | IO[str]) -> None:
        self._own = not hasattr(target, "write")
        self._handle: IO[str] = open(target, "a", encoding="utf-8") if self._own else target  # type: ignore[arg-type]  # noqa: SIM115

    def __call__(self, event: Event) -> None:
        self._handle.write(event_to_json(event) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._own:
            self._handle.close()
