"""``attricam train``'s options, built from :class:`~attricam.training.config.TrainConfig`'s field metadata.

Each hyper-parameter is declared once, as a field with its flag, help, choices and bounds; this module turns the
fields into argparse options and a parsed command line back into a ``TrainConfig`` (``--config`` files included).
Options that are not a single field (CelebA roots, the loss, model and augmentation dictionaries, ``--image-size``)
are added by hand.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import Field, fields, replace
from typing import Any

from attricam.engine.arg_types import bounded_float, bounded_int, positive_int

from .config import (
    FROZEN_DEFAULT_EPOCHS,
    LOSS_NAMES,
    SAMPLERS,
    TrainConfig,
    default_data_root,
    field_type,
)
from .config_checks import BOUNDS, MAX_IMAGE_SIDE, MAX_MODEL_WIDTH, load_config_file

__all__ = [
    "add_event_arguments",
    "add_train_arguments",
    "config_from_args",
    "data_roots",
    "option_flag",
    "parse_recipe",
]


def data_roots(values: list[str] | None) -> tuple[str, ...]:
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
    add_event_arguments(p)
    p.add_argument(
        "--config",
        default=None,
        help="a TrainConfig JSON file (what the desktop app writes); replaces the recipe options above; with "
        "--compare, the base each recipe changes (its loss and sampler, in OUT/RECIPE)",
    )
    return p


def add_event_arguments(p: argparse.ArgumentParser) -> None:
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
        data=data_roots(args.data),
        out=out,
        loss_options=options,
        image_height=height,
        image_width=width,
        model=dict(args.model),
        augment={"camera_shift": False} if args.no_camera_shift else {},
        **values,
    )
