"""Reader for CelebA's official layout that tolerates partial copies.

Our data roots hold only a subset of the 202,599 images, while the annotation
files are complete. The reader therefore joins three sources — attribute rows,
partition rows and the files actually on disk — and reports every mismatch
(missing image, malformed attribute row, partition entry without annotation)
as a count plus a logged warning instead of raising: a partial or slightly
damaged copy must still train.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from attricam.engine.attributes import ATTRIBUTE_NAMES, NUM_ATTRIBUTES

from .config import CELEBA_ATTR_FILE, CELEBA_IMAGE_DIR, CELEBA_PARTITION_FILE

__all__ = [
    "read_identities",
    "PARTITIONS",
    "CelebAReport",
    "CelebASplit",
    "load_celeba",
    "read_attributes",
    "read_partitions",
    "train_positive_rates",
]

log = logging.getLogger(__name__)

PARTITIONS = {"train": 0, "val": 1, "test": 2}
IMAGE_DIR = CELEBA_IMAGE_DIR
ATTR_FILE = CELEBA_ATTR_FILE
PARTITION_FILE = CELEBA_PARTITION_FILE
IDENTITY_FILE = "identity_CelebA.txt"
_MAX_EXAMPLES = 5


@dataclass(frozen=True)
class CelebAReport:
    """What was found under one root; every count is also logged when non-zero."""

    root: str
    found: dict[str, int]
    missing: dict[str, int]
    """Images the partition file assigns to each split that are not on disk."""
    malformed_rows: int = 0
    malformed_examples: tuple[str, ...] = ()
    unannotated: int = 0
    """Images named by the partition file (and present) but without a valid attribute row."""
    unpartitioned_files: int = 0
    """Image files on disk that the partition file does not name."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "found": dict(self.found),
            "missing": dict(self.missing),
            "malformed_rows": self.malformed_rows,
            "malformed_examples": list(self.malformed_examples),
            "unannotated": self.unannotated,
            "unpartitioned_files": self.unpartitioned_files,
        }


@dataclass(frozen=True)
class CelebASplit:
    """The usable images of one partition under one root."""

    root: Path
    partition: str
    filenames: tuple[str, ...]
    labels: np.ndarray  # (n, 40) uint8 in {0, 1}
    report: CelebAReport = field(repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.filenames)

    def path(self, i: int) -> Path:
        return self.root / IMAGE_DIR / self.filenames[i]


