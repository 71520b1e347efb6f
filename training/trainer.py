"""The training loop, torchvision-reference style: ``main(cfg)`` -> ``train_one_epoch`` / ``evaluate``.

Determinism and resumption: an epoch's batch order is drawn from a generator
seeded by (seed, epoch) and each block of a batch is augmented from one seeded by
(seed, epoch, step, block) (:mod:`attricam.training.loader`), and a checkpoint is written
atomically after every epoch (:mod:`attricam.training.checkpoint`). A resumed run restarts
at the next epoch and takes exactly the steps the uninterrupted run would have
taken. At the end the best epoch (by mean ROC-AUC on the selection faces, which
does not depend on thresholds) is calibrated and written as a
:class:`attricam.engine.bundle.ModelBundle`.

Scale: ``--device cuda`` trains with autocast (bf16, or fp16 with a GradScaler),
channels-last tensors and pinned, prefetched batches. Under ``torchrun`` every
rank trains a :class:`~torch.nn.parallel.DistributedDataParallel` replica on its
slice of each global batch (:class:`attricam.training.sampling.DistributedBatchSampler`),
batch norm is synchronised, evaluation is split by rows and gathered, and only
rank 0 writes checkpoints, events and the bundle.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from attricam.engine.attributes import TRAIN_POSITIVE_RATE
from attricam.engine.model import AttributeModelConfig, CrossAttentionAttributeModel

from .augment import AugmentConfig
from .cache import CropSpec
from .celeba import read_identities
from .checkpoint import (
    CHECKPOINT_NAME,
    BestRecord,
    EpochRecord,
    check_resumable,
    load_checkpoint,
    restore_rng_state,
    rng_state,
    save_checkpoint,
)
from .config import TrainConfig
from .data import DataSummary, FaceArrays, load_face_arrays
from .diagnosis import DiagnosisConfig, StuckDiagnosis, apply_emergency_fixes
from .distributed import DistContext, setup, sync_batchnorm
from .ema import ModelEma
from .epoch import EpochStats, evaluate, train_one_epoch
from .epoch_report import epoch_record, report_epoch, score_epoch
from .events import EventCallback, FixAction, StartedEvent
from .finalize import TrainResult, finalize_run
from .frozen_tokens import FROZEN_PREFIXES, FrozenBackboneModel, TokenBatches, freeze_backbone, frozen_inputs
from .loader import TrainBatches, default_loader_workers, train_loader
from .losses import AttributeLoss, build_loss
from .sampling import DistributedBatchSampler
from .soft_targets import blend_targets, load_soft_targets
from .splits import calibration_mask

__all__ = [
    "CHECKPOINT_NAME",
    "EpochStats",
    "TrainResult",
    "autocast_dtype",
    "build_training",
    "evaluate",
    "load_checkpoint",
    "main",
    "train_one_epoch",
]

log = logging.getLogger(__name__)


def model_config_for(cfg: TrainConfig) -> AttributeModelConfig:
    options: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.model.items()}
    return replace(AttributeModelConfig(), image_height=cfg.image_height, image_width=cfg.image_width, **options)


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The forward pass's autocast dtype, or None for plain fp32."""
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return None
    if precision == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("--precision fp16 needs a GPU; use bf16 or fp32 on the CPU")
    return torch.bfloat16 if precision == "bf16" else torch.float16


