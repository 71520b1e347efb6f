"""Command line: ``attricam train`` / ``attricam evaluate`` (also ``python -m attricam.training train|evaluate|cache``).

``attricam/cli.py`` registers the subcommands with
:func:`add_train_arguments` / :func:`run_train` and :func:`add_evaluate_arguments` / :func:`run_evaluate`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import Field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from attricam.engine.arg_types import bounded_float, bounded_int, positive_int
from attricam.engine.output_paths import OutputPathError

from .config import (
    DATA_ROOT_HELP,
    EVALUATE_SPLITS,
    FROZEN_DEFAULT_EPOCHS,
    LOSS_NAMES,
    SAMPLERS,
    EvaluateConfig,
    TrainConfig,
    default_data_root,
    field_type,
)
from .config_checks import BOUNDS, MAX_IMAGE_SIDE, MAX_MODEL_WIDTH, ConfigError, check_config, load_config_file
from .events import EpochEvent, ErrorEvent, Event, EventCallback, JsonLinesWriter, StepEvent, StoppedEvent

if TYPE_CHECKING:
    from tqdm import tqdm

    from .finalize import TrainResult

__all__ = [
    "add_evaluate_arguments",
    "add_train_arguments",
    "evaluate_config",
    "get_args_parser",
    "main",
    "parse_recipe",
    "run_evaluate",
    "run_train",
]

log = logging.getLogger(__name__)


def _roots(values: list[str] | None) -> tuple[str, ...]:
    roots = [r for v in values or [] for r in v.split(",") if r]
    return tuple(roots) if roots else (str(default_data_root()),)


def _bounded(name: str) -> Callable[[str], float]:
    """The argparse converter of a :class:`TrainConfig` field, with the range :data:`BOUNDS` gives it."""
    bound = BOUNDS[name]
    if field_type(next(f for f in fields(TrainConfig) if f.name == name)) is float:
        return bounded_float(bound.low, bound.high, low_open=bound.low_open)
    return bounded_int(int(bound.low), None if bound.high is None else int(bound.high))


def _image_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"image size must look like 96x80 (height x width), got {text!r}") from None
    if h % 8 or w % 8:
        raise argparse.ArgumentTypeError("image height and width must be multiples of 8 (the model's stride)")
    if not (8 <= h <= MAX_IMAGE_SIDE and 8 <= w <= MAX_IMAGE_SIDE):
        raise argparse.ArgumentTypeError(f"image height and width must be between 8 and {MAX_IMAGE_SIDE}, got {text}")
    return h, w


def _loss_option(text: str) -> tuple[str, float | bool | None]:
    key, _, value = text.partition("=")
    if not value:
        raise argparse.ArgumentTypeError(f"loss option must be key=value, got {text!r}")
    if value.lower() in ("true", "false", "none"):
        return key.replace("-", "_"), {"true": True, "false": False, "none": None}[value.lower()]
    return key.replace("-", "_"), bounded_float(-math.inf)(value)


def _model_option(text: str) -> tuple[str, int | tuple[int, ...]]:
    """``stem_width=32`` or ``stage_widths=64,128``: a field of the model's config (integers, or a tuple of them)."""
    key, _, value = text.partition("=")
    try:
        numbers = tuple(int(v) for v in value.split(","))
    except ValueError:
        numbers = ()
    if not key or not numbers:
        raise argparse.ArgumentTypeError(f"model option must be key=int or key=int,int,..., got {text!r}")
    if not all(1 <= n <= MAX_MODEL_WIDTH for n in numbers):
        raise argparse.ArgumentTypeError(f"model option {key} must be between 1 and {MAX_MODEL_WIDTH}, got {value}")
    return key.replace("-", "_"), numbers if "," in value else numbers[0]


