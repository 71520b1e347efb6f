"""Retraining on a frozen backbone: each face's token grid is computed once and memory-mapped.

``attricam train --from BUNDLE --freeze backbone`` keeps the bundle's CNN (``backbone`` and
``to_tokens`` of :class:`attricam.engine.model.CrossAttentionAttributeModel`) and trains only
the attribute queries, the cross-attention blocks and the heads. The CNN is what costs: on the
tokens alone an epoch over every train face takes seconds on two cores, so a recipe (any loss,
any sampler) reaches a calibrated bundle in about a minute.

The token grids, (n, gh * gw, dim) float16 with the position embedding added, are written once
per (backbone weights, crop geometry, face list, input variant) to ``cache/tokens-<key>.npy`` (+ a
``.json`` index) and read memory-mapped by every later run on the same bundle and faces. Two
variants exist: ``clean`` (the centre crop the evaluation uses) and ``shifted`` (the deterministic
camera-shifted val inputs of :func:`attricam.training.augment.shifted_val_inputs`), so the
decision rule is fitted and val is scored on exactly the inputs a full run uses.

What cannot be cached: augmentation. A frozen run trains on un-augmented tokens (no flips,
shifts, camera shift); its bundle is the frozen CNN plus the retrained head.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from attricam.engine.atomic import atomic_path, atomic_write_text
from attricam.engine.model import CrossAttentionAttributeModel

from .augment import center_crop, shifted_val_inputs
from .cache import CropSpec, default_cache_dir
from .config import TrainConfig
from .data import FaceArrays
from .events import EventCallback, LogEvent
from .sampling import BatchPlan

__all__ = [
    "FROZEN_PREFIXES",
    "FrozenBackboneModel",
    "TokenBatches",
    "TokenInputs",
    "backbone_fingerprint",
    "freeze_backbone",
    "frozen_inputs",
    "prepare_token_inputs",
    "token_grids",
]

log = logging.getLogger(__name__)

FROZEN_PREFIXES = ("backbone.", "to_tokens.")
"""State-dict prefixes of the part of the model that turns an image into tokens."""
_BATCH = 256


class FrozenBackboneModel(CrossAttentionAttributeModel):
    """The attribute model whose ``forward`` also takes ready token grids (b, gh * gw, dim) instead of images.

    Same parameters and state-dict keys as the plain model, so checkpoints, EMA, selection and
    the bundle are those of a full run; images (b, 3, H, W) still go through the CNN.
    """

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim == 3:  # (b, hw, dim) cached tokens
            return self.forward_head(x.float())
        return super().forward(x)


def freeze_backbone(model: CrossAttentionAttributeModel) -> int:
    """Stop gradients into the CNN and its token projection; returns the number of parameters left to train."""
    for name, p in model.named_parameters():
        if name.startswith(FROZEN_PREFIXES):
            p.requires_grad_(False)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def backbone_fingerprint(model: CrossAttentionAttributeModel) -> str:
    """sha1 of the weights and batch-norm statistics that make the tokens (and the model config)."""
    digest = hashlib.sha1(json.dumps(asdict(model.config), sort_keys=True, default=str).encode())
    for name, value in sorted(model.state_dict().items()):
        if name.startswith(FROZEN_PREFIXES):
            digest.update(name.encode())
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _token_key(fingerprint: str, faces: FaceArrays, spec: CropSpec, variant: str) -> str:
    digest = hashlib.sha1(f"{fingerprint}\n{variant}\n{json.dumps(asdict(spec), sort_keys=True)}".encode())
    digest.update("\n".join(f"{s}|{f}" for s, f in zip(faces.sources, faces.filenames, strict=True)).encode())
    return digest.hexdigest()[:16]


@torch.inference_mode()
def _write_tokens(
    model: CrossAttentionAttributeModel,
    inputs: Callable[[int, int], torch.Tensor],
    count: int,
    path: Path,
    progress: Callable[[int, int], None] | None,
) -> None:
    grid_h, grid_w = model.config.token_grid
    shape = (count, grid_h * grid_w, model.config.dim)
    model.eval()
    device = next(model.parameters()).device
    with atomic_path(path) as tmp:
        tokens = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=shape)
        for start in range(0, count, _BATCH):
            stop = min(start + _BATCH, count)
            tokens[start:stop] = model.forward_features(inputs(start, stop).to(device)).float().cpu().numpy()
            if progress is not None:
                progress(stop, count)
        tokens.flush()
        del tokens


def token_grids(
    model: CrossAttentionAttributeModel,
    faces: FaceArrays,
    spec: CropSpec,
    *,
    variant: str = "clean",
    cache_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Token grids (n, gh * gw, dim) float16 of ``faces`` under ``model``'s CNN, memory-mapped from the token cache.

    ``variant``: ``clean`` (centre crops) or ``shifted`` (the shifted-val inputs of the whole set, in order).
    Built on first use (about a forward pass per face), then shared by every run on the same weights and faces.
    """
    if variant not in ("clean", "shifted"):
        raise ValueError(f"unknown token variant {variant!r}; valid: clean, shifted")
    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    index = folder / f"tokens-{_token_key(backbone_fingerprint(model), faces, spec, variant)}.json"
    array = index.with_suffix(".npy")
    if not (index.is_file() and array.is_file()):
        folder.mkdir(parents=True, exist_ok=True)
        log.info("token cache: computing %s token grids of %d faces once (%s)", variant, len(faces), array.name)
        height, width = spec.height, spec.width
        if variant == "clean":

            def inputs(start: int, stop: int) -> torch.Tensor:
                return center_crop(faces.images[start:stop], height, width)

        else:  # shifted_val_inputs draws from one generator over the whole set: make it once, in order
            shifted = shifted_val_inputs(faces.images, height, width)

            def inputs(start: int, stop: int) -> torch.Tensor:
                return shifted[start:stop]

        _write_tokens(model, inputs, len(faces), array, progress)
        atomic_write_text(
            index,
            json.dumps({"variant": variant, "count": len(faces), "spec": asdict(spec), "dtype": "float16"}),
        )
    tokens = np.load(array, mmap_mode="c")  # copy-on-write: writable for torch, never written
    if len(tokens) != len(faces):
        raise RuntimeError(f"{array}: holds {len(tokens)} token grids, expected {len(faces)}; delete it to rebuild")
    return torch.from_numpy(tokens)