def _initial_model(cfg: TrainConfig) -> CrossAttentionAttributeModel:
    """The model ``cfg.init_from`` holds (safely loaded), of its own architecture unless ``cfg.model`` names one;
    a bundle of another architecture or image size than the run's is refused."""
    from attricam.engine.bundle import ModelBundle

    path = cfg.init_from
    if path is None:
        raise ValueError("_initial_model needs cfg.init_from")
    bundle = ModelBundle.load(path)
    config = model_config_for(cfg)
    same_size = (bundle.config.image_height, bundle.config.image_width) == (cfg.image_height, cfg.image_width)
    if not cfg.model and same_size:
        config = bundle.config  # --from BUNDLE without --model-option: the bundle's own architecture
    if bundle.config != config:
        raise ValueError(f"--init-from {path}: its model config {bundle.config} differs from this run's {config}")
    model = _model_class(cfg)(config)
    weights = {k: torch.as_tensor(v) for k, v in bundle.state_dict.items()}
    if cfg.freeze:  # keep the CNN; the attribute queries, cross-attention and heads start afresh (seeded)
        model.load_state_dict({k: v for k, v in weights.items() if k.startswith(FROZEN_PREFIXES)}, strict=False)
        log.info("kept the CNN of %s; queries, cross-attention and heads are trained from a fresh start", path)
    else:
        model.load_state_dict(weights)
        log.info("starting from the weights of %s", path)
    return model


def _model_class(cfg: TrainConfig) -> type[CrossAttentionAttributeModel]:
    """The plain model, or on a frozen backbone the one that also takes cached token grids."""
    return FrozenBackboneModel if cfg.freeze else CrossAttentionAttributeModel


def build_training(
    cfg: TrainConfig, steps_per_epoch: int, num_train: int, device: torch.device
) -> tuple[CrossAttentionAttributeModel, AttributeLoss, torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """Model, loss, optimizer and warmup-cosine scheduler, freshly initialised from ``cfg.seed``."""
    torch.manual_seed(cfg.seed)
    # channels-last: ~15 % faster convolutions on CPU, tensor-core layout on GPUs; the state dict is the same.
    model = _initial_model(cfg) if cfg.init_from else _model_class(cfg)(model_config_for(cfg))
    if cfg.freeze:
        log.info("frozen %s: %d parameters left to train", cfg.freeze, freeze_backbone(model))
    model = model.to(device, memory_format=torch.channels_last)
    criterion = build_loss(cfg.loss, num_samples=max(num_train, 1), **cfg.loss_options).to(device)
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or name.endswith("attribute_queries") else decay).append(p)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr
    )
    total = max(cfg.epochs * steps_per_epoch, 1)
    warmup = max(int(cfg.warmup_epochs * steps_per_epoch), 1)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min((step - warmup) / max(total - warmup, 1), 1.0)
        return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    return model, criterion, optimizer, scheduler


