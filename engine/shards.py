"""``--shard i/n``: a deterministic share of an ordered list of files, and joining the shards' CSVs.

Shard ``i`` of ``n`` (0-based) is the ``i``-th of ``n`` contiguous, near-equal runs of the
list in its usual order (sorted paths within a folder), so the shards cover every file once
and concatenating their outputs in shard order gives the unsharded output byte for byte.
``--shard env`` takes ``i/n`` from torchrun's ``RANK``/``WORLD_SIZE``, so the shards can run as
ranks of one ``torchrun`` launch or as independent jobs (a batch array, several machines).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

__all__ = ["Shard", "merge_csv", "parse_shard"]

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index}/{self.count}: need 0 <= i < n")

    def take(self, items: Sequence[T]) -> list[T]:
        """This shard's contiguous run of ``items`` (order kept)."""
        n = len(items)
        return list(items[n * self.index // self.count : n * (self.index + 1) // self.count])

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard(0, 1)


def parse_shard(text: str) -> Shard:
    """``"i/n"`` (0-based) or ``"env"`` (torchrun's RANK/WORLD_SIZE); argparse-friendly errors."""
    if text == "env":
        text = f"{os.environ.get('RANK', '0')}/{os.environ.get('WORLD_SIZE', '1')}"
    try:
        index, count = (int(v) for v in text.split("/"))
        return Shard(index, count)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard must be i/n with 0 <= i < n, or env; got {text!r}") from None


def merge_csv(parts: Sequence[str | Path], out: str | Path) -> int:
    """Join shard CSVs (given in shard order) into ``out``; returns the data rows. Headers must agree."""
    import csv
    import io

    from .atomic import atomic_path

    header: bytes | None = None
    rows = 0
    owner_of: dict[str, str] = {}
    with atomic_path(out) as tmp, open(tmp, "wb") as sink:
        for part in parts:
            content = Path(part).read_bytes()
            cut = content.find(b"\n") + 1
            if not cut:
                raise ValueError(f"{part}: no header line (not a CSV of attricam analyze)")
            if header is None:
                header = content[:cut]
                sink.write(header)
            elif content[:cut] != header:
                raise ValueError(f"{part}: its header differs from {parts[0]}'s; were they written by one model?")
            body = content[cut:]
            records = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
            for path in {r[0] for r in records if r}:
                owner = owner_of.setdefault(path, str(part))
                if owner != str(part):
                    raise ValueError(f"{part} and {owner} both hold {path!r}: overlapping shards")
            sink.write(body)
            rows += len(records)
    return rows
