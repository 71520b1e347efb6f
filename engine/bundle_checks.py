"""Integrity checks of a model bundle: every number finite, and a hash that binds the ONNX twin to it.

Why a hash: the ``.onnx`` twin is a second copy of the weights. When a bundle is
retrained or edited and its twin is not re-exported, onnxruntime would happily
run the stale network while the thresholds come from the new bundle — wrong
answers that look right. :func:`decision_hash` digests everything that decides
a prediction (config, weights, thresholds, and any decision field added later,
such as a calibration) and is written into both files; the runtime compares
them at load.

Both walks over the decision data are linear in the file's size: a pickle may reference one list
from many places (``x = [x, x]`` sixty times is a few hundred bytes, 2**60 values when walked as a
tree), so every walk counts the values it visits and stops at :data:`MAX_DECISION_VALUES`.

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
    "check_walkable",
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
MAX_DECISION_VALUES = 200_000
"""Most containers and scalars a walk over the decision data visits (an array or tensor counts once): a real
bundle has a few thousand. More means shared references that would make the walk exponential: a ValueError."""


class _Budget:
    """Counts the values a walk visits; raises ValueError past :data:`MAX_DECISION_VALUES`."""

    def __init__(self, what: str = "decision data") -> None:
        self.left = MAX_DECISION_VALUES
        self.what = what

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise ValueError(
                f"{self.what} holds more than {MAX_DECISION_VALUES:,} values "
                "(deeply nested or shared lists): not a bundle this program wrote"
            )


def decision_fields(bundle: Any) -> dict[str, Any]:
    """The bundle's fields that change a prediction, by name."""
    fields = {f.name: getattr(bundle, f.name) for f in dataclasses.fields(bundle) if f.name not in NON_DECISION_FIELDS}
    return {k: v for k, v in fields.items() if not (k in OPTIONAL_DECISION_FIELDS and v is None)}


def decision_hash(bundle: Any) -> str:
    """sha256 (hex) of the decision fields; equal for a bundle before saving and after loading."""
    digest = hashlib.sha256()
    budget = _Budget()
    for name, value in sorted(decision_fields(bundle).items()):
        digest.update(f"<{name}>".encode())
        if name == WEIGHTS_FIELD and isinstance(value, dict):
            _feed_dict(digest, value, _feed_weights, budget)
        else:
            _feed(digest, value, budget)
    return digest.hexdigest()


def read_bundle_hash(session: Any) -> str | None:
    """The bundle hash an onnxruntime session's model was stamped with; None for an older, unstamped export."""
    stamped = session.get_modelmeta().custom_metadata_map.get(ONNX_HASH_KEY)
    return None if stamped is None else str(stamped)


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")  # no tensor can exist unless torch was imported
    return torch is not None and isinstance(value, torch.Tensor)


def _feed_weights(digest: hashlib._Hash, value: Any, budget: _Budget | None) -> None:
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
        _feed(digest, value, budget)


def _feed_dict(
    digest: hashlib._Hash,
    value: dict[Any, Any],
    feed_item: Callable[[hashlib._Hash, Any, _Budget | None], None],
    budget: _Budget | None,
) -> None:
    digest.update(b"{")
    for key in sorted(value, key=str):
        digest.update(f"{key!s}:".encode())
        feed_item(digest, value[key], budget)
    digest.update(b"}")


def _feed(digest: hashlib._Hash, value: Any, budget: _Budget | None) -> None:
    """Canonical, type-tolerant encoding: a list and a tuple, an int 1 and a float 1.0 hash alike.

    ``budget`` None: walking an array's own ``tolist()``, a tree as large as the array (no shared parts).
    """
    if budget is not None:
        budget.spend()
    if _is_tensor(value):
        _feed_weights(digest, value, budget)
    elif isinstance(value, np.ndarray):
        _feed(digest, value.tolist(), None)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _feed(digest, value.to_dict() if hasattr(value, "to_dict") else dataclasses.asdict(value), budget)
    elif isinstance(value, dict):
        _feed_dict(digest, value, _feed, budget)
    elif isinstance(value, (list, tuple)):
        digest.update(f"[{len(value)}".encode())
        for item in value:
            _feed(digest, item, budget)
        digest.update(b"]")
    elif isinstance(value, (bool, np.bool_)) or value is None:
        digest.update(f"b{value!r}".encode())
    elif isinstance(value, (int, float, np.integer, np.floating)):
        digest.update(f"n{float(value).hex()}".encode())
    else:
        digest.update(f"s{value!s}".encode())


def check_walkable(value: Any, what: str) -> None:
    """Raise ValueError when walking ``value`` as a tree (JSON, a report) would visit over :data:`MAX_DECISION_VALUES`
    values: the metadata a screen shows or a report writes must stay as small as the file it came in."""
    budget = _Budget(what)
    stack = [value]
    while stack:
        item = stack.pop()
        budget.spend()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def find_non_finite(bundle: Any) -> str | None:
    """Where the first NaN or infinity among the decision fields sits (``"state_dict['w'] (3 of 64)"``), or None.

    A NaN weight or threshold does not crash anything: it silently turns every
    probability into ``nan`` or every decision into 0, so it must be caught at load.
    """
    for where, value in _numbers(decision_fields(bundle), "", _Budget()):
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


def _numbers(value: Any, where: str, budget: _Budget) -> Iterator[tuple[str, Any]]:
    budget.spend()
    if _is_tensor(value) or isinstance(value, np.ndarray):
        yield where, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield from _numbers(dataclasses.asdict(value), where, budget)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, f"{where}[{key!r}]" if where else str(key), budget)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _numbers(item, f"{where}[{index}]", budget)
    elif isinstance(value, (float, np.floating)):
        yield where, value
