"""The event protocol of training and evaluation jobs: one typed stream for the tqdm bar, JSON-lines logs and the GUI.

``attricam train`` and ``attricam evaluate`` emit these frozen dataclasses; with
``--json-events`` each goes to stdout as one JSON object per line (``--events FILE``
appends the same lines to a file). ``kind`` (an :class:`EventKind`) names the type on the wire.
:func:`parse_event` turns a line (or an already-decoded dict) back into the
dataclass, and :class:`EventStream` cuts a byte stream (a child's stdout, a file
that grows) into events and plain log lines, so every consumer reads one way.

The reports a job writes (``val_report.json`` beside a trained bundle, ``<split>_report.json``
of an evaluation) cross the same seam typed: :class:`EvaluationReport` of :class:`ValSummary`
and :class:`AttributeMetrics` rows. Their field names are the metric names, defined here once:
the trainer writes them, the GUI reads them (:func:`val_metrics` checks the names a view picks).

This module is the seam between ``training`` and ``desktop``: it imports nothing
heavier than the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, ClassVar, Literal, get_args

__all__ = [
    "EVENT_TYPES",
    "VAL_METRICS",
    "AttributeMetrics",
    "EpochEvent",
    "ErrorEvent",
    "EvaluatedEvent",
    "EvaluationReport",
    "Event",
    "EventCallback",
    "EventKind",
    "EventStream",
    "FinishedEvent",
    "FixAction",
    "FixEvent",
    "JsonLinesWriter",
    "LogEvent",
    "ProgressEvent",
    "StartedEvent",
    "StepEvent",
    "StoppedEvent",
    "StuckDirection",
    "StuckEvent",
    "ValSummary",
    "event_to_json",
    "parse_event",
    "val_metrics",
]


@dataclass(frozen=True)
class ValSummary:
    """The summary of a per-attribute evaluation (:meth:`attricam.training.metrics.EvaluationResult.val_summary`):
    means over the 40 attributes, each a score in [0, 1]. A report's ``summary`` and an epoch's ``val``."""

    count: int
    """Faces evaluated."""
    mean_accuracy: float
    mean_balanced_accuracy: float
    mean_f1: float
    mean_auc: float
    """NaN-mean: an attribute with one class only among the faces has no AUC."""
    rare_mean_f1: float
    """Over the rare attributes (:data:`attricam.engine.attributes.RARE_ATTRIBUTES`)."""
    common_mean_f1: float
    """Over the attributes at least 30 % frequent in training."""
    rare_predicted_positive_rate: float

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValSummary:
        """A summary as JSON holds it; raises ``ValueError`` naming the metrics it lacks (a renamed metric fails
        here, loudly, not as a missing curve)."""
        missing = [f.name for f in fields(cls) if f.name not in data]
        if missing:
            raise ValueError(f"a val summary lacks {', '.join(missing)}; it holds {', '.join(map(str, data))}")
        return cls(int(data["count"]), *(float(data[name]) for name in VAL_METRICS))

    @classmethod
    def optional(cls, data: Mapping[str, Any] | None) -> ValSummary | None:
        """None for an epoch or run without val (``{}`` or ``null`` on the wire), else :meth:`from_dict`."""
        return cls.from_dict(data) if data else None

    def metric(self, name: str) -> float:
        """The metric called ``name`` (one of :data:`VAL_METRICS`)."""
        return float(getattr(self, val_metrics(name)[0]))


VAL_METRICS: tuple[str, ...] = tuple(f.name for f in fields(ValSummary) if f.name != "count")
"""The metric names of a val summary, in report order: the one list the trainer writes and the GUI reads."""


def val_metrics(*names: str) -> tuple[str, ...]:
    """``names`` as given, after checking each is a :data:`VAL_METRICS` name: a view that picks metrics by name
    (``val_metrics("mean_f1", "mean_auc")`` at import) fails at once when one is renamed."""
    unknown = [name for name in names if name not in VAL_METRICS]
    if unknown:
        raise ValueError(f"unknown val metric(s) {', '.join(unknown)}; known: {', '.join(VAL_METRICS)}")
    return names


@dataclass(frozen=True)
class AttributeMetrics:
    """One attribute's row of a report, at the decision rule the report was scored with."""

    name: str
    frequency: float
    """Training-set positive rate (attricam.engine.attributes)."""
    threshold: float
    """NaN in a cross-fitted report (each half of val decided by a rule fitted on the other)."""
    accuracy: float
    balanced_accuracy: float
    precision: float
    recall: float
    f1: float
    auc: float
    predicted_positive_rate: float
    true_positive_rate: float
    """Fraction of positives in the evaluated labels (prevalence), not recall."""
    baseline_accuracy: float
    """Accuracy of always predicting negative."""

    @property
    def gain_over_baseline(self) -> float:
        return self.accuracy - self.baseline_accuracy

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["gain_over_baseline"] = self.gain_over_baseline
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttributeMetrics:
        """A row as :meth:`to_dict` wrote it (``gain_over_baseline`` is recomputed); ``ValueError`` names what
        it lacks."""
        missing = [f.name for f in fields(cls) if f.name not in data]
        if missing:
            raise ValueError(f"attribute row {data.get('name', '?')!r} lacks {', '.join(missing)}")
        return cls(str(data["name"]), *(float(data[f.name]) for f in fields(cls)[1:]))


