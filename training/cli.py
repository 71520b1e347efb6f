"""Command line: ``attricam train`` / ``attricam evaluate`` (also ``python -m attricam.training train|evaluate|cache``).

``attricam/cli.py`` registers the subcommands with
:func:`add_train_arguments` / :func:`run_train` and :func:`add_evaluate_arguments` / :func:`run_evaluate`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from attricam.engine.arg_types import positive_int
from attricam.engine.output_paths import OutputPathError

from .config import (
    DATA_ROOT_HELP,
    EVALUATE_SPLITS,
    EvaluateConfig,
    TrainConfig,
)
from .config_checks import ConfigError, check_config, load_config_file
from .events import EpochEvent, ErrorEvent, Event, EventCallback, JsonLinesWriter, StepEvent, StoppedEvent
from .train_options import (
    add_event_arguments,
    add_train_arguments,
    config_from_args,
    data_roots,
    option_flag,
    parse_recipe,
)

if TYPE_CHECKING:
    from tqdm import tqdm

    from .finalize import TrainResult

__all__ = [
    "add_evaluate_arguments",
    "add_train_arguments",
    "config_from_args",
    "evaluate_config",
    "get_args_parser",
    "main",
    "option_flag",
    "parse_recipe",
    "run_evaluate",
    "run_train",
]

log = logging.getLogger(__name__)


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
    sleeping_omp_threads()  # before anything imports torch
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
    try:
        run_lock = _lock_run_folder(Path(cfg.out if cfg is not None else root))
    except OutputPathError as exc:
        return _refuse(str(exc), emit, sinks)
    try:
        if args.compare:
            _run_recipes(args, root, run_name, default_sampler, emit)
            return 0
        assert cfg is not None
        return _train_run(args, cfg, emit)
    except KeyboardInterrupt:  # Stop in the GUI, Ctrl-C, SIGTERM: the last finished epoch is in the checkpoint
        if cfg is not None:
            _emit_stopped(Path(cfg.out), emit)
        raise
    except Exception as exc:
        emit(ErrorEvent(f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        _close(sinks)
        run_lock.close()


def _lock_run_folder(folder: Path) -> contextlib.ExitStack:
    """One live run per run folder: a second (e.g. two --resume) would overwrite the first's checkpoints.

    Held until the returned stack closes; torchrun's other ranks share rank 0's folder and take no lock.
    Raises :class:`OutputPathError` when another run holds it.
    """
    from attricam.engine.output_guard import output_lock

    from .trainer import CHECKPOINT_NAME

    run_lock = contextlib.ExitStack()
    if not _rank():
        run_lock.enter_context(output_lock([(folder.resolve() / CHECKPOINT_NAME, "--out")]))
    return run_lock


def _train_run(args: argparse.Namespace, cfg: TrainConfig, emit: EventCallback) -> int:
    """The one run of ``cfg``: its closing log line, and a ``stopped`` event when it paused before the end."""
    from .checkpoint import IncompatibleCheckpoint
    from .trainer import main as train_main

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
        emit(StoppedEvent(checkpoint=str(result.get("checkpoint", "")), epochs_done=int(result.get("epochs_done", 0))))
    return 0


def _emit_stopped(out: Path, emit: EventCallback) -> None:
    """The ``stopped`` event of a run interrupted in ``out``: its checkpoint and the epochs it holds."""
    from .trainer import CHECKPOINT_NAME

    checkpoint = out / CHECKPOINT_NAME
    emit(StoppedEvent(checkpoint=str(checkpoint), epochs_done=_epochs_in_checkpoint(checkpoint)))


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
    add_event_arguments(parser)
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
        for root in data_roots(list(cfg.data)):
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
            data_roots(list(cfg.data)),
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
