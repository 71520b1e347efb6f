"""Every loss on hand-made logits: known values, finite gradients, weighting as specified."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attricam.engine.attributes import TRAIN_POSITIVE_RATE, attribute_index
from attricam.training.losses import LOSS_NAMES, build_loss, capped_pos_weights, head_similarity

FREQ = np.asarray(TRAIN_POSITIVE_RATE)


def _zeros(b: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.zeros(b, 40), torch.ones(b, 40)


def test_unknown_loss_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid: bce, weighted, focal"):
        build_loss("hinge")
    with pytest.raises(ValueError, match="unknown loss options"):
        build_loss("focal", gama=2)


def test_bce_matches_torch():
    logits = torch.tensor([[2.0, -1.0, 0.5] + [0.0] * 37, [-3.0, 0.2, 4.0] + [1.0] * 37])
    targets = torch.tensor([[1.0, 0.0, 0.0] + [1.0] * 37, [0.0, 1.0, 1.0] + [0.0] * 37])
    expected = F.binary_cross_entropy_with_logits(logits, targets)
    assert torch.allclose(build_loss("bce")(logits, targets), expected, atol=1e-6)


def test_weighted_uses_capped_inverse_frequency():
    weights = capped_pos_weights(FREQ, 50.0)
    assert weights[attribute_index("Bald")] == pytest.approx(1 / (FREQ[attribute_index("Bald")] + 0.001))
    assert weights[attribute_index("Young")] == pytest.approx(1 / (FREQ[attribute_index("Young")] + 0.001))
    assert weights.min() >= 1.0 and weights.max() <= 50.0
    assert capped_pos_weights(np.array([0.0001]), 50.0)[0] == 50.0  # capped
    logits, targets = _zeros()
    # logit 0 -> every positive costs log 2 times its weight.
    assert build_loss("weighted")(logits, targets).item() == pytest.approx(math.log(2) * weights.mean(), rel=1e-5)
    # Negatives are not re-weighted.
    assert build_loss("weighted")(logits, 1 - targets).item() == pytest.approx(math.log(2), rel=1e-5)
    loss10 = build_loss("weighted", weight_cap=10.0)
    assert loss10.pos_weight.max().item() == pytest.approx(10.0)


def test_focal_downweights_easy_examples():
    logits, targets = _zeros()
    focal = build_loss("focal", gamma=2.0, focal_pos_weights=False)
    assert focal(logits, targets).item() == pytest.approx(0.25 * math.log(2), rel=1e-5)  # (1 - 0.5)^2 = 0.25
    easy, hard = torch.full((1, 40), 3.0), torch.full((1, 40), -3.0)
    one = torch.ones(1, 40)
    bce = build_loss("bce")
    ratio_easy = focal(easy, one) / bce(easy, one)
    ratio_hard = focal(hard, one) / bce(hard, one)
    assert ratio_easy < 0.01
    assert ratio_hard > 0.9
    alpha = build_loss("focal", gamma=0.0, alpha=0.25, focal_pos_weights=False)
    assert alpha(logits, targets).item() == pytest.approx(0.25 * math.log(2), rel=1e-5)
    assert alpha(logits, 1 - targets).item() == pytest.approx(0.75 * math.log(2), rel=1e-5)


def test_aggressive_focal_adds_diversity_penalty_only_when_collapsed():
    loss = build_loss("aggressive-focal")
    targets = torch.zeros(8, 40)
    collapsed = torch.full((8, 40), -12.0)
    loss(collapsed, targets)
    assert loss.last_components["diversity"] > 5.0  # -log(sigmoid(-12)) ~ 12 on every attribute
    healthy = torch.full((8, 40), 1.0)
    loss(healthy, targets)
    assert loss.last_components["diversity"] == 0.0


def test_class_balanced_weights_favour_rare_positives():
    loss = build_loss("class-balanced", beta=0.999, num_samples=10_000)
    total = loss.pos_weight + loss.neg_weight
    assert torch.allclose(total, torch.full((40,), 2.0), atol=1e-5)
    bald, young = attribute_index("Bald"), attribute_index("Young")
    assert loss.pos_weight[bald] > loss.neg_weight[bald]
    assert loss.pos_weight[young] < loss.neg_weight[young]


def test_ldam_margins_and_deferred_reweighting():
    loss = build_loss("ldam", drw_epoch=2, num_samples=10_000)
    bald, young = attribute_index("Bald"), attribute_index("Young")
    assert loss.margins[0, bald] > loss.margins[0, young]  # rarer positives get bigger margins
    assert loss.margins.max().item() == pytest.approx(1.0)
    logits, targets = _zeros()
    assert loss(logits, targets) > build_loss("bce")(logits, targets)  # margin makes positives harder
    before = loss(logits, targets).item()
    loss.set_epoch(2)
    after = loss(logits, targets).item()
    assert after != pytest.approx(before)


def test_asl_ignores_easy_negatives_and_matches_bce_on_positives():
    loss = build_loss("asl")
    very_negative = torch.full((2, 40), -6.0)  # p = 0.0025 < clip 0.05 -> shifted p is 0
    assert loss(very_negative, torch.zeros(2, 40)).item() == 0.0
    logits = torch.full((2, 40), 0.3)
    expected = F.binary_cross_entropy_with_logits(logits, torch.ones(2, 40))  # gamma_pos = 0
    assert loss(logits, torch.ones(2, 40)).item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_every_loss_has_finite_gradients_at_extreme_logits(name):
    torch.manual_seed(0)
    logits = (torch.randn(16, 40) * 40).requires_grad_()
    targets = (torch.rand(16, 40) < 0.2).float()
    attention = torch.rand(16, 2, 4, 40, 12, 10).softmax(-1)
    loss = build_loss(name, head_similarity_weight=0.1)
    value = loss(logits, targets, attention)
    value.backward()
    assert torch.isfinite(value)
    assert torch.isfinite(logits.grad).all()


def test_emergency_boost_is_capped_and_state_round_trips():
    loss = build_loss("weighted")
    mask = torch.zeros(40, dtype=torch.bool)
    bald = attribute_index("Bald")
    mask[bald] = True
    before = loss.pos_weight.clone()
    loss.boost_positives(mask, 2.0, cap=100.0)
    assert loss.pos_weight[bald] == pytest.approx(min(2 * before[bald].item(), 100.0))
    loss.boost_positives(mask, 2.0, cap=100.0)
    assert loss.pos_weight[bald] == pytest.approx(100.0)
    assert torch.equal(loss.pos_weight[~mask], before[~mask])
    loss.raise_gamma()
    loss.enable_diversity(0.2)
    other = build_loss("weighted")
    other.load_loss_state(loss.loss_state())
    assert torch.equal(other.pos_weight, loss.pos_weight) and other.gamma == 1.0 and other.diversity_weight == 0.2


def test_head_similarity_identical_vs_disjoint_heads():
    same = torch.rand(1, 1, 1, 40, 4, 4).expand(1, 1, 3, 40, 4, 4)
    assert head_similarity(same).item() == pytest.approx(1.0, abs=1e-5)
    disjoint = torch.zeros(1, 1, 2, 40, 2, 2)
    disjoint[:, :, 0, :, 0, 0] = 1
    disjoint[:, :, 1, :, 1, 1] = 1
    assert head_similarity(disjoint).item() == pytest.approx(0.0, abs=1e-6)