class TokenInputs:
    """Train, val and calibration faces as token grids, and the shifted grids :func:`finalize_run` scores on."""

    def __init__(
        self, train: FaceArrays, val: FaceArrays, holdout: FaceArrays, shifted: dict[tuple[str, ...], torch.Tensor]
    ) -> None:
        """``shifted``: a face set's file names -> its shifted token grids (n, gh * gw, dim)."""
        self.train, self.val, self.holdout, self._shifted = train, val, holdout, shifted

    def shifted_inputs(self, faces: FaceArrays) -> torch.Tensor:
        """The shifted-val token grids of ``faces`` (the val set or the calibration slice)."""
        return self._shifted[faces.filenames]


def _as_tokens(faces: FaceArrays, tokens: torch.Tensor) -> FaceArrays:
    return FaceArrays(tokens, faces.labels, faces.filenames, faces.sources)


def prepare_token_inputs(
    model: CrossAttentionAttributeModel,
    train: FaceArrays,
    val: FaceArrays,
    held_rows: np.ndarray,
    spec: CropSpec,
    *,
    cache_dir: str | Path | None = None,
    log_line: Callable[[str], None] | None = None,
) -> TokenInputs:
    """Swap every face set's crops for its cached token grids (built once per bundle and face list)."""

    def progress_for(what: str) -> Callable[[int, int], None]:
        def progress(done: int, total: int) -> None:
            if log_line and (done == total or done % (_BATCH * 8) == 0):
                log_line(f"token cache ({what}): {done}/{total} faces")

        return progress

    holdout = train.subset(held_rows)
    train_t = _as_tokens(train, token_grids(model, train, spec, cache_dir=cache_dir, progress=progress_for("train")))
    val_t = _as_tokens(val, token_grids(model, val, spec, cache_dir=cache_dir, progress=progress_for("val")))
    shifted: dict[tuple[str, ...], torch.Tensor] = {}
    for name, faces in (("val, shifted", val), ("calibration slice, shifted", holdout)):
        if len(faces):
            grids = token_grids(model, faces, spec, variant="shifted", cache_dir=cache_dir, progress=progress_for(name))
            shifted[faces.filenames] = grids
    return TokenInputs(train_t, val_t, train_t.subset(held_rows), shifted)


def frozen_inputs(
    model: CrossAttentionAttributeModel,
    cfg: TrainConfig,
    train: FaceArrays,
    val: FaceArrays,
    held_rows: np.ndarray,
    callback: EventCallback | None,
) -> tuple[FaceArrays, FaceArrays, FaceArrays, Callable[[FaceArrays], torch.Tensor]]:
    """(train, val, calibration slice, shifted-input lookup) as the cached token grids of ``model``'s CNN.

    Progress goes to the log and, as :class:`LogEvent` lines, to ``callback`` (the app's progress bar).
    """
    started = time.perf_counter()
    spec = CropSpec(width=cfg.image_width, height=cfg.image_height, margin=cfg.margin)

    def log_line(message: str) -> None:
        log.info(message)
        if callback:
            callback(LogEvent(message))

    inputs = prepare_token_inputs(model, train, val, held_rows, spec, cache_dir=cfg.cache_dir, log_line=log_line)
    log_line(f"token grids ready in {time.perf_counter() - started:.1f} s (frozen {cfg.freeze}, no augmentation)")
    return inputs.train, inputs.val, inputs.holdout, inputs.shifted_inputs


class TokenBatches(Dataset):
    """``dataset[plan]`` -> (token grids (b, gh * gw, dim) float32, labels (b, 40)): no augmentation (see module)."""

    def __init__(self, data: FaceArrays, rows: torch.Tensor | None = None) -> None:
        self.data, self.rows = data, rows

    def __len__(self) -> int:
        return len(self.data) if self.rows is None else len(self.rows)

    def __getitem__(self, plan: BatchPlan) -> tuple[torch.Tensor, torch.Tensor]:
        rows = plan.rows if self.rows is None else self.rows[plan.rows]
        rows, order = rows.sort()  # sequential reads of the memory map, then back to the sampler's order
        tokens = torch.empty((len(rows), *self.data.images.shape[1:]), dtype=torch.float32)
        tokens[order] = self.data.images[rows].float()
        labels = torch.empty((len(rows), self.data.labels.shape[1]), dtype=self.data.labels.dtype)
        labels[order] = self.data.labels[rows]
        return tokens, labels