@dataclass
class _Run:
    """Everything an epoch changes, and what the checkpoint restores."""

    model: CrossAttentionAttributeModel
    """The unwrapped replica: its state dict is saved, EMA-averaged and shipped."""
    train_model: torch.nn.Module
    """``model``, DDP-wrapped when several ranks train."""
    eval_model: CrossAttentionAttributeModel
    criterion: AttributeLoss
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    ema: ModelEma | None
    start_epoch: int = 0
    history: list[EpochRecord] = field(default_factory=list)
    best: BestRecord = field(default_factory=BestRecord)
    lr_boosts: int = 0
    wall_before: float = 0.0

    def restore(self, ckpt: dict[str, Any]) -> None:
        self.model.load_state_dict(ckpt["model"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        if ckpt.get("scaler"):
            self.scaler.load_state_dict(ckpt["scaler"])
        self.criterion.load_loss_state(ckpt["loss_state"])
        if self.ema is not None and ckpt.get("ema"):
            self.ema.load_state_dict(ckpt["ema"])
        restore_rng_state(ckpt["rng"])
        self.start_epoch = int(ckpt["epoch"]) + 1
        self.history = [EpochRecord.from_dict(h) for h in ckpt["history"]]
        self.best = BestRecord(int(ckpt["best_epoch"]), float(ckpt["best_score"]), ckpt["best_model"])
        self.lr_boosts, self.wall_before = int(ckpt["lr_boosts"]), float(ckpt["wall_seconds"])

    def save(self, path: Path, cfg: TrainConfig, epoch: int, wall: float, world_size: int) -> None:
        save_checkpoint(
            path,
            model=self.model.state_dict(),
            optimizer=self.optimizer.state_dict(),
            scheduler=self.scheduler.state_dict(),
            scaler=self.scaler.state_dict(),
            epoch=epoch,
            rng=rng_state(),
            config=cfg.to_dict(),
            loss_state=self.criterion.loss_state(),
            ema=self.ema.state_dict() if self.ema is not None else {},
            history=[h.to_dict() for h in self.history],
            best_epoch=self.best.epoch,
            best_score=float(self.best.score),
            best_model=self.best.state,
            lr_boosts=self.lr_boosts,
            wall_seconds=wall,
            world_size=world_size,
        )


def _checkpoint_to_resume(path: Path, cfg: TrainConfig, resume: bool) -> dict[str, Any] | None:
    """The checkpoint this run continues (None: a new run); refuses an existing one without ``resume``."""
    if path.exists() and not resume:
        raise FileExistsError(f"{path} exists; pass --resume to continue it or choose another --out")
    if not path.exists():
        if resume:
            log.warning("--resume: no checkpoint at %s, so this starts a new run from epoch 1", path)
        return None
    ckpt = load_checkpoint(path)
    check_resumable(TrainConfig.from_dict(ckpt["config"]), cfg, path)
    return ckpt


_FACES_SEEN: dict[tuple[tuple[str, ...], str, str | None, CropSpec, int | None], tuple[FaceArrays, DataSummary]] = {}
"""The faces this process read last, by (roots, partition, cache, crop, limit)."""


def _load_faces(cfg: TrainConfig, ctx: DistContext) -> tuple[FaceArrays, FaceArrays, tuple[DataSummary, DataSummary]]:
    """Train and val faces; rank 0 first, so only it builds a missing cache while the others wait."""
    spec = CropSpec(width=cfg.image_width, height=cfg.image_height, margin=cfg.margin)

    def load(partition: str, limit: int | None) -> tuple[FaceArrays, DataSummary]:
        key = (tuple(cfg.data), partition, cfg.cache_dir, spec, limit)
        if key not in _FACES_SEEN:  # --compare trains recipe after recipe on the same faces: read them once
            if len(_FACES_SEEN) >= 2:  # only the latest run's train and val faces are kept
                _FACES_SEEN.clear()
            _FACES_SEEN[key] = load_face_arrays(
                cfg.data, partition, cache_dir=cfg.cache_dir, spec=spec, workers=cfg.workers, limit=limit
            )
        return _FACES_SEEN[key]

    if not ctx.is_main:
        ctx.barrier()
    (train, train_summary), (val, val_summary) = load("train", cfg.train_limit), load("val", cfg.val_limit)
    if ctx.is_main:
        ctx.barrier()
    return train, val, (train_summary, val_summary)


def _build_run(cfg: TrainConfig, ctx: DistContext, num_train: int, steps_per_epoch: int) -> _Run:
    model, criterion, optimizer, scheduler = build_training(cfg, steps_per_epoch, num_train, ctx.device)
    model = sync_batchnorm(model, ctx)
    train_model: torch.nn.Module = model
    if ctx.distributed:
        train_model = DistributedDataParallel(model, device_ids=[ctx.device] if ctx.device.type == "cuda" else None)
    ema = ModelEma(model, cfg.ema_decay, frozen=FROZEN_PREFIXES if cfg.freeze else ()) if cfg.ema_decay > 0 else None
    eval_model = type(model)(model.config).to(ctx.device) if ema is not None else model
    scaler = torch.amp.GradScaler(ctx.device.type, enabled=autocast_dtype(cfg.precision, ctx.device) == torch.float16)
    return _Run(model, train_model, eval_model, criterion, optimizer, scheduler, scaler, ema)


def main(
    cfg: TrainConfig,
    callback: EventCallback | None = None,
    *,
    resume: bool = False,
    max_epochs_this_run: int | None = None,
    finalize_now: bool = False,
    faces: tuple[FaceArrays, FaceArrays] | None = None,
) -> TrainResult:
    """Train (or resume) the run in ``cfg.out``; returns the finished run's paths and val summary.

    ``max_epochs_this_run`` stops early after that many epochs (the checkpoint stays resumable);
    the bundle is only written once all ``cfg.epochs`` are done, or at once with ``finalize_now``
    (best epoch so far, e.g. when the time budget runs out; the checkpoint can still be resumed).
    ``faces`` = (train, val) skips reading ``cfg.data`` (tests, notebooks). Under torchrun only
    rank 0 calls ``callback``, writes and returns the paths; other ranks return ``{"rank": r}``.
    """
    torch.set_num_threads(cfg.num_threads)
    checkpoint_path = Path(cfg.out) / CHECKPOINT_NAME
    ckpt = _checkpoint_to_resume(checkpoint_path, cfg, resume or finalize_now)
    if finalize_now and not (ckpt and ckpt["history"]):
        raise RuntimeError(f"nothing to finalize: {checkpoint_path} holds no finished epoch")
    ctx = setup(cfg.device)
    callback = callback if ctx.is_main else None
    try:
        train, val, summaries, train_rows, held_rows = _run_faces(cfg, ctx, faces)
        holdout = train.subset(held_rows)
        train_labels = train.labels[torch.from_numpy(train_rows)]
        sampler = _batch_sampler(cfg, ctx, train_labels)
        run = _build_run(cfg, ctx, len(train_labels), len(sampler))
        shifted_inputs = None
        if cfg.freeze:  # every face set becomes its cached token grids; the CNN never runs again in this run
            train, val, holdout, shifted_inputs = frozen_inputs(run.model, cfg, train, val, held_rows, callback)
        if ckpt is not None:
            _resume(run, ckpt, checkpoint_path, cfg.epochs)
        if ctx.is_main:
            Path(cfg.out).mkdir(parents=True, exist_ok=True)
        if callback:
            callback(_started_event(cfg, run, len(sampler), len(train_labels), len(val)))
        loader = _train_batches(cfg, ctx, train, train_rows, sampler)
        epochs = _epochs_this_run(cfg, run.start_epoch, max_epochs_this_run, finalize_now)
        _train_epochs(run, cfg, ctx, loader, val, holdout, epochs, callback)
        ctx.barrier()
    finally:
        ctx.close()
    if not ctx.is_main:
        return TrainResult(rank=ctx.rank, epochs_done=len(run.history))
    if len(run.history) < cfg.epochs and not finalize_now:
        return TrainResult(checkpoint=str(checkpoint_path), finished=False, epochs_done=len(run.history))
    return _finalize(cfg, run, ctx.device, val, holdout, summaries, shifted_inputs, callback)


def _finalize(
    cfg: TrainConfig,
    run: _Run,
    device: torch.device,
    val: FaceArrays,
    holdout: FaceArrays,
    summaries: tuple[DataSummary, DataSummary],
    shifted_inputs: Callable[[FaceArrays], torch.Tensor] | None,
    callback: EventCallback | None,
) -> TrainResult:
    """The best epoch, calibrated and written as the run's bundle and reports."""
    return finalize_run(
        cfg=cfg,
        model=run.model,
        best=run.best,
        history=run.history,
        val=val,
        summaries=summaries,
        wall_seconds=run.wall_before,
        device=device,
        callback=callback,
        holdout=holdout,
        loss_weights=run.criterion.applied_weights(),
        shifted_inputs=shifted_inputs,
    )


def _batch_sampler(cfg: TrainConfig, ctx: DistContext, train_labels: torch.Tensor) -> DistributedBatchSampler:
    """This rank's share of each epoch's batches, drawn by ``cfg.sampler`` from the training labels."""
    return DistributedBatchSampler(
        cfg.sampler,
        train_labels,
        batch_size=cfg.batch_size,
        epochs=cfg.epochs,
        seed=cfg.seed,
        rank=ctx.rank,
        world_size=ctx.world_size,
    )


def _started_event(
    cfg: TrainConfig, run: _Run, steps_per_epoch: int, train_images: int, val_images: int
) -> StartedEvent:
    return StartedEvent(
        run=cfg.name,
        epochs=cfg.epochs,
        start_epoch=run.start_epoch,
        steps_per_epoch=steps_per_epoch,
        train_images=train_images,
        val_images=val_images,
    )


def _epochs_this_run(cfg: TrainConfig, start_epoch: int, max_epochs_this_run: int | None, finalize_now: bool) -> range:
    """The epochs this call trains: all that are left, at most ``max_epochs_this_run``, none when finalizing now."""
    if finalize_now:
        return range(start_epoch, start_epoch)
    last = cfg.epochs if max_epochs_this_run is None else min(cfg.epochs, start_epoch + max_epochs_this_run)
    return range(start_epoch, last)


def _run_faces(
    cfg: TrainConfig, ctx: DistContext, faces: tuple[FaceArrays, FaceArrays] | None
) -> tuple[FaceArrays, FaceArrays, tuple[DataSummary, DataSummary], np.ndarray, np.ndarray]:
    """(train, val, data summaries, rows of train the weights learn from, rows of the held-back calibration slice)."""
    if faces is not None:
        (train, val), summaries = faces, (DataSummary(()), DataSummary(()))
    else:
        train, val, summaries = _load_faces(cfg, ctx)
    if len(train) == 0:
        raise RuntimeError(f"no training faces found under {', '.join(cfg.data)}")
    identities = read_identities(cfg.data[0]) if faces is None else {}
    train_rows, held_rows = calibration_rows(train, cfg, identities)
    return train, val, summaries, train_rows, held_rows


def _resume(run: _Run, ckpt: dict[str, Any], checkpoint_path: Path, epochs: int) -> None:
    run.restore(ckpt)
    if run.start_epoch < epochs:
        log.info("resumed %s at epoch %d/%d", checkpoint_path, run.start_epoch + 1, epochs)
    else:  # killed while finishing: every epoch is in the checkpoint, only the bundle and reports are left
        log.info("resumed %s: all epochs (%d/%d) are done; finishing the run", checkpoint_path, epochs, epochs)


def _train_batches(
    cfg: TrainConfig, ctx: DistContext, train: FaceArrays, train_rows: np.ndarray, sampler: DistributedBatchSampler
) -> torch.utils.data.DataLoader:
    """The loader of training batches: cached token grids on a frozen backbone, else augmented crops; with a
    teacher's soft targets blended into the training rows' labels (the sampler has drawn on the labels already)."""
    if cfg.soft_targets:
        targets = load_soft_targets(cfg.soft_targets)
        labels, taught = blend_targets(
            train.labels, train.sources, train.filenames, train_rows, targets, cfg.soft_target_weight
        )
        train = dataclasses.replace(train, labels=labels)
        share = 100 * cfg.soft_target_weight
        log.info(
            "soft targets: %d of %d training faces learn %.0f %% from %s",
            taught,
            len(train_rows),
            share,
            cfg.soft_targets,
        )
    rows = torch.from_numpy(train_rows)
    batches = (
        TokenBatches(train, rows)
        if cfg.freeze
        else TrainBatches(train, cfg.image_height, cfg.image_width, AugmentConfig(**cfg.augment), cfg.seed, rows)
    )
    workers = (
        cfg.loader_workers if cfg.loader_workers is not None else default_loader_workers(ctx.device, ctx.world_size)
    )
    return train_loader(batches, sampler, workers=workers, pin_memory=ctx.device.type == "cuda")


def _train_epochs(
    run: _Run,
    cfg: TrainConfig,
    ctx: DistContext,
    loader: torch.utils.data.DataLoader,
    val: FaceArrays,
    holdout: FaceArrays,
    epochs: range,
    callback: EventCallback | None,
) -> None:
    """Train, evaluate, diagnose and checkpoint each epoch of ``epochs``; ``run.wall_before`` ends as the total."""
    diagnosis = StuckDiagnosis(DiagnosisConfig(fixes=cfg.stuck_fixes))
    diagnosis.history = [h.predicted_positive_rate for h in run.history]
    select, select_name = (holdout, "calibration slice of train") if len(holdout) else (val, "val")
    log.info("checkpoint selection on the %s (%d faces)", select_name, len(select))
    true_rate = select.labels.mean(0).numpy() if len(select) else np.asarray(TRAIN_POSITIVE_RATE)
    amp_dtype = autocast_dtype(cfg.precision, ctx.device)
    started = time.perf_counter()
    for epoch in epochs:
        stats = _train_epoch(run, cfg, ctx, loader, epoch, amp_dtype, callback)
        scores = score_epoch(run.eval_model, stats, select, val, holdout, cfg, ctx)
        flags = diagnosis.update(epoch, scores.predicted_rate, true_rate)
        fixes = apply_emergency_fixes(
            epoch,
            flags,
            run.criterion,
            run.optimizer,
            run.scheduler,
            run.lr_boosts,
            diagnosis.config,
            epochs=cfg.epochs,
        )
        run.lr_boosts += any(f.action is FixAction.RAISE_LR for f in fixes)
        if scores.score > run.best.score:
            state = {k: v.detach().cpu().clone() for k, v in run.eval_model.state_dict().items()}
            run.best = BestRecord(epoch, scores.score, state)
        lr = run.optimizer.param_groups[0]["lr"]
        record = epoch_record(epoch, stats, scores, flags, fixes, lr=lr, loss_components=run.criterion.last_components)
        run.history.append(record)
        wall = run.wall_before + time.perf_counter() - started
        if ctx.is_main:
            run.save(Path(cfg.out) / CHECKPOINT_NAME, cfg, epoch, wall, ctx.world_size)
            _log_epoch(record, cfg)
        if callback:
            report_epoch(callback, record, stats, cfg, run.best.epoch, [*flags, *fixes])
    run.wall_before += time.perf_counter() - started


def _train_epoch(
    run: _Run,
    cfg: TrainConfig,
    ctx: DistContext,
    loader: torch.utils.data.DataLoader,
    epoch: int,
    amp_dtype: torch.dtype | None,
    callback: EventCallback | None,
) -> EpochStats:
    """One pass over the training batches; ``run.eval_model`` then holds the weights to evaluate (the EMA's)."""
    stats = train_one_epoch(
        run.train_model,
        run.criterion,
        run.optimizer,
        run.scheduler,
        loader,
        epoch=epoch,
        ctx=ctx,
        scaler=run.scaler,
        amp_dtype=amp_dtype,
        grad_clip=cfg.grad_clip,
        callback=callback,
        ema=run.ema,
    )
    if run.ema is not None:
        run.eval_model.load_state_dict(run.ema.state)
    return stats


def _log_epoch(record: EpochRecord, cfg: TrainConfig) -> None:
    log.info(
        "epoch %d/%d loss %.4f %.0f img/s selection %s val@0.5 %s attention cos %.3f",
        record.epoch + 1,
        cfg.epochs,
        record.train_loss,
        record.images_per_s,
        {k: round(v, 4) for k, v in record.selection.items()},
        {k: round(v, 4) for k, v in record.val.items()},
        record.attention.get("map_cosine", float("nan")),
    )


def calibration_rows(train: FaceArrays, cfg: TrainConfig, identities: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of (train, calibration slice) by identity; no slice when it would hold under 50 faces (tiny runs)."""
    mask = (
        calibration_mask(train.filenames, identities, cfg.calibration_fraction)
        if cfg.calibration_fraction > 0
        else None
    )
    if mask is None or mask.sum() < 50:
        return np.arange(len(train)), np.zeros(0, np.int64)
    log.info(
        "held back %d train faces (%d identities) for calibration",
        mask.sum(),
        len({identities.get(f) for f, m in zip(train.filenames, mask) if m}),
    )
    return np.nonzero(~mask)[0], np.nonzero(mask)[0]


def split_calibration(train: FaceArrays, cfg: TrainConfig, identities: dict[str, int]) -> tuple[FaceArrays, FaceArrays]:
    """(train, calibration slice) by identity, as copies; see :func:`calibration_rows`."""
    keep, held = calibration_rows(train, cfg, identities)
    return train.subset(keep), train.subset(held)
