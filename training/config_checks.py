"""Check a training configuration — from the command line or a ``--config`` JSON file — before any data loads.

A ``--config`` file is user input like any other: missing, not JSON, a list, ``{"lr": null}``,
``"threads": -1``, a height of 47, a cache "folder" that is a file. Each used to end in a
traceback after seconds of data loading. Here each is one line naming the field, raised as
:class:`ConfigError`, which the CLI prints and exits 2 on. The bounds are those a run can
actually train with; the GUI's form ranges (:func:`attricam.training.config.tunable_fields`) lie inside them.
"""

from __future__ import annotations

import argparse
import json
import math
import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .config import LOSS_NAMES, TrainConfig

PARTITION_NAMES = ("train", "val", "test")
"""CelebA's partitions (:data:`attricam.training.celeba.PARTITIONS`), here without importing numpy."""

__all__ = ["MAX_CONFIG_BYTES", "ConfigError", "check_config", "load_config_file", "parse_partitions"]

MAX_CONFIG_BYTES = 1 << 20
"""A recipe is a few hundred bytes; anything past a MiB is not one."""


class ConfigError(ValueError):
    """A configuration value (or file) a run cannot use; the message names the field."""


@dataclass(frozen=True)
class _Bound:
    low: float
    high: float | None = None
    low_open: bool = False

    def problem(self, value: float) -> str:
        if not math.isfinite(value):
            return f"must be a finite number, got {value}"
        if (value <= self.low if self.low_open else value < self.low) or (self.high is not None and value > self.high):
            lower = f"> {self.low:g}" if self.low_open else f">= {self.low:g}"
            return f"must be {lower}" + (f" and <= {self.high:g}" if self.high is not None else "") + f", got {value:g}"
        return ""


MAX_IMAGE_SIDE = 512
"""Largest model input side: past it one batch no longer fits in memory on the machines this trains on."""
MAX_MODEL_WIDTH = 4096
"""Largest width (channels, dim, heads, blocks) a ``--model-option`` may ask for."""

BOUNDS: dict[str, _Bound] = {
    "epochs": _Bound(1, 100_000),
    "lr": _Bound(0, 10, low_open=True),
    "weight_decay": _Bound(0, 10),
    "batch_size": _Bound(2, 65_536),  # BatchNorm cannot train on batches of one
    "warmup_epochs": _Bound(0, 100_000),
    "min_lr_ratio": _Bound(0, 1),
    "grad_clip": _Bound(0, 1e6),
    "seed": _Bound(0, 2**32 - 1),
    "image_height": _Bound(8, MAX_IMAGE_SIDE),
    "image_width": _Bound(8, MAX_IMAGE_SIDE),
    "margin": _Bound(0, 64),
    "train_limit": _Bound(1),
    "val_limit": _Bound(1),
    "calibration_fraction": _Bound(0, 0.9),
    "ema_decay": _Bound(0, 0.99999),
    "num_threads": _Bound(1, 1024),
    "workers": _Bound(1, 1024),
    "loader_workers": _Bound(0, 256),
    "soft_target_weight": _Bound(0, 1),
}
"""Accepted ranges of :class:`TrainConfig`'s numeric fields (None, where a field allows it, is always accepted)."""


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if typing.get_origin(hint) is tuple:
        return f"a list of {_PLURALS.get(typing.get_args(hint)[0], 'values')}"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "an object"}.get(
        hint, "null" if hint is type(None) else str(hint)
    )


_PLURALS = {str: "strings", int: "integers", float: "numbers"}


