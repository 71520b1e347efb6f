"""Multi-label losses for CelebA's imbalance, selectable by name.

Every recipe is one :class:`AttributeLoss` with per-attribute state that the
stuck-model diagnosis may change during training (``pos_weight``, ``gamma``,
the diversity penalty), and whose state is saved in checkpoints as plain
lists so a resumed run continues with the same loss. Elementwise, for logit
``z``, target ``y`` and ``p = sigmoid(z)``::

    loss = w_pos * y * (1 - p)^g * -log(p)  +  w_neg * (1 - y) * p^g * -log(1 - p)

- ``bce``: w = 1, g = 0.
- ``weighted``: w_pos = clip(1 / (freq + 0.001), 1, cap) (the course's "aggressive weights").
- ``focal`` (Lin et al., 2017): g = gamma, w_pos = 1 (capped pos weights only with ``focal_pos_weights``), optional alpha
  (w_pos *= alpha, w_neg *= 1 - alpha).
- ``aggressive-focal``: focal + capped weights + the diversity penalty (switched on).
- ``class-balanced`` (Cui et al., 2019): w proportional to 1 / effective number (1 - beta^n) / (1 - beta).
- ``ldam`` (Cao et al., 2019): margins C / n^(1/4) subtracted from the true class's logit; deferred
  re-weighting switches on class-balanced weights from ``drw_epoch``.
- ``asl`` (Ridnik et al., 2021): asymmetric focusing gamma_pos / gamma_neg, negatives' p shifted by ``clip``.

Diversity penalty: ``-log(rate + 1e-8)`` averaged over attributes whose batch predicted-positive rate
(mean sigmoid) is below ``diversity_target * freq``; plus, optionally, the mean cosine similarity between
attention heads (so heads do not collapse onto one map).

Attention regularisation (the course's "attention regularisation" assignment), both optional and
computed on the last layer's head-averaged maps, the view the app shows:

- region term: for each localized attribute (``attricam.engine.regions``), ``-log`` of the share of its attention
  inside its face region, so that "Eyeglasses" learns to look at the eyes;
- map diversity: ``max(0, mean pairwise cosine of the 40 maps - margin)``, so the 40 queries cannot all
  look at one place (the collapse the first shipped model showed, cosine 0.95).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, TypedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from attricam.engine.attributes import TRAIN_POSITIVE_RATE

from .config import LOSS_NAMES
from .loss_weights import capped_pos_weights

__all__ = [
    "LOSS_NAMES",
    "AppliedWeights",
    "AttributeLoss",
    "LossConfig",
    "LossState",
    "build_loss",
    "capped_pos_weights",
    "map_cosine",
    "mean_map_cosine",
]

EMERGENCY_WEIGHT_CAP = 100.0


class AppliedWeights(TypedDict):
    """The per-attribute weights the data term multiplies by (what a bundle records as ``loss_weights``)."""

    loss: str
    pos_weight: list[float]  # (40,)
    neg_weight: list[float]  # (40,)
    gamma: float


class LossState(TypedDict):
    """What diagnosis may have changed in the loss, saved in checkpoints."""

    pos_weight: list[float]  # (40,)
    neg_weight: list[float]  # (40,)
    gamma: float
    diversity_weight: float
    epoch: int


@dataclass(frozen=True)
class LossConfig:
    name: str = "weighted"
    weight_cap: float = 50.0
    gamma: float = 2.0
    alpha: float | None = None
    focal_pos_weights: bool = False
    """Plain ``focal`` also applies the capped pos weights (``aggressive-focal`` always does)."""
    beta: float = 0.9999
    num_samples: int = 162_770
    """Training-set size behind the effective numbers (class-balanced, LDAM-DRW)."""
    ldam_max_margin: float = 1.0
    """Largest margin, in logit units (our logits are not cosine-normalised, so no scale s)."""
    drw_epoch: int = 3
    asl_gamma_pos: float = 0.0
    asl_gamma_neg: float = 4.0
    asl_clip: float = 0.05
    diversity_weight: float = 0.0
    diversity_target: float = 0.5
    head_similarity_weight: float = 0.0
    region_weight: float = 0.2
    """Attention-region term: -log(share of each localized attribute's attention inside its face region)."""
    region_target: float = 0.0
    """Hinge for the region term: only shares below this are penalised (0: always, which drives shares to ~1
    and squeezes the maps into their boxes; 0.75 leaves the query free once it mostly looks in its region)."""
    map_diversity_weight: float = 1.0
    """Map-diversity term: mean pairwise cosine of the 40 head-averaged maps above ``map_diversity_margin``."""
    map_diversity_margin: float = 0.3

    @property
    def needs_attention(self) -> bool:
        return self.head_similarity_weight > 0 or self.region_weight > 0 or self.map_diversity_weight > 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _effective_number_weights(frequencies: np.ndarray, n: int, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-attribute (w_pos, w_neg) proportional to 1/effective number, normalised so w_pos + w_neg = 2."""
    n_pos = np.maximum(frequencies * n, 1.0)
    n_neg = np.maximum((1 - frequencies) * n, 1.0)
    inv_pos = (1 - beta) / (1 - beta**n_pos)
    inv_neg = (1 - beta) / (1 - beta**n_neg)
    total = inv_pos + inv_neg
    return 2 * inv_pos / total, 2 * inv_neg / total


class AttributeLoss(nn.Module):
    """Elementwise-weighted, optionally focal, multi-label loss with a diversity penalty; see the module doc."""

    def __init__(self, config: LossConfig, frequencies: np.ndarray | None = None) -> None:
        super().__init__()
        if config.name not in LOSS_NAMES:
            raise ValueError(f"unknown loss {config.name!r}; valid: {', '.join(LOSS_NAMES)}")
        self.config = config
        freq = np.asarray(TRAIN_POSITIVE_RATE if frequencies is None else frequencies, dtype=np.float64)
        self.register_buffer("frequencies", torch.tensor(freq, dtype=torch.float32))
        pos, neg = np.ones_like(freq), np.ones_like(freq)
        gamma = 0.0
        name = config.name
        if name in ("weighted", "aggressive-focal") or (name == "focal" and config.focal_pos_weights):
            pos = capped_pos_weights(freq, config.weight_cap)
        if name in ("focal", "aggressive-focal"):
            gamma = config.gamma
            if config.alpha is not None:
                pos, neg = pos * config.alpha, neg * (1 - config.alpha)
        if name == "class-balanced":
            pos, neg = _effective_number_weights(freq, config.num_samples, config.beta)
        self.register_buffer("pos_weight", torch.tensor(pos, dtype=torch.float32))
        self.register_buffer("neg_weight", torch.tensor(neg, dtype=torch.float32))
        margins = np.stack([(freq * config.num_samples) ** -0.25, ((1 - freq) * config.num_samples) ** -0.25])
        margins *= config.ldam_max_margin / margins.max()
        self.register_buffer("margins", torch.tensor(margins, dtype=torch.float32))  # (2, 40): pos, neg
        self.gamma = gamma
        self.diversity_weight = config.diversity_weight or (0.1 if name == "aggressive-focal" else 0.0)
        self.epoch = 0
        self.last_components: dict[str, float] = {}

    # -- state changed by diagnosis, saved in checkpoints ---------------------------------------
    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def boost_positives(self, mask: torch.Tensor, factor: float = 2.0, cap: float = EMERGENCY_WEIGHT_CAP) -> None:
        """Multiply the positive weight of the masked attributes, capped at ``cap``."""
        boosted = torch.clamp(self.pos_weight * factor, max=cap)
        self.pos_weight.copy_(
            torch.where(mask.to(self.pos_weight.device), torch.maximum(boosted, self.pos_weight), self.pos_weight)
        )

    def raise_gamma(self, step: float = 1.0, limit: float = 5.0) -> float:
        self.gamma = min(self.gamma + step, limit)
        return self.gamma

    def enable_diversity(self, weight: float = 0.1) -> None:
        self.diversity_weight = max(self.diversity_weight, weight)

    def applied_weights(self) -> AppliedWeights:
        """The per-attribute weights the data term multiplies by now (emergency boosts and LDAM's deferred
        re-weighting included): what a bundle records, so nobody re-derives them from the recipe."""
        pos, neg = self.pos_weight.cpu().numpy().astype(np.float64), self.neg_weight.cpu().numpy().astype(np.float64)
        if self.config.name == "ldam" and self.epoch >= self.config.drw_epoch:
            cb_pos, cb_neg = _effective_number_weights(
                self.frequencies.cpu().numpy(), self.config.num_samples, self.config.beta
            )
            pos, neg = pos * cb_pos, neg * cb_neg
        return {
            "loss": self.config.name,
            "pos_weight": pos.tolist(),
            "neg_weight": neg.tolist(),
            "gamma": float(self.gamma),
        }

    def loss_state(self) -> LossState:
        return {
            "pos_weight": self.pos_weight.tolist(),
            "neg_weight": self.neg_weight.tolist(),
            "gamma": float(self.gamma),
            "diversity_weight": float(self.diversity_weight),
            "epoch": int(self.epoch),
        }

    def load_loss_state(self, state: LossState) -> None:
        self.pos_weight.copy_(torch.tensor(state["pos_weight"]))
        self.neg_weight.copy_(torch.tensor(state["neg_weight"]))
        self.gamma = float(state["gamma"])
        self.diversity_weight = float(state["diversity_weight"])
        self.epoch = int(state["epoch"])

    # -- the loss ---------------------------------------------------------------------------------
    def forward(
        self, logits: torch.Tensor, targets: torch.Tensor, attention: torch.Tensor | None = None
    ) -> torch.Tensor:
        """logits, targets (b, 40) -> scalar. ``attention`` (b, layers, heads, 40, h, w) feeds the head penalty."""
        logits = logits.float()
        targets = targets.float()
        data = self._data_term(logits, targets)
        total = data
        components = {"data": float(data.detach())}
        if self.diversity_weight > 0:
            diversity = self.diversity_penalty(logits)
            total = total + self.diversity_weight * diversity
            components["diversity"] = float(diversity.detach())
        if self.config.head_similarity_weight > 0 and attention is not None:
            similarity = head_similarity(attention)
            total = total + self.config.head_similarity_weight * similarity
            components["head_similarity"] = float(similarity.detach())
        if attention is not None and (self.config.region_weight > 0 or self.config.map_diversity_weight > 0):
            maps = attention[:, -1].float().mean(dim=1)  # (b, q, y, x): the default view
            if self.config.region_weight > 0:
                region = self.region_penalty(maps)
                total = total + self.config.region_weight * region
                components["attention_region"] = float(region.detach())
            if self.config.map_diversity_weight > 0:
                cosine = mean_map_cosine(maps)
                penalty = (cosine - self.config.map_diversity_margin).clamp(min=0)
                total = total + self.config.map_diversity_weight * penalty
                components["map_cosine"] = float(cosine.detach())
        self.last_components = components
        return total

    def _data_term(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        c = self.config
        pos_w, neg_w = self.pos_weight, self.neg_weight
        if c.name == "ldam":
            logits = logits - self.margins[0] * targets + self.margins[1] * (1 - targets)
            if self.epoch >= c.drw_epoch:
                cb_pos, cb_neg = _effective_number_weights(self.frequencies.cpu().numpy(), c.num_samples, c.beta)
                pos_w = pos_w * torch.tensor(cb_pos, dtype=logits.dtype, device=logits.device)
                neg_w = neg_w * torch.tensor(cb_neg, dtype=logits.dtype, device=logits.device)
        if c.name == "asl":
            p = torch.sigmoid(logits)
            p_neg = (p - c.asl_clip).clamp(min=0)
            log_p = F.logsigmoid(logits)
            log_1mp = torch.log((1 - p_neg).clamp(min=1e-8))
            pos_term = (1 - p) ** (c.asl_gamma_pos + self.gamma) * -log_p
            neg_term = p_neg ** (c.asl_gamma_neg + self.gamma) * -log_1mp
        else:
            pos_term = -F.logsigmoid(logits)  # -log p
            neg_term = -F.logsigmoid(-logits)  # -log (1 - p)
            if self.gamma > 0:
                p = torch.sigmoid(logits)
                pos_term = (1 - p) ** self.gamma * pos_term
                neg_term = p**self.gamma * neg_term
        loss = pos_w * targets * pos_term + neg_w * (1 - targets) * neg_term  # (b, 40)
        return loss.mean()

    def region_penalty(self, maps: torch.Tensor) -> torch.Tensor:
        """maps (b, q, y, x) -> mean over faces and localized attributes of -log(share inside the region)."""
        grid = tuple(maps.shape[-2:])
        if getattr(self, "_region_grid", None) != grid:
            from attricam.engine.regions import attribute_region_masks

            # Region boxes scale with the crop, so any stride gives the same token masks.
            indices, masks = attribute_region_masks(grid[1] * 8, grid[0] * 8, grid)
            self._region_index = torch.as_tensor(indices, device=maps.device)
            self._region_masks = torch.as_tensor(masks, device=maps.device)
            self._region_grid = grid
        inside = (maps[:, self._region_index] * self._region_masks).sum(dim=(-1, -2))  # (b, k)
        shortfall = -torch.log(inside.clamp(min=1e-4))
        if self.config.region_target > 0:
            shortfall = (shortfall + math.log(self.config.region_target)).clamp(min=0)
        return shortfall.mean()

    def diversity_penalty(self, logits: torch.Tensor) -> torch.Tensor:
        rate = torch.sigmoid(logits.float()).mean(dim=0)  # (40,)
        below = rate < self.config.diversity_target * self.frequencies
        return (below * -torch.log(rate + 1e-8)).sum() / logits.shape[1]


def map_cosine(maps: torch.Tensor) -> torch.Tensor:
    """maps (b, q, y, x) -> (b,): each face's mean off-diagonal cosine similarity between its q maps."""
    flat = F.normalize(maps.flatten(2), dim=-1)  # (b, q, yx)
    sim = flat @ flat.transpose(1, 2)  # (b, q, q)
    q = sim.shape[-1]
    off = sim.sum(dim=(-1, -2)) - sim.diagonal(dim1=-2, dim2=-1).sum(-1)
    return off / (q * (q - 1))


def mean_map_cosine(maps: torch.Tensor) -> torch.Tensor:
    """maps (b, q, y, x) -> the batch mean of :func:`map_cosine` (the product's attention-collapse figure)."""
    return map_cosine(maps).mean()


def head_similarity(attention: torch.Tensor) -> torch.Tensor:
    """Mean off-diagonal cosine similarity between heads' maps of the last layer; attention (b, l, h, q, y, x)."""
    maps = attention[:, -1].flatten(3)  # (b, heads, q, yx)
    maps = F.normalize(maps.transpose(1, 2), dim=-1)  # (b, q, heads, yx)
    sim = maps @ maps.transpose(-1, -2)  # (b, q, heads, heads)
    heads = sim.shape[-1]
    if heads < 2:
        return sim.new_zeros(())
    off = sim.sum(dim=(-1, -2)) - sim.diagonal(dim1=-2, dim2=-1).sum(-1)
    return (off / (heads * (heads - 1))).mean()


def build_loss(name: str, frequencies: np.ndarray | None = None, **options: Any) -> AttributeLoss:
    """``build_loss("focal", gamma=3)``; unknown names or options fail naming the valid ones (``options`` are
    :class:`LossConfig` fields with values as the command line or a config file gave them)."""
    if name not in LOSS_NAMES:
        raise ValueError(f"unknown loss {name!r}; valid: {', '.join(LOSS_NAMES)}")
    valid = set(LossConfig.__dataclass_fields__) - {"name"}
    unknown = set(options) - valid
    if unknown:
        raise ValueError(f"unknown loss options {sorted(unknown)}; valid: {sorted(valid)}")
    return AttributeLoss(replace(LossConfig(name=name), **options), frequencies)
