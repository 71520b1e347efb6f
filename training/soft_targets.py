"""Distillation targets: what a fused bundle says about every train face, blended into the training labels.

The first of the model issue's three ways to bring the pretrained face network's knowledge in: teach it to the
attribute network itself, so that the network alone (what answers without the optional face network, and what
draws the attention maps) learns from the ~3 M faces too, with nothing added at run time. The teacher is a bundle
with a second opinion (:mod:`attricam.engine.second_opinion`): its fused output on each train face, before
calibration (the network's own scale; the student's rule is fitted afresh)::

    python -m attricam.training.distill --model assets/attricam-default.pt --descriptors runs/teacher \\
        --data ../shared/celeba --data ../shared/celeba-lowres --out runs/soft-targets.npz
    attricam train ... --soft-targets runs/soft-targets.npz [--soft-target-weight 0.5]

Each training face's targets become ``(1 - w) * labels + w * teacher``; the weighted losses take targets
between 0 and 1 as they are. Faces without a teacher row (no face in the descriptor table) keep their labels, and
the calibration slice and val never see the teacher: they choose the checkpoint and fit the rule. The teacher's
probes were fitted on these train faces, so its answers there are in-sample: the student copies the teacher's
fit, not just its judgement, which is what distillation does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from attricam.engine.attributes import NUM_ATTRIBUTES

__all__ = ["SoftTargets", "blend_targets", "load_soft_targets", "root_key"]


def root_key(root: str | Path) -> str:
    """How a teacher file names a CelebA root: its folder's name (``celeba``, ``celeba-lowres``), wherever it is."""
    return Path(root).resolve().name


@dataclass(frozen=True)
class SoftTargets:
    """A teacher's probabilities, one row per train face named by (root, file name)."""

    roots: tuple[str, ...]
    filenames: tuple[str, ...]
    probabilities: np.ndarray  # (n, 40) float32 in [0, 1]


def load_soft_targets(path: str | Path) -> SoftTargets:
    """Read a file :func:`attricam.training.distill.write_soft_targets` wrote; ValueError says what is wrong with any other."""
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("roots", "filenames", "probabilities") if k not in data.files]
            if missing:
                raise ValueError(f"{path}: not a soft-target file (no {', '.join(missing)})")
            roots, names, p = data["roots"], data["filenames"], data["probabilities"].astype(np.float32)
    except (OSError, ValueError) as error:
        if str(error).startswith(str(path)):
            raise
        reason = "no such file" if isinstance(error, FileNotFoundError) else "not a numpy .npz archive"
        raise ValueError(f"{path}: not a soft-target file ({reason})") from error
    if p.ndim != 2 or p.shape[1] != NUM_ATTRIBUTES or not len(roots) == len(names) == len(p):
        raise ValueError(f"{path}: expected {len(names)} rows of {NUM_ATTRIBUTES} probabilities, got {p.shape}")
    if not np.isfinite(p).all() or p.min(initial=0) < 0 or p.max(initial=0) > 1:
        raise ValueError(f"{path}: probabilities must be finite and between 0 and 1")
    return SoftTargets(tuple(map(str, roots)), tuple(map(str, names)), p)


def blend_targets(
    labels: torch.Tensor,
    sources: Sequence[str],
    filenames: Sequence[str],
    rows: np.ndarray,
    targets: SoftTargets,
    weight: float,
) -> tuple[torch.Tensor, int]:
    """A copy of (n, 40) ``labels`` with ``rows`` blended with the teacher's -> (labels, how many rows had one).

    ``sources`` and ``filenames`` name each row's image (a :class:`~attricam.training.data.FaceArrays`' columns)."""
    where = {key: i for i, key in enumerate(zip(targets.roots, targets.filenames))}
    keys = {source: root_key(source) for source in set(sources)}  # a few roots, each resolved once
    blended = labels.clone()
    taught = 0
    for row in np.asarray(rows).tolist():
        i = where.get((keys[sources[row]], filenames[row]))
        if i is not None:
            blended[row] = (1 - weight) * labels[row] + weight * torch.from_numpy(targets.probabilities[i])
            taught += 1
    return blended, taught
