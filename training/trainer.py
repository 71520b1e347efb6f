"""The training loop, torchvision-reference style: ``main(cfg)`` -> ``train_one_epoch`` / ``evaluate``.

Determinism and resumption: batch order and augmentation draw from a generator
seeded by (seed, epoch), and a checkpoint is written atomically after every
epoch with model, optimizer, scheduler, loss state, RNG state, history and the
config (plain dicts and tensors: ``torch.load(weights_only=True)``). A resumed
run restarts at the next epoch and takes exactly the steps the uninterrupted
run would have taken. At the end the best epoch (by val mean ROC-AUC, which
does not depend on thresholds) is calibrated on val and written as a
:class:`engine.bundle.ModelBundle`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from engine.attributes import TRAIN_POSITIVE_RATE
from engine.model import AttributeModelConfig, CrossAttentionAttributeModel, build_model

from .augment import AugmentConfig, augment_batch
from .cache import CropSpec
from .celeba import read_identities
from .config import CHECKPOINT_NAME, TrainConfig
from .data import DataSummary, FaceArrays, load_face_arrays
from .diagnosis import DiagnosisConfig, StuckDiagnosis, apply_emergency_fixes
from .ema import ModelEma
from .evaluation import attention_summary, predict_detailed
from .events import EpochEvent, EventCallback, StartedEvent, StepEvent
from .finalize import finalize_run
from .losses import AttributeLoss, build_loss
from .metrics import evaluate_predictions
from .sampling import epoch_order
from .splits import calibration_mask

__all__ = ["TrainResult", "build_training", "load_checkpoint", "main", "train_one_epoch"]

log = logging.getLogger(__name__)


class TrainResult(dict):
    """Paths and numbers of a finished run (a dict, so it is JSON-able as is)."""


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_config_for(cfg: TrainConfig) -> AttributeModelConfig:
    return replace(
        AttributeModelConfig(),
        image_height=cfg.image_height,
        image_width=cfg.image_width,
        **{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.model.items()},
    )


def build_training(cfg: TrainConfig, steps_per_epoch: int, num_train: int, device: torch.device):
    """Model, loss, optimizer and warmup-cosine scheduler, freshly initialised from ``cfg.seed``."""
    torch.manual_seed(cfg.seed)
    model = build_model(model_config_for(cfg)).to(device)
    if device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)  # ~15 % faster convolutions on CPU; same state dict
    criterion = build_loss(cfg.loss, num_samples=max(num_train, 1), **cfg.loss_options).to(device)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
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


def train_one_epoch(
    model: CrossAttentionAttributeModel,
    criterion: AttributeLoss,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    data: FaceArrays,
    cfg: TrainConfig,
    epoch: int,
    device: torch.device,
    callback: EventCallback | None = None,
    max_steps: int | None = None,
    ema: ModelEma | None = None,
) -> dict[str, float | list[float]]:
    """One pass over ``data`` in the (seed, epoch) order -> mean loss, images/s, train predicted-positive rate."""
    model.train()
    criterion.set_epoch(epoch)
    generator = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
    order = epoch_order(cfg.sampler, data.labels, epoch, cfg.epochs, generator)
    b = min(cfg.batch_size, len(data))
    steps = len(data) // b
    if max_steps is not None:
        steps = min(steps, max_steps)
    augment = AugmentConfig(**cfg.augment)
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    needs_attention = criterion.config.needs_attention
    total_loss, positives, seen = 0.0, torch.zeros(data.labels.shape[1]), 0
    started = time.perf_counter()
    for step in range(steps):
        index = order[step * b : (step + 1) * b]
        images = augment_batch(data.images[index], cfg.image_height, cfg.image_width, augment, generator)
        images = images.to(device).contiguous(memory_format=torch.channels_last)
        targets = data.labels[index].to(device)
        with torch.autocast(device.type, enabled=amp):
            logits, attention = model(images)
        loss = criterion(logits, targets, attention if needs_attention else None)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if cfg.grad_clip:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        if ema is not None:
            ema.update(model)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(f"epoch {epoch + 1} step {step + 1}: loss is {value}")
        total_loss += value * len(index)
        positives += (logits.detach().float() >= 0).sum(0).cpu()
        seen += len(index)
        if callback:
            rate = seen / (time.perf_counter() - started)
            callback(StepEvent(epoch, step + 1, steps, value, optimizer.param_groups[0]["lr"], rate))
    elapsed = time.perf_counter() - started
    return {
        "loss": total_loss / max(seen, 1),
        "images_per_s": seen / max(elapsed, 1e-9),
        "seconds": elapsed,
        "train_predicted_positive_rate": (positives / max(seen, 1)).tolist(),
    }


def _rng_state() -> dict[str, torch.Tensor]:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def save_checkpoint(path: Path, **payload) -> None:
    from engine.atomic import atomic_path

    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


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
    ``faces`` = (train, val) skips reading ``cfg.data`` (tests, notebooks).
    """
    torch.set_num_threads(cfg.num_threads)
    device = _device()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out / CHECKPOINT_NAME
    if checkpoint_path.exists() and not resume:
        raise FileExistsError(f"{checkpoint_path} exists; pass --resume to continue it or choose another --out")
    if resume and not checkpoint_path.exists():
        log.warning("--resume: no checkpoint at %s, so this starts a new run from epoch 1", checkpoint_path)

    spec = CropSpec(width=cfg.image_width, height=cfg.image_height, margin=cfg.margin)
    if faces is not None:
        (train, val), train_summary, val_summary = faces, DataSummary(()), DataSummary(())
    else:
        train, train_summary = load_face_arrays(
            cfg.data, "train", cache_dir=cfg.cache_dir, spec=spec, workers=cfg.workers, limit=cfg.train_limit
        )
        val, val_summary = load_face_arrays(
            cfg.data, "val", cache_dir=cfg.cache_dir, spec=spec, workers=cfg.workers, limit=cfg.val_limit
        )
    if len(train) == 0:
        raise RuntimeError(f"no training faces found under {', '.join(cfg.data)}")
    train, holdout = split_calibration(train, cfg, identities=read_identities(cfg.data[0]) if faces is None else {})
    steps_per_epoch = len(train) // min(cfg.batch_size, len(train))
    model, criterion, optimizer, scheduler = build_training(cfg, steps_per_epoch, len(train), device)
    ema = ModelEma(model, cfg.ema_decay) if cfg.ema_decay > 0 else None
    eval_model = build_model(model.config).to(device) if ema is not None else model

    start_epoch, history, best = 0, [], {"epoch": -1, "score": -math.inf, "state": None}
    lr_boosts, wall_before = 0, 0.0
    if checkpoint_path.exists():
        ckpt = load_checkpoint(checkpoint_path)
        saved = TrainConfig.from_dict(ckpt["config"])
        if replace(saved, epochs=cfg.epochs) != replace(cfg, epochs=cfg.epochs):
            log.warning("resuming with a different configuration than the checkpoint's; using the new one")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        criterion.load_loss_state(ckpt["loss_state"])
        if ema is not None and ckpt.get("ema"):
            ema.load_state_dict(ckpt["ema"])
        torch.set_rng_state(ckpt["rng"]["torch"])
        start_epoch, history = int(ckpt["epoch"]) + 1, list(ckpt["history"])
        best = {"epoch": int(ckpt["best_epoch"]), "score": float(ckpt["best_score"]), "state": ckpt["best_model"]}
        lr_boosts, wall_before = int(ckpt["lr_boosts"]), float(ckpt["wall_seconds"])
        log.info("resumed %s at epoch %d/%d", checkpoint_path, start_epoch + 1, cfg.epochs)

    if callback:
        callback(StartedEvent(cfg.name, cfg.epochs, start_epoch, steps_per_epoch, len(train), len(val)))
    diagnosis = StuckDiagnosis(DiagnosisConfig(fixes=cfg.stuck_fixes))
    diagnosis.history = [h["predicted_positive_rate"] for h in history]
    select = holdout if len(holdout) else val
    select_name = "calibration slice of train" if len(holdout) else "val"
    log.info("checkpoint selection on the %s (%d faces)", select_name, len(select))
    true_rate = select.labels.mean(0).numpy() if len(select) else np.asarray(TRAIN_POSITIVE_RATE)
    run_started = time.perf_counter()
    last_epoch = cfg.epochs if max_epochs_this_run is None else min(cfg.epochs, start_epoch + max_epochs_this_run)
    if finalize_now:
        if not history:
            raise RuntimeError(f"nothing to finalize: {checkpoint_path} holds no finished epoch")
        last_epoch = start_epoch
    for epoch in range(start_epoch, last_epoch):
        stats = train_one_epoch(model, criterion, optimizer, scheduler, train, cfg, epoch, device, callback, ema=ema)
        if ema is not None:
            eval_model.load_state_dict(ema.state)
        summary: dict[str, float] = {}
        selection: dict[str, float] = {}
        attention: dict = {}
        predicted_rate = np.asarray(stats["train_predicted_positive_rate"])
        score = -stats["loss"]
        if len(select):
            chosen = predict_detailed(eval_model, select.images, cfg.image_height, cfg.image_width, device=device)
            result = evaluate_predictions(chosen.probabilities, select.labels.numpy(), 0.5)
            selection = result.summary()
            predicted_rate = np.array([a.predicted_positive_rate for a in result.attributes])
            score = result.mean_auc
            attention = attention_summary(chosen, cfg.image_width, cfg.image_height)
        if len(val) and len(holdout):  # val at 0.5, for the plots only: never used to select
            summary = evaluate_predictions(
                predict_detailed(eval_model, val.images, cfg.image_height, cfg.image_width, device=device).probabilities,
                val.labels.numpy(),
                0.5,
            ).summary()
        else:
            summary = selection
        flags = diagnosis.update(epoch, predicted_rate, true_rate)
        fixes = apply_emergency_fixes(
            epoch, flags, criterion, optimizer, scheduler, lr_boosts, diagnosis.config, epochs=cfg.epochs
        )
        lr_boosts += any(f.action == "raise_lr" for f in fixes)
        if score > best["score"]:
            best = {
                "epoch": epoch,
                "score": score,
                "state": {k: v.detach().cpu().clone() for k, v in eval_model.state_dict().items()},
            }
        record = {
            "epoch": epoch,
            "train_loss": stats["loss"],
            "images_per_s": stats["images_per_s"],
            "seconds": stats["seconds"],
            "lr": optimizer.param_groups[0]["lr"],
            "val": summary,
            "selection": selection,
            "attention": attention,
            "predicted_positive_rate": predicted_rate.tolist(),
            "stuck": [f.attribute for f in flags],
            "fixes": [f"{f.action}: {f.detail}" for f in fixes],
            "loss_components": criterion.last_components,
        }
        history.append(record)
        wall = wall_before + time.perf_counter() - run_started
        save_checkpoint(
            checkpoint_path,
            model=model.state_dict(),
            optimizer=optimizer.state_dict(),
            scheduler=scheduler.state_dict(),
            epoch=epoch,
            rng=_rng_state(),
            config=cfg.to_dict(),
            loss_state=criterion.loss_state(),
            ema=ema.state_dict() if ema is not None else {},
            history=history,
            best_epoch=best["epoch"],
            best_score=float(best["score"]),
            best_model=best["state"],
            lr_boosts=lr_boosts,
            wall_seconds=wall,
        )
        log.info(
            "epoch %d/%d loss %.4f %.0f img/s selection %s val@0.5 %s attention cos %.3f",
            epoch + 1,
            cfg.epochs,
            stats["loss"],
            stats["images_per_s"],
            {k: round(v, 4) for k, v in selection.items()},
            {k: round(v, 4) for k, v in summary.items()},
            attention.get("map_cosine", float("nan")),
        )
        if callback:
            for event in (*flags, *fixes):
                callback(event)
            callback(
                EpochEvent(
                    epoch,
                    cfg.epochs,
                    stats["loss"],
                    record["lr"],
                    stats["seconds"],
                    stats["images_per_s"],
                    predicted_rate.tolist(),
                    summary,
                    record["stuck"],
                    record["fixes"],
                    best["epoch"],
                )
            )
    if len(history) < cfg.epochs and not finalize_now:
        return TrainResult(checkpoint=str(checkpoint_path), finished=False, epochs_done=len(history))
    wall = wall_before + time.perf_counter() - run_started
    return finalize_run(
        cfg, model, best, history, val, (train_summary, val_summary), wall, device, callback, holdout=holdout,
        loss_weights=criterion.applied_weights(),
    )


def split_calibration(train: FaceArrays, cfg: TrainConfig, identities: dict[str, int]) -> tuple[FaceArrays, FaceArrays]:
    """(train, calibration slice) by identity; no slice when it would hold under 50 faces (tiny runs)."""
    mask = calibration_mask(train.filenames, identities, cfg.calibration_fraction) if cfg.calibration_fraction > 0 else None
    if mask is None or mask.sum() < 50:
        return train, train.subset(np.zeros(0, np.int64))
    log.info("held back %d train faces (%d identities) for calibration", mask.sum(), len({identities.get(f) for f, m in zip(train.filenames, mask) if m}))
    return train.subset(np.nonzero(~mask)[0]), train.subset(np.nonzero(mask)[0])
