"""The ``attricam`` console script.

``attricam`` with no subcommand (or only window options such as ``--source``)
opens the desktop app; subcommands run headless. Each subcommand's module is
imported only when chosen, so ``attricam analyze`` never loads Qt and the app
never loads the trainer.

No traceback reaches a user: a bad argument is one line and exit 2 (:class:`attricam.engine.arg_types.OneLineParser`),
and anything unexpected is one line naming a log file that holds the traceback, exit 1
(:func:`_report_crash`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable

from attricam.engine.arg_types import OneLineParser

from . import __version__

__all__ = ["main"]

_TOP_LEVEL_OPTIONS = ("-h", "--help", "-v", "--verbose", "--version")
_GUI_PACKAGES = ("PySide6", "pyqtgraph")  # the gui extra

# name -> (module, add-arguments function, run function, help)
_SUBCOMMANDS: dict[str, tuple[str, str, str, str]] = {
    "analyze": (
        "attricam.engine.analyze",
        "add_analyze_arguments",
        "run_analyze",
        "analyse images, folders and videos into CSV/JSON",
    ),
    "bench": ("attricam.engine.bench", "add_bench_arguments", "run_bench", "benchmark the live pipeline on a clip"),
    "export-onnx": (
        "attricam.engine.onnx_cli",
        "add_export_arguments",
        "run_export",
        "write a bundle's ONNX model and check parity",
    ),
    "train": (
        "attricam.training.cli",
        "add_train_arguments",
        "run_train",
        "train a model (or --compare several recipes)",
    ),
    "evaluate": (
        "attricam.training.cli",
        "add_evaluate_arguments",
        "run_evaluate",
        "per-attribute report of a model on CelebA",
    ),
    "cache": (
        "attricam.training.cache",
        "add_cache_arguments",
        "run_cache",
        "detect, align and cache CelebA faces (--shard i/n)",
    ),
    "merge": (
        "attricam.training.merge_cmd",
        "add_merge_arguments",
        "run_merge",
        "join --shard outputs: face caches or CSVs",
    ),
}


def _load(module: str, name: str) -> Callable:
    import importlib

    return getattr(importlib.import_module(module), name)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Only the chosen subcommand's module is imported: a broken trainer never breaks ``analyze``."""
    parser = OneLineParser(
        prog="attricam",
        description="AttriCam: live facial-attribute analysis. Without a COMMAND it opens the desktop app "
        "(options: --source PATH|CAMERA_INDEX --screenshot OUT.png --exit-after-frames N).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"attricam {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, add_name, _, help_text) in _SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            _load(module, add_name)(sub_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in _SUBCOMMANDS and argv[0] not in _TOP_LEVEL_OPTIONS):
        try:
            from attricam.desktop.app import main as app_main  # the GUI: no subcommand given
        except ModuleNotFoundError as exc:
            if exc.name not in _GUI_PACKAGES:
                return _report_crash("attricam", exc)
            print(f"attricam: the desktop app needs {exc.name}: pip install 'attricam[gui]'", file=sys.stderr)
            return 2
        except Exception as exc:  # noqa: BLE001 - the app's modules failed to import: one line and a log
            return _report_crash("attricam", exc)

        return _last_resort("attricam", lambda: app_main(argv))
    command = next((a for a in argv if a in _SUBCOMMANDS), None)
    try:
        args = build_parser(command).parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed as one line
        return exc.code if isinstance(exc.code, int) else 2
    except Exception as exc:  # noqa: BLE001 - a subcommand module that fails to import or to add its options
        return _report_crash(f"attricam {command}" if command else "attricam", exc)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.command is None:
        build_parser().print_help()
        return 0
    module, _, run_name, _ = _SUBCOMMANDS[args.command]
    _terminate_like_interrupt()
    return _last_resort(f"attricam {args.command}", lambda: int(_load(module, run_name)(args) or 0))


def _last_resort(prog: str, run: Callable[[], int]) -> int:
    """Run a command; an output-path problem is one line (exit 2), anything unexpected one line and a log (exit 1)."""
    from attricam.engine.output_paths import OutputPathError

    try:
        return run()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:  # argparse inside the app, or a command's own exit status
        if isinstance(exc.code, int) or exc.code is None:
            return exc.code or 0
        raise
    except OutputPathError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last resort: a user sees one line, the traceback goes to a log
        return _report_crash(prog, exc)


def _report_crash(prog: str, exc: BaseException) -> int:
    """One stderr line naming the error and the log file that holds its traceback; exit status 1."""
    from attricam.engine.crash_log import crash_line

    print(crash_line(prog, exc), file=sys.stderr)
    return 1


def _terminate_like_interrupt() -> None:
    """SIGTERM (``kill``, a closing session, a job scheduler) raises KeyboardInterrupt like Ctrl-C, so a batch
    keeps what it finished and a training run leaves its last checkpoint and no temporary files."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)


if __name__ == "__main__":
    sys.exit(main())
