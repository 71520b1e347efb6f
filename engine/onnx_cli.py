"""``attricam export-onnx``: write the ONNX twin of a bundle and prove it matches torch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .bundle import BundleError, ModelBundle, default_bundle_path
from .onnx_export import check_parity, export_onnx

__all__ = ["add_export_arguments", "run_export"]


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", type=Path, default=default_bundle_path(), help="bundle .pt (default: the shipped one)"
    )
    parser.add_argument("--out", type=Path, help="ONNX path (default: beside the bundle, same stem)")


def run_export(args: argparse.Namespace) -> int:
    try:
        bundle = ModelBundle.load(args.model)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = export_onnx(bundle, args.out)
    report = check_parity(bundle, path)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(
        f"parity vs torch on {report.faces} faces: max |dp| = {report.max_probability_diff:.2e}, "
        f"max |dattention| = {report.max_attention_diff:.2e} -> {'OK' if report.ok else 'MISMATCH'}"
    )
    return 0 if report.ok else 1
