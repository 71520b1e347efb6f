"""Integrity checks of a model bundle: every number finite, and a hash that binds the ONNX twin to it.

Why a hash: the ``.onnx`` twin is a second copy of the weights. When a bundle is
retrained or edited and its twin is not re-exported, onnxruntime would happily
run the stale network while the thresholds come from the new bundle — wrong
answers that look right. :func:`decision_hash` digests everything that decides
a prediction (config, weights, thresholds, and any decision field added later,
such as a calibration) and is written into both files; the runtime compares
them at load.

The hash is taken over the bundle's dataclass fields except ``metadata`` and
``path`` (free-form provenance and location do not change a prediction), so a
new decision field is covered without touching this module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

__all__ = ["BUNDLE_HASH_KEY", "ONNX_HASH_KEY", "NON_DECISION_FIELDS", "decision_fields", "decision_hash", "find_non_finite"]

BUNDLE_HASH_KEY = "decision_hash"
"""Key of the hash inside a saved bundle's payload."""
ONNX_HASH_KEY = "attricam_bundle_hash"
"""Key of the same hash in the ONNX model's ``metadata_props``."""
NON_DECISION_FIELDS = frozenset({"metadata", "path"})


def decision_fields(bundle: Any) -> dict[str, Any]:
    """The bundle's fields that change a prediction, by name."""
    return {f.name: getattr(bundle, f.name) for f in dataclasses.fields(bundle) if f.name not in NON_DECISION_FIELDS}


def decision_hash(bundle: Any) -> str:
    """sha256 (hex) of the decision fields; equal for a bundle before saving and after loading."""
    digest = hashlib.sha256()
    for name, value in sorted(decision_fields(bundle).items()):
        digest.update(f"<{name}>".encode())
        _feed(digest, value)
    return digest.hexdigest()


def _feed(digest: "hashlib._Hash", value: Any) -> None:
    """Canonical, type-tolerant encoding: a list and a tuple, an int 1 and a float 1.0 hash alike."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, np.ndarray):
        _feed(digest, value.tolist())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _feed(digest, value.to_dict() if hasattr(value, "to_dict") else dataclasses.asdict(value))
    elif isinstance(value, dict):
        digest.update(b"{")
        for key in sorted(value, key=str):
            digest.update(f"{key!s}:".encode())
            _feed(digest, value[key])
        digest.update(b"}")
    elif isinstance(value, (list, tuple)):
        digest.update(f"[{len(value)}".encode())
        for item in value:
            _feed(digest, item)
        digest.update(b"]")
    elif isinstance(value, (bool, np.bool_)) or value is None:
        digest.update(f"b{value!r}".encode())
    elif isinstance(value, (int, float, np.integer, np.floating)):
        digest.update(f"n{float(value).hex()}".encode())
    else:
        digest.update(f"s{value!s}".encode())


def find_non_finite(bundle: Any) -> str | None:
    """Where the first NaN or infinity among the decision fields sits (``"state_dict['w'] (3 of 64)"``), or None.

    A NaN weight or threshold does not crash anything: it silently turns every
    probability into ``nan`` or every decision into 0, so it must be caught at load.
    """
    for where, value in _numbers(decision_fields(bundle), ""):
        if isinstance(value, torch.Tensor):
            if value.is_floating_point() or value.is_complex():
                bad = int((~torch.isfinite(value)).sum())
                if bad:
                    return f"{where} ({bad} of {value.numel()} values)"
        elif isinstance(value, np.ndarray):
            if np.issubdtype(value.dtype, np.inexact):
                bad = int((~np.isfinite(value)).sum())
                if bad:
                    return f"{where} ({bad} of {value.size} values)"
        elif not math.isfinite(float(value)):
            return f"{where} ({value!r})"
    return None


def _numbers(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, (torch.Tensor, np.ndarray)):
        yield where, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield from _numbers(dataclasses.asdict(value), where)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, f"{where}[{key!r}]" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _numbers(item, f"{where}[{index}]")
    elif isinstance(value, (float, np.floating)):
        yield where, value
