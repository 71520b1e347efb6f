"""Blurry is never trained as "sharp" on a face the pipeline itself made soft (``--blurry-unknown-when-softened``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from attricam.engine.attributes import ATTRIBUTE_NAMES
from attricam.training.augment import AugmentConfig, augment_batch, augment_batch_tracked
from attricam.training.data import FaceArrays, softer_than_labelled
from attricam.training.loader import UNKNOWN, TrainBatches
from attricam.training.losses import build_loss
from attricam.training.sampling import DistributedBatchSampler

BLURRY = ATTRIBUTE_NAMES.index("Blurry")
STILL = {"flip": 0.0, "max_shift": 0.0, "scale": (1.0, 1.0), "rotation_deg": 0.0, "brightness": 0.0, "contrast": 0.0}


def _crops(n: int = 32) -> torch.Tensor:
    return torch.randint(0, 256, (n, 40, 32, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def test_tracking_changes_no_image_and_marks_exactly_the_softened_ones():
    crops = _crops()
    config = AugmentConfig()
    tracked = augment_batch_tracked(crops, 32, 24, config, torch.Generator().manual_seed(5))
    assert torch.equal(tracked.images, augment_batch(crops, 32, 24, config, torch.Generator().manual_seed(5)))
    assert 0 < int(tracked.softened.sum()) < len(crops)  # camera shift blurs or down-samples some, not all

    sharp = AugmentConfig(**STILL, lowres=0.0, camera_shift=False)
    assert not augment_batch_tracked(crops, 32, 24, sharp).softened.any()
    halved = AugmentConfig(**STILL, lowres=1.0, camera_shift=False)
    assert augment_batch_tracked(crops, 32, 24, halved).softened.all()


def test_unknown_targets_add_no_loss_and_no_gradient():
    criterion = build_loss("weighted", weight_cap=10)
    targets = (torch.rand(8, 40, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    logits = torch.randn(8, 40, generator=torch.Generator().manual_seed(2), requires_grad=True)
    masked = targets.clone()
    masked[:4, BLURRY] = UNKNOWN
    loss = criterion(logits, masked)
    loss.backward()
    assert torch.all(logits.grad[:4, BLURRY] == 0)
    assert torch.all(logits.grad[4:, BLURRY] != 0)
    # The other terms weigh exactly as before: the full loss is the masked one plus the skipped terms alone.
    only_skipped = torch.full_like(targets, UNKNOWN)
    only_skipped[:4, BLURRY] = targets[:4, BLURRY]
    with torch.no_grad():
        full, rest = criterion(logits, targets), criterion(logits, only_skipped)
    assert torch.isclose(full, loss.detach() + rest, rtol=1e-6)
    assert rest > 0


def test_batches_mark_blurry_unknown_on_soft_sources_and_softened_faces():
    n = 48
    labels = torch.zeros(n, 40)
    labels[:, BLURRY] = 1.0
    faces = FaceArrays(_crops(n), labels, tuple(f"{i:06d}.jpg" for i in range(n)), ("full",) * 24 + ("half",) * 24)
    soft_rows = torch.tensor([s == "half" for s in faces.sources])
    plan = next(iter(DistributedBatchSampler("random", labels, batch_size=48, epochs=1, seed=0)))
    sharp = AugmentConfig(**STILL, lowres=0.0, camera_shift=False)

    _, plain = TrainBatches(faces, 32, 24, sharp, seed=0)[plan]
    assert torch.all(plain[:, BLURRY] == 1.0)  # off by default: the labels pass through untouched

    _, marked = TrainBatches(faces, 32, 24, sharp, seed=0, soft_rows=soft_rows)[plan]
    assert torch.equal(marked[:, BLURRY] == UNKNOWN, soft_rows[plan.rows])
    assert torch.equal(marked[:, :BLURRY], labels[plan.rows][:, :BLURRY])  # no other attribute is touched
    assert torch.all(labels[:, BLURRY] == 1.0)  # the dataset's own labels are not modified in place

    _, all_soft = TrainBatches(
        faces, 32, 24, AugmentConfig(**STILL, lowres=1.0, camera_shift=False), 0, None, soft_rows
    )[plan]
    assert torch.all(all_soft[:, BLURRY] == UNKNOWN)


def test_only_the_half_resolution_root_counts_as_soft(celeba_root: Path):
    lowres = celeba_root.parent / "celeba-lowres"
    if not (lowres / "img_align_celeba").is_dir():
        pytest.skip(f"{lowres}: no half-resolution CelebA root beside {celeba_root}")
    picks = [
        (root, sorted(p.name for p in (root / "img_align_celeba").glob("*.jpg"))[:3]) for root in (celeba_root, lowres)
    ]
    sources = tuple(str(root) for root, names in picks for _ in names)
    filenames = tuple(name for _, names in picks for name in names)
    faces = FaceArrays(
        torch.zeros(len(filenames), 1, 1, 3, dtype=torch.uint8), torch.zeros(len(filenames), 40), filenames, sources
    )
    assert softer_than_labelled(faces).tolist() == [False] * 3 + [True] * 3