_BY_HAND = ("data", "out", "loss_options", "model", "augment", "image_height", "image_width")
"""Fields whose option is not one plain value: repeatable roots, KEY=VALUE pairs, HEIGHTxWIDTH, a flag that sets
an augment entry. Their flag and help still come from the field's metadata; :func:`_add_by_hand` adds them."""
_DECIDED_LATER = {"epochs": None}
"""Options whose default is decided with the others: ``--epochs`` is 12, or FROZEN_DEFAULT_EPOCHS with --freeze."""


def option_flag(f: Field[Any]) -> str:
    """The ``attricam train`` option that sets field ``f`` (its metadata's ``flag``, else ``--field-name``)."""
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _option_help(f: Field[Any]) -> str | None:
    return f.metadata.get("cli_help") or f.metadata.get("help") or None


def _add_field_option(p: argparse.ArgumentParser, f: Field[Any]) -> None:
    """One :class:`TrainConfig` field as one option, from its metadata; the parsed value lands in ``args.<field>``."""
    meta, flag = f.metadata, option_flag(f)
    names = (flag, *meta.get("aliases", ()))
    kwargs: dict[str, Any] = {"dest": f.name, "help": _option_help(f)}  # add_argument's keywords
    if field_type(f) is bool:  # a flag that flips the field's default: --no-onnx clears export_onnx
        kwargs["action"] = "store_false" if f.default else "store_true"
    else:
        kwargs["default"] = _DECIDED_LATER.get(f.name, f.default)
        if "choices" in meta:
            kwargs["choices"] = meta["choices"]
        elif f.name in BOUNDS:
            kwargs["type"] = _bounded(f.name)
        if "metavar" in meta:
            kwargs["metavar"] = meta["metavar"]
    p.add_argument(*names, **kwargs)


def _add_by_hand(p: argparse.ArgumentParser) -> None:
    """The options of :data:`_BY_HAND` (parsed into ``args.<field>`` too; :func:`config_from_args` assembles them)."""
    by_name = {f.name: f for f in fields(TrainConfig)}
    p.add_argument(option_flag(by_name["data"]), dest="data", action="append", help=_option_help(by_name["data"]))
    p.add_argument(option_flag(by_name["out"]), dest="out", help=_option_help(by_name["out"]))
    p.add_argument(
        option_flag(by_name["image_height"]),
        dest="image_size",
        type=_image_size,
        default=(by_name["image_height"].default, by_name["image_width"].default),
        help=_option_help(by_name["image_height"]),
    )
    for name in ("loss_options", "model"):
        f = by_name[name]
        parse = _loss_option if name == "loss_options" else _model_option
        p.add_argument(
            option_flag(f),
            dest=name,
            type=parse,
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help=_option_help(f),
        )
    augment = by_name["augment"]
    p.add_argument(option_flag(augment), dest="no_camera_shift", action="store_true", help=_option_help(augment))