def read_attributes(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """Parse ``list_attr_celeba.txt`` -> ({filename: (40,) int8 of +-1}, malformed row descriptions).

    A row is malformed when it has the wrong number of columns or a value other than 1 / -1.
    A header that does not list the 40 official names in order raises: the labels would be misread.
    """
    malformed: list[str] = []
    names: list[str] = []
    lines: list[int] = []
    tokens: list[list[str]] = []
    with open(path, encoding="utf-8") as handle:
        handle.readline()  # count line; the row count is what we actually read
        header = handle.readline().split()
        if tuple(header) != ATTRIBUTE_NAMES:
            raise ValueError(f"{path}: header does not list the 40 CelebA attributes in official order")
        for lineno, line in enumerate(handle, start=3):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != NUM_ATTRIBUTES + 1:
                malformed.append(f"line {lineno}: {len(parts) - 1} values, expected {NUM_ATTRIBUTES}")
                continue
            names.append(parts[0])
            lines.append(lineno)
            tokens.append(parts[1:])
    text = np.array(tokens, dtype=str).reshape(len(tokens), NUM_ATTRIBUTES)  # vectorised: no int() per value
    values = np.where(text == "1", 1, np.where(text == "-1", -1, 0)).astype(np.int8)
    valid = np.all(values != 0, axis=1)
    malformed += [f"line {lines[i]}: values other than 1/-1" for i in np.flatnonzero(~valid)]
    rows = {names[i]: values[i] for i in np.flatnonzero(valid)}
    return rows, malformed


def read_identities(root: str | Path) -> dict[str, int]:
    """``identity_CelebA.txt`` -> {filename: identity}; empty (with a warning) when the file is absent."""
    path = Path(root) / IDENTITY_FILE
    if not path.is_file():
        log.warning("%s not found: the calibration slice is drawn by file name, not by identity", path)
        return {}
    identities: dict[str, int] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                identities[parts[0]] = int(parts[1])
    return identities


def read_partitions(path: Path) -> dict[str, int]:
    """Parse ``list_eval_partition.txt`` -> {filename: 0 | 1 | 2}; unreadable lines are skipped with a warning."""
    partitions: dict[str, int] = {}
    bad = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 2 and parts[1] in ("0", "1", "2"):
                partitions[parts[0]] = int(parts[1])
            elif parts:
                bad += 1
    if bad:
        log.warning("%s: %d unreadable partition lines skipped", path, bad)
    return partitions


def load_celeba(root: str | Path, partitions: tuple[str, ...] = ("train", "val", "test")) -> dict[str, CelebASplit]:
    """Read ``root`` and return the usable images of each requested partition (possibly empty)."""
    root = Path(root)
    for name in partitions:
        if name not in PARTITIONS:
            raise ValueError(f"unknown partition {name!r}; valid: {', '.join(PARTITIONS)}")
    attributes, malformed = read_attributes(root / ATTR_FILE)
    partition_of = read_partitions(root / PARTITION_FILE)
    image_dir = root / IMAGE_DIR
    on_disk = {e.name for e in os.scandir(image_dir) if e.is_file()} if image_dir.is_dir() else set()

    found = {p: 0 for p in PARTITIONS}
    missing = {p: 0 for p in PARTITIONS}
    chosen: dict[str, list[str]] = {p: [] for p in partitions}
    unannotated = 0
    names = {v: k for k, v in PARTITIONS.items()}
    for filename, part in partition_of.items():
        split = names[part]
        if filename not in on_disk:
            missing[split] += 1
            continue
        if filename not in attributes:
            unannotated += 1
            continue
        found[split] += 1
        if split in chosen:
            chosen[split].append(filename)
    unpartitioned = len(on_disk - partition_of.keys())

    report = CelebAReport(
        root=str(root),
        found=found,
        missing=missing,
        malformed_rows=len(malformed),
        malformed_examples=tuple(malformed[:_MAX_EXAMPLES]),
        unannotated=unannotated,
        unpartitioned_files=unpartitioned,
    )
    _log_report(report, partitions)
    result = {}
    for split, files in chosen.items():
        files.sort()
        labels = np.stack([attributes[f] for f in files]) if files else np.zeros((0, NUM_ATTRIBUTES), np.int8)
        result[split] = CelebASplit(root, split, tuple(files), (labels > 0).astype(np.uint8), report)
    return result


def _log_report(report: CelebAReport, partitions: tuple[str, ...]) -> None:
    log.info("%s: found %s", report.root, ", ".join(f"{p}={report.found[p]}" for p in partitions))
    for p in partitions:
        if report.missing[p]:
            log.warning("%s: %d %s images named by the partition file are absent", report.root, report.missing[p], p)
    if report.malformed_rows:
        log.warning(
            "%s: %d malformed attribute rows skipped, e.g. %s",
            report.root,
            report.malformed_rows,
            "; ".join(report.malformed_examples),
        )
    if report.unannotated:
        log.warning("%s: %d present images have no valid attribute row", report.root, report.unannotated)
    if report.unpartitioned_files:
        log.warning("%s: %d image files are not named by the partition file", report.root, report.unpartitioned_files)


def train_positive_rates(root: str | Path) -> np.ndarray:
    """Positive rate of every attribute over all annotated train rows (not only the images present), (40,)."""
    root = Path(root)
    attributes, _ = read_attributes(root / ATTR_FILE)
    partition_of = read_partitions(root / PARTITION_FILE)
    rows = [v for f, v in attributes.items() if partition_of.get(f) == PARTITIONS["train"]]
    if not rows:
        raise ValueError(f"{root}: no annotated train rows")
    rates: np.ndarray = (np.stack(rows) > 0).mean(axis=0)  # (40,)
    return rates
