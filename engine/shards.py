"""``--shard i/n``: a deterministic share of an ordered list of files, and joining the shards' CSVs.

Shard ``i`` of ``n`` (0-based) is the ``i``-th of ``n`` contiguous, near-equal runs of the
list in its usual order (sorted paths within a folder), so the shards cover every file once
and concatenating their outputs in shard order gives the unsharded output byte for byte.
A shard CSV of ``attricam analyze`` gets a manifest beside it (:class:`ShardManifest`: shard, job,
checksum, finished or not), so ``merge csv`` refuses a missing, repeated, truncated, unfinished
or foreign shard instead of writing a CSV that silently lacks rows; the CSV itself is unchanged.
``--shard env`` takes ``i/n`` from torchrun's ``RANK``/``WORLD_SIZE``, so the shards can run as
ranks of one ``torchrun`` launch or as independent jobs (a batch array, several machines).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .image_io import display_name

__all__ = [
    "Shard",
    "ShardManifest",
    "check_shard_set",
    "file_sha256",
    "listing_digest",
    "manifest_path",
    "merge_csv",
    "parse_shard",
]

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


MANIFEST_FORMAT = "attricam-shard-csv/1"


def manifest_path(csv_path: str | Path) -> Path:
    """The manifest beside a shard CSV: ``part-0.csv`` -> ``part-0.csv.shard.json``.

    Beside the file itself, links resolved: ``analyze`` writes through a linked ``--csv`` to its target.
    """
    csv_path = Path(os.path.realpath(csv_path))
    return csv_path.with_name(csv_path.name + ".shard.json")


def listing_digest(paths: Sequence[str | Path]) -> str:
    """SHA-256 of the whole ordered file list a sharded run split: shards of one job share it."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class ShardManifest:
    """What ``merge csv`` needs to prove a shard CSV whole and in place; the CSV itself stays the plain contract.

    ``complete`` is False for a run that was interrupted or stopped by a full disk: its CSV is
    well-formed but lacks the files after the stop.
    """

    shard: Shard
    listing: str
    """:func:`listing_digest` of all files of the job (before sharding)."""
    files: int
    csv_sha256: str
    complete: bool

    def write(self, csv_path: str | Path) -> Path:
        from .atomic import atomic_write_text

        data = {
            "format": MANIFEST_FORMAT,
            "shard": [self.shard.index, self.shard.count],
            "listing": self.listing,
            "files": self.files,
            "csv_sha256": self.csv_sha256,
            "complete": self.complete,
        }
        target = manifest_path(csv_path)
        atomic_write_text(target, json.dumps(data, indent=1) + "\n")
        return target

    @classmethod
    def read(cls, csv_path: str | Path) -> ShardManifest:
        """The manifest of ``csv_path``; ValueError naming the CSV when it is missing or not one."""
        path = manifest_path(csv_path)
        shown = display_name(csv_path)
        try:
            if path.stat().st_size > 1 << 16:
                raise ValueError(f"{shown}: {display_name(path.name)} is too large to be a shard manifest")
            data = json.loads(path.read_bytes())
            index, count = data["shard"]
            manifest = cls(
                shard=Shard(int(index), int(count)),
                listing=str(data["listing"]),
                files=int(data["files"]),
                csv_sha256=str(data["csv_sha256"]),
                complete=data["complete"] is True,
            )
        except FileNotFoundError:
            raise ValueError(
                f"{shown}: no shard manifest ({display_name(path.name)}); merge csv joins CSVs written by "
                "attricam analyze --shard i/n"
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, ValueError) and str(exc).startswith(shown):
                raise
            raise ValueError(f"{shown}: its shard manifest {display_name(path.name)} is unreadable ({exc})") from None
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"{shown}: {display_name(path.name)} is not a shard manifest of this version")
        return manifest


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def check_shard_set(parts: Sequence[str | Path]) -> list[Path]:
    """The shard CSVs in shard order, after proving them one whole job: every shard once, none changed or cut short.

    Raises ValueError naming the first problem: a CSV without its manifest, one changed since its run
    wrote it (truncated, edited), an interrupted shard, shards of different jobs or counts, a shard
    given twice, or shards missing.
    """
    by_index: dict[int, Path] = {}
    first: ShardManifest | None = None
    for part in map(Path, parts):
        manifest = ShardManifest.read(part)
        shown = display_name(part)
        if file_sha256(part) != manifest.csv_sha256:
            raise ValueError(
                f"{shown}: changed or truncated since its run wrote it (its checksum differs); rerun that shard"
            )
        if not manifest.complete:
            raise ValueError(f"{shown}: shard {manifest.shard} did not finish (interrupted or out of disk); rerun it")
        if first is None:
            first = manifest
        elif manifest.shard.count != first.shard.count or manifest.listing != first.listing:
            raise ValueError(
                f"{shown} and {display_name(by_index[first.shard.index])} are shards of different runs "
                f"({manifest.shard} vs {first.shard}, or other input files)"
            )
        if (other := by_index.get(manifest.shard.index)) is not None:
            raise ValueError(f"shard {manifest.shard} is given twice: {display_name(other)} and {shown}")
        by_index[manifest.shard.index] = part
    assert first is not None
    if missing := [f"{i}/{first.shard.count}" for i in range(first.shard.count) if i not in by_index]:
        raise ValueError(f"shard(s) {', '.join(missing)} missing: merging without them would drop their rows")
    return [by_index[i] for i in range(first.shard.count)]


def merge_csv(parts: Sequence[str | Path], out: str | Path) -> int:
    """Join shard CSVs into ``out`` (in shard order, whatever order they are given in); returns the data rows.

    The set is proved whole first (:func:`check_shard_set`); headers must agree and every record must have
    the header's field count. Paths that are not UTF-8 keep their bytes (surrogate escapes).
    """
    import csv
    import io

    from .atomic import atomic_path

    ordered = check_shard_set(parts)
    header: bytes | None = None
    rows = 0
    owner_of: dict[str, Path] = {}
    with atomic_path(out) as tmp, open(tmp, "wb") as sink:
        for part in ordered:
            shown = display_name(part)
            content = part.read_bytes()
            cut = content.find(b"\n") + 1
            if not cut:
                raise ValueError(f"{shown}: no header line (not a CSV of attricam analyze)")
            if header is None:
                header = content[:cut]
                sink.write(header)
            elif content[:cut] != header:
                raise ValueError(
                    f"{shown}: its header differs from {display_name(ordered[0])}'s; were they written by one model?"
                )
            width = header.count(b",") + 1
            body = content[cut:]
            records = list(csv.reader(io.StringIO(body.decode("utf-8", "surrogateescape"), newline="")))
            for number, record in enumerate(records, 2):
                if len(record) != width:
                    raise ValueError(f"{shown}: record {number} has {len(record)} fields, not {width}: a damaged CSV")
                owner = owner_of.setdefault(record[0], part)
                if owner != part:
                    raise ValueError(
                        f"{shown} and {display_name(owner)} both hold {display_name(record[0])}: overlapping shards"
                    )
            sink.write(body)
            rows += len(records)
    return rows
