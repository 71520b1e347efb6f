"""An identity-disjoint calibration slice carved out of the train partition.

Val (780 faces here) holds a handful of positives of the rarest attributes (a
few Bald faces), too few to choose a checkpoint, fit a per-attribute
calibration and a threshold without fitting noise. Holding back a slice of
train by *identity* (no person on both sides, as CelebA's own partitions)
gives a larger set of faces the weights never saw. The trainer selects its
checkpoint on this slice only, so val stays untouched until the end and the
figures reported on it are honest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["calibration_mask"]


def _unit_hash(text: str) -> float:
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big") / 2**64


def calibration_mask(
    filenames: Sequence[str], identities: Mapping[str, int], fraction: float, salt: str = "attricam-calibration"
) -> np.ndarray:
    """Bool (n,): True for images whose identity falls in the held-back ``fraction`` (deterministic).

    Images without a known identity are assigned by their file name.
    """
    keys = [f"id:{identities[f]}" if f in identities else f"file:{f}" for f in filenames]
    cache: dict[str, bool] = {}
    out = np.zeros(len(keys), bool)
    for i, key in enumerate(keys):
        if key not in cache:
            cache[key] = _unit_hash(f"{salt}:{key}") < fraction
        out[i] = cache[key]
    return out