def _has_type(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_has_type(value, a) for a in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint is dict or origin is dict:
        return isinstance(value, dict)
    if origin is tuple:
        return isinstance(value, list | tuple) and all(_has_type(v, typing.get_args(hint)[0]) for v in value)
    return True


def _check_types(values: dict[str, Any]) -> None:
    hints = typing.get_type_hints(TrainConfig)
    for name, value in values.items():
        if name in hints and not _has_type(value, hints[name]):
            raise ConfigError(f"{name} must be {_type_name(hints[name])}, got {json.dumps(value)[:60]}")


def check_config(cfg: TrainConfig) -> None:
    """Raise :class:`ConfigError` for the first value ``cfg`` cannot train with (types, ranges, folders, options)."""
    _check_types({f.name: getattr(cfg, f.name) for f in fields(cfg)})
    if not cfg.data or not all(cfg.data):
        raise ConfigError("data must name at least one CelebA root")
    if not cfg.out:
        raise ConfigError("out (the run folder) must not be empty")
    if cfg.loss not in LOSS_NAMES:
        raise ConfigError(f"unknown loss {cfg.loss!r}; valid: {', '.join(LOSS_NAMES)}")
    for name, bound in BOUNDS.items():
        value = getattr(cfg, name)
        if value is not None and (problem := bound.problem(value)):
            raise ConfigError(f"{name} {problem}")
    for name in ("image_height", "image_width"):
        if getattr(cfg, name) % 8:
            raise ConfigError(f"{name} must be a multiple of 8 (the model's stride), got {getattr(cfg, name)}")
    if cfg.cache_dir is not None and Path(cfg.cache_dir).exists() and not Path(cfg.cache_dir).is_dir():
        raise ConfigError(f"cache_dir {cfg.cache_dir} is a file, not a folder")
    if cfg.soft_targets is not None and not Path(cfg.soft_targets).is_file():
        raise ConfigError(f"soft_targets {cfg.soft_targets}: no such file (python -m attricam.training.distill)")
    _check_options(cfg)


def _check_options(cfg: TrainConfig) -> None:
    """The free-form dicts: model widths are positive and bounded, augment keys exist, loss values are finite."""
    for key, value in cfg.model.items():
        numbers = value if isinstance(value, list | tuple) else [value]
        if not numbers or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
            raise ConfigError(f"model option {key} must be an integer or a list of them, got {value!r}")
        if not all(1 <= n <= MAX_MODEL_WIDTH for n in numbers):
            raise ConfigError(f"model option {key} must be between 1 and {MAX_MODEL_WIDTH}, got {value!r}")
    from .augment import AugmentConfig

    known = {f.name for f in fields(AugmentConfig)}
    for key, value in cfg.augment.items():
        if key not in known:
            raise ConfigError(f"unknown augment key {key!r}; known: {', '.join(sorted(known))}")
        numbers = value if isinstance(value, list | tuple) else [value]
        if not all(isinstance(n, int | float) and math.isfinite(n) for n in numbers):
            raise ConfigError(f"augment {key} must be finite numbers (or true/false), got {value!r}")
    for key, value in cfg.loss_options.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"loss option {key} must be finite, got {value}")


def load_config_file(path: str | Path) -> TrainConfig:
    """The :class:`TrainConfig` a ``--config`` file holds, checked; :class:`ConfigError` names what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} does not exist" if not path.exists() else f"{path} is not a regular file")
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path} is larger than {MAX_CONFIG_BYTES >> 10} KiB; not a training config")
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ConfigError(f"{path} is not valid JSON ({exc})") from None
    try:
        return _config_from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _config_from_dict(data: Any) -> TrainConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"must hold a JSON object of TrainConfig fields, not {type(data).__name__}")
    known = {f.name for f in fields(TrainConfig)}
    if unknown := sorted(set(data) - known):
        raise ConfigError(f"unknown keys {unknown}; known: {', '.join(sorted(known))}")
    if missing := [k for k in ("data", "out") if k not in data]:
        raise ConfigError(f"missing {' and '.join(missing)} (required)")
    _check_types(data)
    try:
        cfg = TrainConfig.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    check_config(cfg)
    return cfg


def parse_partitions(text: str) -> tuple[str, ...]:
    """``--partitions train,val``: known names, each once, at least one (an argparse ``type=``)."""
    names = tuple(n for n in text.split(",") if n)
    if not names or len(set(names)) != len(names) or not set(names) <= set(PARTITION_NAMES):
        raise argparse.ArgumentTypeError(
            f"must be a comma-separated subset of {','.join(PARTITION_NAMES)}, got {text!r}"
        )
    return names
