"""Write a teacher's soft targets: a fused bundle's outputs on every train face (:mod:`attricam.training.soft_targets`).

    python -m attricam.training.distill --model assets/attricam-default.pt --descriptors runs/teacher \\
        --data ../shared/celeba --data ../shared/celeba-lowres --out runs/soft-targets.npz
    attricam train ... --soft-targets runs/soft-targets.npz [--soft-target-weight 0.5]

The outputs are the fused ones before calibration (the network's scale), for every face of the descriptor tables
the bundle's probes read; the faces go through the product path (``align_face`` on the original pixels).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from attricam.engine.atomic import atomic_path
from attricam.engine.bundle import BundleError, ModelBundle

from .second_opinion_fit import fused_probabilities, load_faces, network_outputs
from .soft_targets import root_key

__all__ = ["main", "write_soft_targets"]

log = logging.getLogger(__name__)


def write_soft_targets(model: Path, roots: Sequence[Path], descriptors: Path, out: Path) -> Path:
    """The fused outputs of bundle ``model`` on every train face of ``descriptors``' tables, written to ``out``."""
    bundle = ModelBundle.load(model)
    opinion = bundle.opinion
    if opinion is None:
        raise ValueError(f"{model}: no second opinion to distil (fit one with attricam.training.second_opinion_fit)")
    faces = load_faces(roots, "train", descriptors, opinion.descriptor)
    log.info("%d train faces: the teacher's fused outputs", len(faces))
    fused = fused_probabilities(network_outputs(bundle, faces), opinion.probe_logits(faces.descriptors), opinion.blend)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp, open(tmp, "wb") as handle:
        np.savez(
            handle,
            roots=np.array([root_key(p.parent.parent) for p in faces.paths]),
            filenames=np.array([p.name for p in faces.paths]),
            probabilities=fused.astype(np.float32),
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attricam.training.distill", description=__doc__)
    parser.add_argument("--model", type=Path, required=True, help="a bundle with a second opinion: the teacher")
    parser.add_argument("--descriptors", type=Path, required=True, help="the descriptor tables its probes read")
    parser.add_argument("--data", type=Path, action="append", required=True, help="CelebA root (repeatable)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(2)
    try:
        print(write_soft_targets(args.model, args.data, args.descriptors, args.out))
    except (BundleError, ValueError, OSError) as error:  # an unreadable bundle or one without a second opinion
        parser.error(str(error))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
