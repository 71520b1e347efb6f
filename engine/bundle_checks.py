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

Weights may be torch tensors (a bundle taken from a model) or numpy arrays (a
loaded bundle, :mod:`attricam.engine.bundle_reader`); an array inside ``state_dict`` is
hashed byte for byte as the tensor it was saved from, so the hash does not
depend on which loader ran and torch is never imported here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "BUNDLE_HASH_KEY",
    "ONNX_HASH_KEY",
    "NON_DECISION_FIELDS",
    "WEIGHTS_FIELD",
    "decision_fields",
    "decision_hash",
    "find_non_finite",
    "read_bundle_hash",
]

BUNDLE_HASH_KEY = "decision_hash"
"""Key of the hash inside a saved bundle's payload."""
ONNX_HASH_KEY = "attricam_bundle_hash"
"""Key of the same hash in the ONNX model's ``metadata_props``."""
NON_DECISION_FIELDS = frozenset({"metadata", "path"})
OPTIONAL_DECISION_FIELDS = frozenset({"second_opinion"})
"""Decision fields added after bundles were shipped: left out of the hash while unset, so older hashes hold."""
WEIGHTS_FIELD = "state_dict"
"""Its arrays are hashed as the tensors they were saved from, whichever loader read them."""


def decision_fields(bundle: Any) -> dict[str, Any]:
    """The bundle's fields that change a prediction, by name."""
    fields = {f.name: getattr(bundle, f.name) for f in dataclasses.fields(bundle) if f.name not in NON_DECISION_FIELDS}
    return {k: v for k, v in fields.items() if not (k in OPTIONAL_DECISION_FIELDS and v is None)}


def decision_hash(bundle: Any) -> str:
    """sha256 (hex) of the decision fields; equal for a bundle before saving and after loading."""
    digest = hashlib.sha256()
    for name, value in sorted(decision_fields(bundle).items()):
        digest.update(f"<{name}>".encode())
        if name == WEIGHTS_FIELD and isinstance(value, dict):
            _feed_dict(digest, value, _feed_weights)
        else:
            _feed(digest, value)
    return digest.hexdigest()


def read_bundle_hash(session: Any) -> str | None:
    """The bundle hash an onnxruntime session's model was stamped with; None for an older, unstamped export."""
    stamped = session.get_modelmeta().custom_metadata_map.get(ONNX_HASH_KEY)
    return None if stamped is None else str(stamped)


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")  # no tensor can exist unless torch was imported
    return torch is not None and isinstance(value, torch.Tensor)


def _feed_weights(digest: hashlib._Hash, value: Any) -> None:
    """A tensor, or an array as the tensor it was saved from: ``T<torch dtype><shape>`` + raw little-endian bytes."""
    if _is_tensor(value):
        import torch

        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, np.ndarray):
        digest.update(f"Ttorch.{value.dtype.name}{tuple(value.shape)}".encode())
        digest.update(np.ascontiguousarray(value, value.dtype.newbyteorder("<")).tobytes())
    else:
        _feed(digest, value)


def _feed_dict(digest: hashlib._Hash, value: dict[Any, Any], feed_item: Callable[[hashlib._Hash, Any], None]) -> None:
    digest.update(b"{")
    for key in sorted(value, key=str):
        digest.update(f"{key!s}:".encode())
        feed_item(digest, value[key])
    digest.update(b"}")


def _feed(digest: hashlib._Hash, value: Any) -> None:
    """Canonical, type-tolerant encoding: a list and a tuple, an int 1 and a float 1.0 hash alike."""
    if _is_tensor(value):
        _feed_weights(digest, value)
    elif isinstance(value, np.ndarray):
        _feed(digest, value.tolist())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _feed(digest, value.to_dict() if hasattr(value, "to_dict") else dataclasses.asdict(value))
    elif isinstance(value, dict):
        _feed_dict(digest, value, _feed)
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
        if _is_tensor(value):
            if value.is_floating_point() or value.is_complex():
                bad = int((~value.isfinite()).sum())
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
    if _is_tensor(value) or isinstance(value, np.ndarray):
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