def add_train_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``attricam train``'s options: one per :class:`TrainConfig` field, built from the field's metadata (flag, help,
    choices; the range of :data:`BOUNDS`), then the options of the run itself (compare, resume, events, config)."""
    p = parser
    _add_by_hand(p)
    for f in fields(TrainConfig):
        if f.name not in _BY_HAND:
            _add_field_option(p, f)
    p.add_argument("--weight-cap", type=bounded_float(1), default=None, help="cap of the positive weights (default 50)")
    p.add_argument("--gamma", type=bounded_float(0), default=None, help="focal gamma (default 2)")
    p.add_argument(
        "--compare",
        default=None,
        help=f"comma-separated recipes LOSS[+SAMPLER] to train with the same budget and tabulate, "
        f"e.g. weighted,bce+balanced,bce+curriculum (losses: {', '.join(LOSS_NAMES)}; samplers: "
        f"{', '.join(SAMPLERS)}; without +SAMPLER: --sampler)",
    )
    p.add_argument("--resume", action="store_true", help="continue the checkpoint in --out (next epoch)")
    p.add_argument("--max-epochs-this-run", type=positive_int, default=None, help="stop (resumably) after N epochs")
    p.add_argument(
        "--finalize-now",
        action="store_true",
        help="write the bundle from the best epoch in the checkpoint now (implies --resume)",
    )
    _add_event_arguments(p)
    p.add_argument(
        "--config",
        default=None,
        help="a TrainConfig JSON file (what the desktop app writes); replaces the recipe options above; with "
        "--compare, the base each recipe changes (its loss and sampler, in OUT/RECIPE)",
    )
    return p


def _add_event_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--events", default=None, help="append every progress event as a JSON line to this file")
    p.add_argument(
        "--json-events",
        action="store_true",
        help="write events (attricam.training.events) as JSON lines to stdout, no bar; the desktop app reads them",
    )


def parse_recipe(recipe: str, default_sampler: str = "random") -> tuple[str, str]:
    """``"bce+balanced"`` -> ("bce", "balanced"); ``"focal"`` -> ("focal", default_sampler); else fails loudly."""
    loss, _, sampler = recipe.partition("+")
    sampler = sampler or default_sampler
    if loss not in LOSS_NAMES or sampler not in SAMPLERS:
        raise SystemExit(
            f"unknown recipe {recipe!r}; use LOSS[+SAMPLER] with LOSS in {', '.join(LOSS_NAMES)} "
            f"and SAMPLER in {', '.join(SAMPLERS)}"
        )
    return loss, sampler


def config_from_args(args: argparse.Namespace, loss: str, out: str, sampler: str | None = None) -> TrainConfig:
    """The run's :class:`TrainConfig`: ``--config``'s file, else one value per field from the options of
    :func:`add_train_arguments` (``loss``, ``out`` and ``sampler`` given by the caller, for ``--compare``; with
    ``--config`` the file is the comparison's base, and each recipe sets its own loss, sampler and folder)."""
    if getattr(args, "config", None):
        cfg = load_config_file(args.config)
        return replace(cfg, loss=loss, sampler=sampler or cfg.sampler, out=out) if args.compare else cfg
    options = dict(args.loss_options)
    if args.weight_cap is not None:
        options["weight_cap"] = args.weight_cap
    if args.gamma is not None:
        options["gamma"] = args.gamma
    height, width = args.image_size
    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if f.name not in _BY_HAND}
    values.update(
        loss=loss,
        sampler=sampler or args.sampler,
        epochs=args.epochs or (FROZEN_DEFAULT_EPOCHS if args.freeze else TrainConfig.epochs),  # the field's default
    )
    return TrainConfig(
        data=_roots(args.data),
        out=out,
        loss_options=options,
        image_height=height,
        image_width=width,
        model=dict(args.model),
        augment={"camera_shift": False} if args.no_camera_shift else {},
        **values,
    )


class _ProgressBar:
    """tqdm over the step events of each epoch; other events go to the log."""

    def __init__(self) -> None:
        self._bar: tqdm | None = None

    def __call__(self, event: Event) -> None:
        from tqdm import tqdm

        match event:
            case StepEvent():
                if self._bar is None or event.step == 1:
                    self.close()
                    self._bar = tqdm(
                        total=event.steps_per_epoch,
                        desc=f"epoch {event.epoch + 1}",
                        unit="step",
                        dynamic_ncols=True,
                        leave=False,
                    )
                self._bar.update(1)
                self._bar.set_postfix(loss=f"{event.loss:.4f}", lr=f"{event.lr:.2e}", img_s=f"{event.images_per_s:.0f}")
            case EpochEvent():
                self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _rank() -> int:
    """torchrun's RANK (0 outside torchrun): ranks other than 0 write no events and log warnings only."""
    return int(os.environ.get("RANK", "0"))


class _Sink(Protocol):
    """Where events go: a JSON-lines writer or the progress bar."""

    def __call__(self, event: Event) -> None: ...

    def close(self) -> None: ...


