"""Batch order: the balanced sampler favours rare positives, the curriculum admits them gradually; deterministic."""

from __future__ import annotations

import itertools

import pytest
import torch

from attricam.training.config import TrainConfig
from attricam.training.sampling import SAMPLERS, SamplerConfig, curriculum_cutoff, epoch_order, image_weights


def _labels(n: int = 2000, seed: int = 0) -> torch.Tensor:
    """Attribute 0 at ~2 % (Bald-like), 1 at ~8 %, 2 at ~30 %, 3 at ~70 %."""
    g = torch.Generator().manual_seed(seed)
    rates = torch.tensor([0.02, 0.08, 0.30, 0.70])
    return (torch.rand(n, 4, generator=g) < rates).float()


def _order(sampler: str, labels: torch.Tensor, epoch: int, epochs: int = 8, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)  # what train_one_epoch does
    return epoch_order(sampler, labels, epoch, epochs, generator)


def test_balanced_sampler_draws_rare_positives_more_often_than_random():
    labels = _labels()
    random_share = labels[_order("random", labels, 0)].mean(0)
    balanced_share = labels[_order("balanced", labels, 0)].mean(0)
    assert balanced_share[0] > 5 * random_share[0]  # the 2 % attribute
    assert balanced_share[1] > 2 * random_share[1]
    assert balanced_share[3] < random_share[3]  # the common one gives way
    assert len(_order("balanced", labels, 0)) == len(labels)  # same epoch length as random


def test_sampler_is_deterministic_per_seed_and_epoch():
    labels = _labels()
    for sampler in SAMPLERS:
        assert torch.equal(_order(sampler, labels, 3), _order(sampler, labels, 3))
        assert not torch.equal(_order(sampler, labels, 3), _order(sampler, labels, 4))
        assert not torch.equal(_order(sampler, labels, 3, seed=0), _order(sampler, labels, 3, seed=1))
    # random keeps the trainer's original order exactly
    g = torch.Generator().manual_seed(5)
    assert torch.equal(_order("random", labels, 5), torch.randperm(len(labels), generator=g))


def test_image_weights_follow_the_rarest_positive_and_are_capped():
    labels = torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [0.0, 1.0]])  # rates 0.25, 0.75
    weights = image_weights(labels)
    assert weights.tolist() == pytest.approx([4.0, 4 / 3, 1.0, 4 / 3])
    assert image_weights(labels, SamplerConfig(max_weight=2.0)).max() == pytest.approx(2.0)


def test_curriculum_starts_balanced_on_common_faces_and_admits_rare_ones_gradually():
    labels = _labels()
    epochs = 8
    cutoffs = [curriculum_cutoff(e, epochs, 0.02) for e in range(epochs)]
    assert cutoffs[0] == pytest.approx(0.10)
    assert all(a > b for a, b in itertools.pairwise(cutoffs[:5]))  # falls over the first half ...
    assert cutoffs[4:] == [0.02] * 4  # ... then everyone is in
    shares = torch.stack([labels[_order("curriculum", labels, e, epochs)].mean(0) for e in range(epochs)])  # (e, 4)
    entry = [int(torch.nonzero(shares[:, a] > 0)[0]) for a in (0, 1)]
    assert entry[1] < entry[0] <= 4  # the 8 % attribute joins before the 2 % one, both by mid-run
    assert shares[0, 0] == 0.0 and shares[-1, 0] > 5 * labels[:, 0].mean()
    # among the admitted faces the draw is balanced: the 30 % attribute is already over-represented
    assert shares[0, 2] > 1.5 * labels[:, 2].mean()
    # after the ramp the curriculum is the balanced sampler
    assert torch.equal(_order("curriculum", labels, 6, epochs), _order("balanced", labels, 6, epochs))


def test_unknown_sampler_fails_naming_the_valid_ones():
    with pytest.raises(ValueError, match="random, balanced, curriculum"):
        TrainConfig(data=("x",), out="o", sampler="oversample")
    with pytest.raises(ValueError, match="valid"):
        epoch_order("oversample", _labels(10), 0, 1, torch.Generator())
