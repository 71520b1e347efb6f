"""The event protocol of training and evaluation jobs: one typed stream for the tqdm bar, JSON-lines logs and the GUI.

``attricam train`` and ``attricam evaluate`` emit these frozen dataclasses; with
``--json-events`` each goes to stdout as one JSON object per line (``--events FILE``
appends the same lines to a file). ``kind`` names the type on the wire.
:func:`parse_event` turns a line (or an already-decoded dict) back into the
dataclass, and :class:`EventStream` cuts a byte stream (a child's stdout, a file
that grows) into events and plain log lines, so every consumer reads one way.

This module is the seam between ``training`` and ``desktop``: it imports nothing
heavier than the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any

__all__ = [
    "EVENT_TYPES",
    "EpochEvent",
    "ErrorEvent",
    "EvaluatedEvent",
    "Event",
    "EventCallback",
    "EventStream",
    "FinishedEvent",
    "FixEvent",
    "JsonLinesWriter",
    "LogEvent",
    "ProgressEvent",
    "StartedEvent",
    "StepEvent",
    "StoppedEvent",
    "StuckEvent",
    "event_to_json",
    "parse_event",
]


@dataclass(frozen=True)
class StartedEvent:
    run: str
    epochs: int
    start_epoch: int
    """0-based epoch this process starts at: > 0 when it resumes a checkpoint."""
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
    """Summary val metrics at threshold 0.5 (:meth:`attricam.training.metrics.EvaluationResult.summary` keys)."""
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


@dataclass(frozen=True)
class StoppedEvent:
    """A training run ended before its last epoch (Stop, SIGTERM, ``--max-epochs-this-run``); it can be resumed."""

    checkpoint: str
    epochs_done: int
    """Finished epochs in the checkpoint (the resumed run starts at this 0-based epoch)."""
    kind: str = "stopped"


@dataclass(frozen=True)
class ProgressEvent:
    """How far an evaluation got: ``done`` of ``total`` faces predicted."""

    done: int
    total: int
    kind: str = "progress"


@dataclass(frozen=True)
class EvaluatedEvent:
    """An evaluation finished; ``report`` is its JSON report (metrics, ROC points, loss weights), ``arrays`` its npz
    (mean attention maps and mean face)."""

    bundle: str
    report: str
    arrays: str
    count: int
    kind: str = "evaluated"


@dataclass(frozen=True)
class LogEvent:
    """A line meant for the user (what the job is doing), not a number to plot."""

    message: str
    kind: str = "log"


@dataclass(frozen=True)
class ErrorEvent:
    """The job failed; ``message`` says why. The process exits non-zero after it."""

    message: str
    kind: str = "error"


Event = (
    StartedEvent
    | StepEvent
    | StuckEvent
    | FixEvent
    | EpochEvent
    | FinishedEvent
    | StoppedEvent
    | ProgressEvent
    | EvaluatedEvent
    | LogEvent
    | ErrorEvent
)
EventCallback = Callable[[Event], None]

EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls  # the dataclass default of ``kind``
    for cls in (
        StartedEvent, StepEvent, StuckEvent, FixEvent, EpochEvent, FinishedEvent,
        StoppedEvent, ProgressEvent, EvaluatedEvent, LogEvent, ErrorEvent,
    )
}  # fmt: skip
"""``kind`` -> event class: every kind a job may emit."""


def event_to_json(event: Event) -> str:
    return json.dumps(asdict(event), allow_nan=True)


def parse_event(line_or_dict: str | bytes | dict[str, Any]) -> Event:
    """One JSON line (or its decoded dict) -> the event dataclass it encodes.

    Raises ``ValueError`` when it is not an event: not JSON, no known ``kind``, or a
    required field missing. Fields this version does not know are ignored, so an older
    GUI can follow a newer run's log.
    """
    payload = line_or_dict
    if isinstance(payload, (str, bytes)):
        try:
            payload = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a JSON event line: {exc}") from None
    if not isinstance(payload, dict):
        raise ValueError(f"an event is a JSON object, got {type(payload).__name__}")
    kind = payload.get("kind")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event kind {kind!r}; known: {', '.join(EVENT_TYPES)}")
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in payload.items() if k in names})
    except TypeError as exc:  # a required field is missing
        raise ValueError(f"malformed {kind!r} event: {exc}") from None


class EventStream:
    """Cuts bytes that arrive in pieces into events and log lines: a child's stdout, or a file that grows.

    ``feed(data)`` returns, in order, an :data:`Event` for every complete line that is one and the
    text of every other non-empty line; an incomplete last line waits for the next ``feed``.
    """

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, data: bytes) -> list[Event | str]:
        *lines, self._partial = (self._partial + data).split(b"\n")
        return [item for item in map(self._item, lines) if item != ""]

    def flush(self) -> list[Event | str]:
        """The last line when the stream ended without a newline."""
        rest, self._partial = self._partial, b""
        item = self._item(rest)
        return [item] if item != "" else []

    @staticmethod
    def _item(raw: bytes) -> Event | str:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("{"):
            return line
        try:
            return parse_event(line)
        except ValueError:
            return line


class JsonLinesWriter:
    """An event callback appending one JSON object per line (flushed, so another process can tail it)."""

    def __init__(self, target: str | Path | IO[str]) -> None:
        self._own = isinstance(target, (str, Path))
        self._handle: IO[str] = open(target, "a", encoding="utf-8") if isinstance(target, (str, Path)) else target  # noqa: SIM115

    def __call__(self, event: Event) -> None:
        self._handle.write(event_to_json(event) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._own:
            self._handle.close()
