"""Training throughput: images/s of ``train_one_epoch`` (augmentation, forward, backward, step) at the default size.

    .venv/bin/python -m benchmarks.train_throughput [--device cpu|cuda|auto] [--precision auto|fp32|bf16|fp16]
        [--batch 128] [--steps 20] [--loader-workers N] [--threads 2] [--cache faces-<key>.json] [--json OUT]
    torchrun --nproc-per-node N -m benchmarks.train_throughput --device cuda   # global images/s over N ranks

Uses the default model and loss (``weighted``) at 96x80, on random crops or, with ``--cache``,
on a memory-mapped face cache. The first two steps warm up and are not counted. Target (issue 13):
>= 200 images/s on CPU at the default resolution. ``images_per_s`` is over all timed steps,
``images_per_s_median_step`` from the median step (a short stall elsewhere on the host moves it
less), ``images_per_cpu_s`` per CPU-second of this process; ``load_average_1m`` says how busy the
machine was. On a shared virtual machine runs differ by +-10 %: run it several times.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    import numpy as np
    import torch
    from torch.nn.parallel import DistributedDataParallel

    from attricam.training.augment import AugmentConfig
    from attricam.training.config import DEVICES, PRECISIONS, TrainConfig
    from attricam.training.data import FaceArrays
    from attricam.training.distributed import setup, sync_batchnorm
    from attricam.training.loader import TrainBatches, default_loader_workers, train_loader
    from attricam.training.sampling import DistributedBatchSampler
    from attricam.training.trainer import autocast_dtype, build_training, train_one_epoch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", choices=DEVICES)
    parser.add_argument("--precision", default="auto", choices=PRECISIONS)
    parser.add_argument("--batch", type=int, default=128, help="global batch")
    parser.add_argument("--steps", type=int, default=20, help="timed steps (after 2 warm-up steps)")
    parser.add_argument("--loader-workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", type=Path, help="a face cache index (faces-<key>.json) to read memory-mapped")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    ctx = setup(args.device)
    cfg = TrainConfig(
        data=("synthetic",), out="unused", device=args.device, precision=args.precision, batch_size=args.batch
    )
    crop = (cfg.image_height + 2 * cfg.margin, cfg.image_width + 2 * cfg.margin, 3)
    n = args.batch * (args.steps + 2)
    if args.cache:
        images = torch.from_numpy(np.load(args.cache.with_suffix(".npy"), mmap_mode="c"))
        n = min(n, len(images))
    else:
        images = torch.randint(0, 256, (n, *crop), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    labels = (torch.rand(n, 40, generator=torch.Generator().manual_seed(1)) < 0.2).float()
    faces = FaceArrays(images, labels, tuple(map(str, range(n))), ("bench",) * n)
    sampler = DistributedBatchSampler(
        "random", labels, batch_size=args.batch, epochs=1, seed=0, rank=ctx.rank, world_size=ctx.world_size
    )
    model, criterion, optimizer, scheduler = build_training(cfg, len(sampler), n, ctx.device)
    model = sync_batchnorm(model, ctx)
    train_model = (
        DistributedDataParallel(model, device_ids=[ctx.device] if ctx.device.type == "cuda" else None)
        if ctx.distributed
        else model
    )
    workers = (
        args.loader_workers if args.loader_workers is not None else default_loader_workers(ctx.device, ctx.world_size)
    )
    batches = TrainBatches(faces, cfg.image_height, cfg.image_width, AugmentConfig(), seed=0, rows=torch.arange(n))
    loader = train_loader(batches, sampler, workers=workers, pin_memory=ctx.device.type == "cuda")
    dtype = autocast_dtype(args.precision, ctx.device)
    scaler = torch.amp.GradScaler(ctx.device.type, enabled=dtype == torch.float16)
    stamps: list[float] = []
    cpu: list[float] = []

    def on_step(event) -> None:
        if ctx.device.type == "cuda":
            torch.cuda.synchronize()
        stamps.append(time.perf_counter())
        cpu.append(time.process_time())  # this process's CPU seconds, all threads

    train_one_epoch(
        train_model,
        criterion,
        optimizer,
        scheduler,
        loader,
        epoch=0,
        ctx=ctx,
        scaler=scaler,
        amp_dtype=dtype,
        grad_clip=cfg.grad_clip,
        callback=on_step,
    )
    ctx.close()
    if not ctx.is_main:
        return 0
    timed = len(stamps) - 2
    rate = timed * args.batch / (stamps[-1] - stamps[1])
    # The median step says what the code does; the mean also carries whatever else shared the host.
    median_step = float(np.median(np.diff(stamps[1:])))
    load = os.getloadavg()
    result = {
        "images_per_s": round(rate, 1),
        "images_per_s_median_step": round(args.batch / median_step, 1),
        "images_per_cpu_s": round(timed * args.batch / max(cpu[-1] - cpu[1], 1e-9), 1),
        "device": str(ctx.device),
        "precision": str(dtype or "fp32"),
        "world_size": ctx.world_size,
        "batch": args.batch,
        "timed_steps": timed,
        "loader_workers": workers,
        "threads": args.threads,
        "input": f"{cfg.image_height}x{cfg.image_width}",
        "data": str(args.cache) if args.cache else "random crops",
        "load_average_1m": round(load[0], 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