def _callbacks(args: argparse.Namespace) -> tuple[EventCallback, list[_Sink]]:
    """The event sinks asked for; raises OutputPathError when ``--events`` cannot be appended to."""
    from attricam.engine.output_paths import check_output_file

    sinks: list[_Sink] = []
    if _rank():
        return (lambda event: None), sinks
    if args.events:
        check_output_file(Path(args.events), "--events")
    if args.json_events:
        sinks.append(JsonLinesWriter(sys.stdout))
    elif sys.stderr.isatty():
        sinks.append(_ProgressBar())
    if args.events:
        sinks.append(JsonLinesWriter(args.events))

    def emit(event: Event) -> None:
        for sink in sinks:
            sink(event)

    return emit, sinks


def _comparison_base(args: argparse.Namespace) -> tuple[str, str, str]:
    """(folder, run name, default sampler) of ``--compare``: the ``--config`` file's, else the options'."""
    if args.config:
        base = load_config_file(args.config)
        return base.out, base.name, base.sampler
    return args.out, args.name, args.sampler


def _setup_problem(args: argparse.Namespace) -> str:
    """The first reason the run cannot start as asked (bad root, loss option, checkpoint), or ''."""
    from .preflight import SetupError, check_train_setup

    resume = args.resume or args.finalize_now
    if args.compare:
        recipes = [r for r in args.compare.split(",") if r]
        configs = []
        try:
            root, _, default_sampler = _comparison_base(args)
        except ConfigError as exc:
            return f"--config {exc}"
        for name in recipes:
            try:
                loss, sampler = parse_recipe(name, default_sampler)
            except SystemExit as exc:
                return f"--compare: {exc}"
            try:
                configs.append(config_from_args(args, loss, str(Path(root) / name), sampler))
            except (ConfigError, ValueError) as exc:
                return f"--compare {name}: {exc}"
    else:
        try:
            configs = [config_from_args(args, args.loss, args.out)]
        except ValueError as exc:  # ConfigError, and TrainConfig's own checks of choices
            return f"--config {exc}" if args.config else str(exc)
    try:
        for cfg in configs:
            check_config(cfg)
            check_train_setup(cfg, resume=resume)
    except (ConfigError, SetupError) as exc:
        return str(exc)
    return ""


