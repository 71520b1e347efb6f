"""DDP on CPU (gloo): a 2-rank run equals a 1-rank run with the same global batch, resumes under any world size.

The 2-rank run is a real ``torchrun`` launch of :mod:`tests.ddp_worker`. Both runs see the same
global batches (:class:`attricam.training.sampling.DistributedBatchSampler`), the same augmentation
(blocks seeded by position, :mod:`attricam.training.loader`) and batch norm over the global batch
(:class:`attricam.training.distributed.AllReduceBatchNorm2d`), so they differ only by float rounding
(convolutions of 8 rather than 16 faces, summation order), which Adam's normalised steps carry
into the weights. Tolerance: selection metrics within 5e-3 absolute, train loss within 1e-3
relative; measured on this tiny model: mean AUC 2.3e-3 / 6.3e-4 (epochs 1 / 2), loss 8.4e-5 / 2.6e-4.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from attricam.training.augment import AugmentConfig
from attricam.training.config import TrainConfig
from attricam.training.data import FaceArrays
from attricam.training.loader import TrainBatches
from attricam.training.sampling import DistributedBatchSampler
from attricam.training.trainer import CHECKPOINT_NAME, load_checkpoint, main

from .test_training_trainer import _config

REPO = Path(__file__).resolve().parent.parent


def tiny_faces() -> tuple[FaceArrays, FaceArrays]:
    def faces(n: int, seed: int) -> FaceArrays:
        g = torch.Generator().manual_seed(seed)
        images = torch.randint(0, 256, (n, 40, 32, 3), dtype=torch.uint8, generator=g)
        labels = (torch.rand(n, 40, generator=g) < 0.3).float()
        return FaceArrays(images, labels, tuple(f"{seed}-{i:06d}.jpg" for i in range(n)), ("synthetic",) * n)

    return faces(48, 0), faces(32, 1)


def tiny_config(out: str | Path, **kw) -> TrainConfig:
    """The trainer tests' tiny run, on the CPU and without a calibration slice (ranks must see the same rows)."""
    return _config(out, **{"device": "cpu", "calibration_fraction": 0.0, **kw})


@pytest.mark.parametrize("sampler", ["random", "balanced", "curriculum"])
def test_ranks_share_each_global_batch_exactly(sampler):
    labels = (torch.rand(100, 40, generator=torch.Generator().manual_seed(0)) < 0.1).float()
    kw = {"batch_size": 24, "epochs": 4, "seed": 3}
    whole = DistributedBatchSampler(sampler, labels, **kw)
    ranks = [DistributedBatchSampler(sampler, labels, rank=r, world_size=3, **kw) for r in range(3)]
    for s in (whole, *ranks):
        s.set_epoch(2)
    for plans in zip(whole, *ranks, strict=True):
        assert torch.equal(plans[0].rows, torch.cat([p.rows for p in plans[1:]]))
    with pytest.raises(ValueError, match="multiple of 5"):
        DistributedBatchSampler(sampler, labels, rank=0, world_size=5, **kw)


def test_a_face_gets_the_same_augmentation_on_any_rank():
    train, _ = tiny_faces()
    batches = TrainBatches(train, 32, 24, AugmentConfig(), seed=0)
    whole = next(iter(DistributedBatchSampler("random", train.labels, batch_size=24, epochs=1, seed=0)))
    halves = [
        next(
            iter(DistributedBatchSampler("random", train.labels, batch_size=24, epochs=1, seed=0, rank=r, world_size=2))
        )
        for r in range(2)
    ]
    images, labels = batches[whole]
    parts = [batches[p] for p in halves]  # rank slices of 12: the second straddles a 16-face block
    assert torch.equal(images, torch.cat([p[0] for p in parts]))
    assert torch.equal(labels, torch.cat([p[1] for p in parts]))


@pytest.mark.slow
@pytest.mark.timeout(1800)  # ~1 min on 2 idle cores; much longer on a loaded machine
def test_two_gloo_ranks_match_one_process_and_resume_across_world_sizes(tmp_path):
    one = main(tiny_config(tmp_path / "one"), faces=tiny_faces())
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    launch = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "tests.ddp_worker",
    ]
    done = subprocess.run(
        [*launch, str(tmp_path / "two"), "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / "two" / f"rank-{rank}.json").read_text()) for rank in (0, 1)]
    assert sorted(r.get("rank", 0) for r in ranks) == [0, 1]
    checkpoint = load_checkpoint(tmp_path / "two" / CHECKPOINT_NAME)
    assert checkpoint["world_size"] == 2 and checkpoint["epoch"] == 0
    assert not any(k.startswith("module.") for k in checkpoint["model"])
    # The second epoch in one process, from the 2-rank checkpoint.
    resumed = main(tiny_config(tmp_path / "two"), faces=tiny_faces(), resume=True)
    assert len(resumed["history"]) == len(one["history"]) == 2
    for a, b in zip(one["history"], resumed["history"], strict=True):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-3)
        assert b["selection"].keys() == a["selection"].keys()
        for key, value in a["selection"].items():
            # Threshold-free figures agree to 5e-3. A decision on 32 faces flips when a reduction order
            # moves its logit across 0; each flip moves a 14-attribute mean F1 by up to ~0.004, so the
            # decision figures may differ by a few flips (0.02).
            tolerance = 5e-3 if key in ("count", "mean_auc") else 0.02
            assert b["selection"][key] == pytest.approx(value, abs=tolerance), key


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA path: no GPU visible to PyTorch on this machine")
def test_cuda_fp16_run_checkpoints_its_grad_scaler(tmp_path):
    cfg = tiny_config(tmp_path, device="cuda", precision="fp16", epochs=1)
    main(cfg, faces=tiny_faces(), max_epochs_this_run=1)
    checkpoint = load_checkpoint(tmp_path / CHECKPOINT_NAME)
    assert checkpoint["scaler"]["scale"] > 0 and "cuda" in checkpoint["rng"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA path: no GPU visible to PyTorch on this machine")
def test_cuda_bf16_autocast_and_pinned_loader_train(tmp_path):
    cfg = tiny_config(tmp_path, device="cuda", precision="bf16", epochs=1, loader_workers=2)
    result = main(cfg, faces=tiny_faces())
    assert result["history"][0]["train_loss"] > 0


def test_resume_under_an_incompatible_config_is_refused_in_one_line(tmp_path):
    from attricam.training.checkpoint import IncompatibleCheckpoint, check_resumable, save_checkpoint

    saved = tiny_config(tmp_path)
    save_checkpoint(tmp_path / CHECKPOINT_NAME, config=saved.to_dict())
    with pytest.raises(IncompatibleCheckpoint) as refused:
        main(tiny_config(tmp_path, loss="focal", lr=2e-3), faces=tiny_faces(), resume=True)
    message = str(refused.value)
    assert "\n" not in message and "loss 'weighted' -> 'focal'" in message and "lr 0.001 -> 0.002" in message
    check_resumable(saved, tiny_config(tmp_path, epochs=5, device="auto", loader_workers=2), tmp_path)  # allowed