class EventKind(StrEnum):
    """The ``kind`` of each event on the wire: one per event class (:data:`EVENT_TYPES`)."""

    STARTED = "started"
    STEP = "step"
    STUCK = "stuck"
    FIX = "fix"
    EPOCH = "epoch"
    FINISHED = "finished"
    STOPPED = "stopped"
    PROGRESS = "progress"
    EVALUATED = "evaluated"
    LOG = "log"
    ERROR = "error"


class FixAction(StrEnum):
    """What an emergency fix did (:mod:`attricam.training.diagnosis`); the value is the wire's ``action``."""

    RAISE_LR = "raise_lr"
    BOOST_POS_WEIGHT = "boost_pos_weight"
    RAISE_GAMMA = "raise_gamma"
    ENABLE_DIVERSITY = "enable_diversity"
    LOWER_POS_WEIGHT = "lower_pos_weight"


StuckDirection = Literal["all-negative", "all-positive"]
"""``all-negative``: an attribute predicted almost never; ``all-positive``: almost always."""


@dataclass(frozen=True)
class StartedEvent:
    run: str
    epochs: int
    start_epoch: int
    """0-based epoch this process starts at: > 0 when it resumes a checkpoint."""
    steps_per_epoch: int
    train_images: int
    val_images: int
    kind: ClassVar[EventKind] = EventKind.STARTED


@dataclass(frozen=True)
class StepEvent:
    epoch: int
    step: int
    """Step within the epoch, 1-based."""
    steps_per_epoch: int
    loss: float
    lr: float
    images_per_s: float
    kind: ClassVar[EventKind] = EventKind.STEP


@dataclass(frozen=True)
class StuckEvent:
    epoch: int
    attribute: str
    predicted_positive_rate: float
    true_positive_rate: float
    direction: StuckDirection = "all-negative"
    kind: ClassVar[EventKind] = EventKind.STUCK


@dataclass(frozen=True)
class FixEvent:
    epoch: int
    action: FixAction
    detail: str
    kind: ClassVar[EventKind] = EventKind.FIX


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
    val: ValSummary | None = None
    """Summary val metrics at threshold 0.5; None on an epoch without a val pass."""
    stuck: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    best_epoch: int = -1
    kind: ClassVar[EventKind] = EventKind.EPOCH


@dataclass(frozen=True)
class FinishedEvent:
    bundle: str
    report: str
    """The run's :class:`EvaluationReport` (JSON); empty when the run had no val split."""
    best_epoch: int
    val: ValSummary | None
    """The shipped model's cross-fitted val summary; None without a val split."""
    onnx: str = ""
    kind: ClassVar[EventKind] = EventKind.FINISHED


@dataclass(frozen=True)
class StoppedEvent:
    """A training run ended before its last epoch (Stop, SIGTERM, ``--max-epochs-this-run``); it can be resumed."""

    checkpoint: str
    epochs_done: int
    """Finished epochs in the checkpoint (the resumed run starts at this 0-based epoch)."""
    kind: ClassVar[EventKind] = EventKind.STOPPED


@dataclass(frozen=True)
class ProgressEvent:
    """How far an evaluation got: ``done`` of ``total`` faces predicted."""

    done: int
    total: int
    kind: ClassVar[EventKind] = EventKind.PROGRESS


