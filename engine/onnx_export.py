"""Export a bundle's network to ONNX and check that onnxruntime agrees with torch.

The exported file carries the bundle's :func:`attricam.engine.bundle_checks.decision_hash`
in its ``metadata_props``, binding the twin to exactly that bundle.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .atomic import atomic_path
from .bundle import ModelBundle
from .bundle_checks import ONNX_HASH_KEY, read_bundle_hash

__all__ = ["ParityReport", "export_onnx", "check_parity", "read_bundle_hash"]

log = logging.getLogger(__name__)
OPSET = 18


@dataclass(frozen=True)
class ParityReport:
    max_probability_diff: float
    max_attention_diff: float
    faces: int

    @property
    def ok(self) -> bool:
        return self.max_probability_diff <= 1e-4 and self.max_attention_diff <= 1e-4


def export_onnx(bundle: ModelBundle, path: str | Path | None = None) -> Path:
    """Write ``bundle``'s network as ONNX (dynamic batch); default path: beside the bundle."""
    path = Path(path) if path else bundle.onnx_path
    if path is None:
        raise ValueError("an in-memory bundle needs an explicit ONNX path")
    model = bundle.build_model()
    c = bundle.config
    example = torch.rand(2, 3, c.image_height, c.image_width)
    with atomic_path(path) as tmp, contextlib.redirect_stdout(io.StringIO()):  # the exporter narrates on stdout
        torch.onnx.export(
            model,
            (example,),
            str(tmp),
            input_names=["images"],
            output_names=["logits", "attention"],
            dynamic_shapes={"images": {0: torch.export.Dim("batch", min=1, max=4096)}},
            opset_version=OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
        _stamp_bundle_hash(tmp, bundle.decision_hash)
    return path


def _stamp_bundle_hash(path: Path, value: str) -> None:
    import onnx

    model = onnx.load(str(path))
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = ONNX_HASH_KEY, value
    onnx.save(model, str(path))


def check_parity(bundle: ModelBundle, onnx_path: str | Path, faces: int = 8, seed: int = 0) -> ParityReport:
    """Run both runtimes on the same random crops and report the largest differences."""
    from .runtime import OnnxClassifier, TorchClassifier

    c = bundle.config
    crops = np.random.default_rng(seed).integers(0, 256, (faces, c.image_height, c.image_width, 3), dtype=np.uint8)
    reference = TorchClassifier(bundle, "cpu").predict(crops)
    candidate = OnnxClassifier(bundle, "cpu", onnx_path=Path(onnx_path), verify=False).predict(crops)
    return ParityReport(
        float(np.abs(reference.probabilities - candidate.probabilities).max()),
        float(np.abs(reference.attention - candidate.attention).max()),
        faces,
    )