def sleeping_omp_threads() -> None:
    """Make OpenMP's idle threads sleep rather than spin (``OMP_WAIT_POLICY=PASSIVE``), unless the user chose.

    On a machine whose cores are shared (the live view, another job), spinning threads wait for a
    descheduled peer at every parallel region: on 2 busy cores the trainer ran several times slower spinning
    than sleeping (``benchmarks/train_throughput.py`` measures it; the README gives the figures).
    It only takes effect before torch is first imported, so it is called first thing.
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def run_train(args: argparse.Namespace) -> int:
    """Train as asked; a run that ends early says so with a ``stopped`` event, a failure with an ``error`` one."""
    sleeping_omp_threads()
    from attricam.engine.output_guard import output_lock

    from .checkpoint import IncompatibleCheckpoint
    from .trainer import CHECKPOINT_NAME
    from .trainer import main as train_main

    if _rank():
        logging.getLogger().setLevel(logging.WARNING)
    if not args.out and not args.config:
        print("attricam train: error: --out is required (or --config)", file=sys.stderr)
        return 2
    try:
        emit, sinks = _callbacks(args)
    except OutputPathError as exc:
        print(f"attricam train: error: {exc}", file=sys.stderr)
        return 2
    problem = _setup_problem(args)
    if problem:
        return _refuse(problem, emit, sinks)
    cfg = config_from_args(args, args.loss, args.out) if not args.compare else None
    root, run_name, default_sampler = _comparison_base(args) if args.compare else ("", "", "")
    run_lock = contextlib.ExitStack()
    try:  # one live run per run folder: a second (e.g. two --resume) would overwrite the first's checkpoints
        if not _rank():  # torchrun's other ranks share rank 0's folder
            folder = Path(cfg.out if cfg is not None else root).resolve()
            run_lock.enter_context(output_lock([(folder / CHECKPOINT_NAME, "--out")]))
    except OutputPathError as exc:
        return _refuse(str(exc), emit, sinks)
    try:
        if args.compare:
            _run_recipes(args, root, run_name, default_sampler, emit)
            return 0
        assert cfg is not None
        try:
            result = train_main(
                cfg,
                emit,
                resume=args.resume or args.finalize_now,
                max_epochs_this_run=args.max_epochs_this_run,
                finalize_now=args.finalize_now,
            )
        except IncompatibleCheckpoint as exc:
            return _refuse(str(exc), emit)
        log.info("%s", result_line(result))
        if not result.get("finished"):
            emit(
                StoppedEvent(
                    checkpoint=str(result.get("checkpoint", "")), epochs_done=int(result.get("epochs_done", 0))
                )
            )
        return 0
    except KeyboardInterrupt:  # Stop in the GUI, Ctrl-C, SIGTERM: the last finished epoch is in the checkpoint
        if cfg is not None:
            checkpoint = Path(cfg.out) / CHECKPOINT_NAME
            emit(StoppedEvent(checkpoint=str(checkpoint), epochs_done=_epochs_in_checkpoint(checkpoint)))
        raise
    except Exception as exc:
        emit(ErrorEvent(f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        _close(sinks)
        run_lock.close()


def _refuse(message: str, emit: EventCallback, sinks: Sequence[_Sink] = ()) -> int:
    """A run that cannot start: an ``error`` event, one line on stderr, exit status 2."""
    emit(ErrorEvent(message))
    print(f"attricam train: error: {message}", file=sys.stderr)
    _close(list(sinks))
    return 2


def _run_recipes(args: argparse.Namespace, root: str, run_name: str, default_sampler: str, emit: EventCallback) -> None:
    """``--compare``: each recipe ``LOSS[+SAMPLER]`` as its own run in ``ROOT/RECIPE``, then the comparison."""
    from .compare import run_comparison

    recipes = [r for r in args.compare.split(",") if r]
    parsed = {r: parse_recipe(r, default_sampler) for r in recipes}

    def config_for(name: str) -> TrainConfig:
        loss, sampler = parsed[name]
        cfg = config_from_args(args, loss, str(Path(root) / name), sampler)
        return replace(cfg, name=f"{run_name}-{name}")  # each bundle and event names its recipe

    run_comparison(recipes, config_for, emit)


def result_line(result: TrainResult) -> str:
    """The run's closing log line; its best epoch 1-based, as every other line and the app say it."""
    shown: dict[str, object] = {k: v for k, v in result.items() if k != "history"}
    if "best_epoch" in result:
        shown["best_epoch"] = int(result["best_epoch"]) + 1
    return f"run {'finished' if result.get('finished') else 'paused'}: {shown}"


def _close(sinks: list[_Sink]) -> None:
    for sink in sinks:
        sink.close()


def _epochs_in_checkpoint(path: Path) -> int:
    """Finished epochs saved in a run's checkpoint (0 when there is none yet)."""
    if not path.is_file():
        return 0
    from .trainer import load_checkpoint

    try:
        return int(load_checkpoint(path)["epoch"]) + 1
    except (OSError, RuntimeError, KeyError, ValueError):  # a checkpoint being replaced now: the count only informs
        return 0


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of :class:`EvaluateConfig` (its defaults: a test keeps the two equal), or ``--config``."""
    parser.add_argument("--model", default=None, help="model bundle (.pt); required without --config")
    parser.add_argument("--data", action="append", help=f"CelebA root(s); default {DATA_ROOT_HELP}")
    parser.add_argument("--split", default="val", choices=EVALUATE_SPLITS)
    parser.add_argument("--limit", type=positive_int, default=None, help="first N images per root")
    parser.add_argument("--cache", default=None)
    parser.add_argument("--workers", type=positive_int, default=2)
    parser.add_argument("--out", default=None, help="report directory (default: beside the bundle)")
    parser.add_argument(
        "--no-shifted", action="store_true", help="skip the camera-shifted copy of the split (pose, JPEG, blur, ...)"
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the matplotlib PNGs")
    parser.add_argument("--threads", type=positive_int, default=2)
    parser.add_argument(
        "--config",
        default=None,
        help="an EvaluateConfig JSON file (what the desktop app writes); replaces the options above",
    )
    _add_event_arguments(parser)
    return parser


def evaluate_config(args: argparse.Namespace) -> EvaluateConfig:
    """The evaluation asked for: ``--config``'s file, else the options. ``ValueError`` says what is wrong."""
    if args.config:
        path = Path(args.config)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"--config {path}: cannot be read as JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ValueError(f"--config {path}: an evaluation config is a JSON object")
        try:
            return EvaluateConfig.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"--config {path}: {exc}") from None
    if not args.model:
        raise ValueError("--model is required (or --config)")
    return EvaluateConfig(
        model=args.model,
        data=tuple(r for v in args.data or [] for r in v.split(",") if r),
        split=args.split,
        limit=args.limit,
        cache_dir=args.cache,
        workers=args.workers,
        out=args.out,
        shifted=not args.no_shifted,
        plots=not args.no_plots,
        threads=args.threads,
    )