@dataclass(frozen=True)
class EvaluatedEvent:
    """An evaluation finished; ``report`` is its JSON report (metrics, ROC points, loss weights), ``arrays`` its npz
    (mean attention maps and mean face)."""

    bundle: str
    report: str
    arrays: str
    count: int
    kind: ClassVar[EventKind] = EventKind.EVALUATED


@dataclass(frozen=True)
class LogEvent:
    """A line meant for the user (what the job is doing), not a number to plot."""

    message: str
    kind: ClassVar[EventKind] = EventKind.LOG


@dataclass(frozen=True)
class ErrorEvent:
    """The job failed; ``message`` says why. The process exits non-zero after it."""

    message: str
    kind: ClassVar[EventKind] = EventKind.ERROR


@dataclass(frozen=True)
class EvaluationReport:
    """A per-attribute report, as a trained run (``val_report.json``, cross-fitted) or ``attricam evaluate``
    (``<split>_report.json``, with ROC points, loss weights and an arrays file) writes it: what the GUI reads
    of it. The JSON holds more (titles, data summaries, shifted copies) for a person or a script."""

    summary: ValSummary
    attributes: tuple[AttributeMetrics, ...]
    """Official attribute order."""
    shipped_thresholds: tuple[float, ...] = ()
    """A trained run's: the bundle's per-attribute thresholds (on the calibrated probability), for rows whose
    own threshold is NaN (cross-fitted)."""
    roc: Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]] = field(default_factory=dict)
    """An evaluation's: attribute name -> (fpr, tpr) points at evenly spaced false positive rates."""
    loss_weights: Mapping[str, Any] = field(default_factory=dict)
    """The loss weights the model was trained with (``loss``, ``pos_weight`` (40,), ``source``); {} unknown."""
    arrays: str = ""
    """An evaluation's npz beside the report (mean attention maps, mean face); '' without one."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationReport:
        """``ValueError`` when it is not a report (no summary or rows, a row or metric missing)."""
        if not isinstance(data.get("summary"), Mapping) or not isinstance(data.get("attributes"), list):
            raise ValueError("not a per-attribute report: it needs a 'summary' and a list of 'attributes'")
        fit = (data.get("metadata") or {}).get("decision_fit") or {}
        roc = {
            name: (tuple(map(float, points["fpr"])), tuple(map(float, points["tpr"])))
            for name, points in (data.get("roc") or {}).items()
            if points
        }
        weights = data.get("loss_weights")
        return cls(
            summary=ValSummary.from_dict(data["summary"]),
            attributes=tuple(AttributeMetrics.from_dict(row) for row in data["attributes"]),
            shipped_thresholds=tuple(map(float, fit.get("thresholds") or ())),
            roc=roc,
            loss_weights=weights if isinstance(weights, Mapping) else {},
            arrays=data["arrays"] if isinstance(data.get("arrays"), str) else "",
        )

    @classmethod
    def read(cls, path: str | Path) -> EvaluationReport:
        """A report file; ``OSError`` or ``ValueError`` (not JSON, not a report) when it cannot be used."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a report is a JSON object")
        try:
            return cls.from_dict(data)
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"{path}: {exc}") from None


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

EVENT_TYPES: dict[EventKind, type[Event]] = {cls.kind: cls for cls in get_args(Event)}
"""``kind`` -> event class: every kind a job may emit."""


def event_to_json(event: Event) -> str:
    """One JSON object: the event's fields, then its ``kind`` (a class attribute, so not one of the fields)."""
    return json.dumps({**asdict(event), "kind": event.kind.value}, allow_nan=True)


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
    if not isinstance(kind, str) or kind not in EVENT_TYPES:
        raise ValueError(f"unknown event kind {kind!r}; known: {', '.join(EVENT_TYPES)}")
    cls = EVENT_TYPES[EventKind(kind)]
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in payload.items() if k in names}
    try:
        if "val" in values:  # epoch and finished: the summary, typed ({} or null without val)
            values["val"] = ValSummary.optional(values["val"])
        if "action" in values:  # fix: the action, typed (an unknown one is a malformed event)
            values["action"] = FixAction(values["action"])
        return cls(**values)
    except (TypeError, ValueError) as exc:  # a required field is missing, or the summary a metric
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
