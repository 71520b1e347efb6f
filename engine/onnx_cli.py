"""``attricam export-onnx``: write the ONNX twin of a bundle and prove it matches torch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .bundle import BundleError, ModelBundle, default_bundle_path
from .image_io import display_name
from .onnx_export import check_parity, export_onnx
from .output_guard import OutputGuard, output_lock
from .output_paths import OutputPathError

__all__ = ["add_export_arguments", "run_export"]


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", type=Path, default=default_bundle_path(), help="bundle .pt (default: the shipped one)"
    )
    parser.add_argument("--out", type=Path, help="ONNX path (default: beside the bundle, same stem)")


def run_export(args: argparse.Namespace) -> int:
    try:
        guard = OutputGuard()
        guard.protect(args.model, "the model (--model)")
        out = guard.file(args.out or Path(args.model).with_suffix(".onnx"), "--out")
        if out.suffix.lower() != ".onnx":
            raise OutputPathError(f"--out {display_name(args.out)} must end in .onnx (it is an ONNX model)")
        bundle = ModelBundle.load(args.model)
    except (BundleError, OutputPathError) as exc:
        print(f"attricam export-onnx: error: {exc}", file=sys.stderr)
        return 2
    with output_lock([(out, "--out")]):
        path = export_onnx(bundle, out)
        report = check_parity(bundle, path)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(
        f"parity vs torch on {report.faces} faces: max |dp| = {report.max_probability_diff:.2e}, "
        f"max |dattention| = {report.max_attention_diff:.2e} -> {'OK' if report.ok else 'MISMATCH'}"
    )
    return 0 if report.ok else 1
