"""``attricam merge cache|csv``: join the outputs of ``--shard i/n`` runs into the unsharded one.

* ``merge cache``: the face caches of shards ``0/n .. n-1/n`` of each split -> the split's whole
  cache, identical to an unsharded ``attricam cache`` (same key, same bytes), which training then finds.
* ``merge csv``: the shard CSVs of ``attricam analyze --shard`` -> one CSV in shard order, identical
  to an unsharded analysis of the same paths; each shard is proved by the manifest its run wrote
  beside it (:func:`attricam.engine.shards.check_shard_set`), so a missing, repeated, truncated or
  unfinished shard is refused instead of silently dropping or doubling rows.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

__all__ = ["add_merge_arguments", "run_merge"]

log = logging.getLogger(__name__)


def add_merge_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    from attricam.engine.arg_types import positive_int

    from .config_checks import parse_partitions

    sub = parser.add_subparsers(dest="what", required=True, metavar="{cache,csv}")
    cache = sub.add_parser("cache", help="join shard face caches (attricam cache --shard i/n)")
    cache.add_argument("--data", type=Path, action="append", help="CelebA root(s); default $ATTRICAM_DATA")
    cache.add_argument("--partitions", type=parse_partitions, default=("train", "val"))
    cache.add_argument("--cache", type=Path, default=None, help="cache directory the shards were written to")
    cache.add_argument("--shards", type=positive_int, required=True, metavar="N", help="n of the --shard i/n runs")
    csv = sub.add_parser("csv", help="join shard CSVs (attricam analyze --shard i/n) in shard order")
    csv.add_argument(
        "parts", nargs="+", metavar="SHARD.csv", help="shard CSVs (each with the .shard.json its run wrote)"
    )
    csv.add_argument("--out", required=True, metavar="OUT.csv")
    return parser


def run_merge(args: argparse.Namespace) -> int:
    try:
        if args.what == "csv":
            from attricam.engine.output_guard import OutputGuard, output_lock
            from attricam.engine.shards import manifest_path, merge_csv

            guard = OutputGuard()
            for part in args.parts:
                guard.protect(part, f"the shard {part}")
                guard.protect(manifest_path(part), f"the manifest of {part}")
            out = guard.file(args.out, "--out")
            with output_lock([(out, "--out")]):
                rows = merge_csv(args.parts, out)
            log.info("merged %d shard CSVs (%d rows) into %s", len(args.parts), rows, args.out)
            return 0
        from attricam.engine.output_paths import check_output_folder

        from .cache import merge_face_caches
        from .celeba import load_celeba
        from .config import default_data_root
        from .preflight import check_data_root

        roots = args.data or [default_data_root()]
        for root in roots:
            check_data_root(root)
        if args.cache is not None:
            check_output_folder(args.cache, "--cache")
        merged = 0
        for root in roots:
            for split in load_celeba(root, args.partitions).values():
                if len(split):
                    merge_face_caches(root, split.filenames, args.shards, args.cache)
                    merged += 1
        if not merged:
            raise ValueError(
                f"no {','.join(args.partitions)} images under {', '.join(map(str, roots))}: nothing to merge"
            )
        return 0
    except (OSError, ValueError) as exc:
        print(f"attricam merge: error: {exc}", file=sys.stderr)
        return 2