def _evaluate_problem(cfg: EvaluateConfig) -> str:
    """The first reason ``evaluate`` cannot start (model, roots, output folder), or ''; checked before data loads."""
    from attricam.engine.bundle import BundleError, ModelBundle
    from attricam.engine.output_paths import OutputPathError, check_output_folder

    from .preflight import SetupError, check_data_root

    try:
        ModelBundle.load(cfg.model)
        for root in _roots(list(cfg.data)):
            check_data_root(root)
        model = Path(cfg.model)
        check_output_folder(Path(cfg.out) if cfg.out else model.parent / f"{model.stem}-eval", "--out")
    except (BundleError, SetupError, OutputPathError, OSError, ValueError) as exc:
        return str(exc)
    return ""


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate as asked; with --json-events/--events, progress and the result as events, a failure as ``error``."""
    sleeping_omp_threads()
    from .evaluate_cmd import evaluate_bundle

    events = args.json_events or args.events
    try:
        emit, sinks = _callbacks(args)
    except OutputPathError as exc:
        print(f"attricam evaluate: error: {exc}", file=sys.stderr)
        return 2
    try:
        cfg = evaluate_config(args)
        problem = _evaluate_problem(cfg)
    except ValueError as exc:
        problem = str(exc)
    if problem:
        emit(ErrorEvent(problem))
        print(f"attricam evaluate: error: {problem}", file=sys.stderr)
        _close(sinks)
        return 2
    try:
        evaluate_bundle(
            Path(cfg.model),
            _roots(list(cfg.data)),
            cfg.split,
            out=Path(cfg.out) if cfg.out else None,
            cache_dir=cfg.cache_dir,
            limit=cfg.limit,
            workers=cfg.workers,
            shifted=cfg.shifted,
            plots=cfg.plots,
            threads=cfg.threads,
            callback=emit if events else None,
        )
        return 0
    except (Exception, SystemExit) as exc:
        if isinstance(exc, SystemExit) and not isinstance(exc.code, str):
            raise
        emit(ErrorEvent(str(exc) if isinstance(exc, SystemExit) else f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        _close(sinks)


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="AttriCam training and evaluation", add_help=add_help)
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_arguments(sub.add_parser("train", help="train a model (or compare recipes)"))
    add_evaluate_arguments(sub.add_parser("evaluate", help="per-attribute report of a bundle"))
    sub.add_parser("cache", help="build the face cache (see attricam cache --help)", add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops like Ctrl-C: last checkpoint kept
    if argv and argv[0] == "cache":
        from .cache import main as cache_main

        cache_main(argv[1:])
        return 0
    args = get_args_parser().parse_args(argv)
    try:
        return run_train(args) if args.command == "train" else run_evaluate(args)
    except KeyboardInterrupt:
        print("interrupted: the last finished epoch's checkpoint is kept; continue with --resume", file=sys.stderr)
        return 130
