"""MTCNN's three nets exported to ONNX, once, into a cache folder keyed by their weights.

``python -m attricam.engine.mtcnn_export`` (the Makefile runs it at install) writes
``pnet.onnx``, ``rnet.onnx`` and ``onet.onnx`` from the shipped torch weights and prints the folder;
:class:`attricam.engine.mtcnn_onnx.OnnxRunner` calls :func:`ensure_exported` on first use otherwise.
Exporting is the only step of the ONNX detector that imports torch; nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import warnings
from pathlib import Path

from .assets import mtcnn_weights_dir
from .atomic import atomic_path

__all__ = ["NET_NAMES", "cache_dir", "ensure_exported", "export_nets"]

NET_NAMES = ("pnet", "rnet", "onet")
_SPECS = {  # example input shape, output names, dynamic axes of the input
    "pnet": ((1, 3, 60, 80), ["regression", "probs"], {0: "batch", 2: "height", 3: "width"}),
    "rnet": ((2, 3, 24, 24), ["regression", "probs"], {0: "batch"}),
    "onet": ((2, 3, 48, 48), ["regression", "landmarks", "probs"], {0: "batch"}),
}


def cache_dir() -> Path:
    """``$ATTRICAM_CACHE/mtcnn-onnx-<weights hash>`` (default ``~/.cache/attricam``): new weights, new folder."""
    root = Path(os.environ.get("ATTRICAM_CACHE") or Path.home() / ".cache" / "attricam")
    digest = hashlib.sha256()
    for name in NET_NAMES:
        digest.update((mtcnn_weights_dir() / f"{name}.pt").read_bytes())
    return root / f"mtcnn-onnx-{digest.hexdigest()[:12]}"


def export_nets(out_dir: Path) -> list[Path]:
    """Export P-, R- and O-Net to ``out_dir/{pnet,rnet,onet}.onnx`` (imports torch; atomic per file)."""
    import torch

    from .mtcnn_torch import load_net

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (shape, outputs, axes) in _SPECS.items():
        net = load_net(name)
        path = out_dir / f"{name}.onnx"
        with (
            atomic_path(path) as tmp,
            contextlib.redirect_stdout(io.StringIO()),
            torch.no_grad(),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice: it handles these nets fine
            torch.onnx.export(
                net,
                (torch.zeros(shape),),
                str(tmp),
                input_names=["images"],
                output_names=outputs,
                dynamic_axes={"images": axes, **{o: {0: "batch"} for o in outputs}},
                opset_version=17,
                dynamo=False,
            )
        paths.append(path)
    return paths


def ensure_exported() -> Path:
    """The cache folder holding the three ONNX nets, exporting them first when missing."""
    folder = cache_dir()
    if not all((folder / f"{name}.onnx").is_file() for name in NET_NAMES):
        export_nets(folder)
    return folder


if __name__ == "__main__":
    print(ensure_exported())
