"""Attention regions (engine) and the regularisers that make each attribute look at its own region."""

import numpy as np
import torch

from attricam.engine.attributes import attribute_index
from attricam.engine.regions import LOCALIZED_ATTRIBUTES, REGION_ATTRIBUTES, attribute_region_masks, face_regions
from attricam.training.losses import build_loss, mean_map_cosine


def test_regions_sit_where_the_template_puts_the_face():
    regions = face_regions(80, 96, (12, 10))
    rows = {name: np.nonzero(mask.any(axis=1))[0] for name, mask in regions.items()}
    assert rows["top_of_head"].max() < rows["eyes"].min() < rows["mouth"].min()
    assert rows["forehead"].max() < rows["eyes"].min()
    assert rows["below_chin"].min() > rows["mouth"].max() - 1
    assert {
        "Eyeglasses",
        "Smiling",
        "Mouth_Slightly_Open",
        "Wearing_Hat",
        "Bangs",
        "Mustache",
        "Goatee",
        "Wearing_Necktie",
    } <= set(LOCALIZED_ATTRIBUTES)
    indices, masks = attribute_region_masks(80, 96, (12, 10))
    assert masks.shape == (len(LOCALIZED_ATTRIBUTES), 12, 10) and len(indices) == len(set(indices.tolist()))
    assert set(REGION_ATTRIBUTES) == set(regions)


def _attention(maps: torch.Tensor) -> torch.Tensor:
    """(b, 40, 12, 10) maps -> model-shaped attention (b, layers=1, heads=2, 40, 12, 10)."""
    return maps[:, None, None].expand(-1, 1, 2, -1, -1, -1)


def test_region_term_prefers_attention_inside_the_region():
    loss = build_loss("bce", region_weight=1.0, map_diversity_weight=0.0)
    logits, targets = torch.zeros(2, 40), torch.zeros(2, 40)
    uniform = torch.full((2, 40, 12, 10), 1 / 120)
    _, masks = attribute_region_masks(80, 96, (12, 10))
    indices, _ = attribute_region_masks(80, 96, (12, 10))
    focused = uniform.clone()
    for i, m in zip(indices, masks):
        focused[:, i] = torch.as_tensor(m) / m.sum()
    loss(logits, targets, _attention(uniform))
    spread = loss.last_components["attention_region"]
    loss(logits, targets, _attention(focused))
    assert loss.last_components["attention_region"] < 0.01 < spread


def test_region_hinge_leaves_a_mostly_inside_map_alone():
    """With region_target, a query with 80 % of its attention inside its region costs nothing; 20 % does."""
    loss = build_loss("bce", region_weight=1.0, map_diversity_weight=0.0, region_target=0.75)
    logits, targets = torch.zeros(1, 40), torch.zeros(1, 40)
    indices, masks = attribute_region_masks(80, 96, (12, 10))

    def maps_with_share(share: float) -> torch.Tensor:
        maps = torch.zeros(1, 40, 12, 10)
        for i, m in zip(indices, masks):
            inside = torch.as_tensor(m, dtype=torch.float32)
            maps[0, i] = share * inside / inside.sum() + (1 - share) * (1 - inside) / (1 - inside).sum()
        return maps

    loss(logits, targets, _attention(maps_with_share(0.8)))
    assert loss.last_components["attention_region"] == 0.0
    loss(logits, targets, _attention(maps_with_share(0.2)))
    assert abs(loss.last_components["attention_region"] - float(np.log(0.75 / 0.2))) < 1e-4


def test_map_diversity_term_sees_collapsed_maps():
    collapsed = torch.zeros(1, 40, 12, 10)
    collapsed[..., 5, 5] = 1
    distinct = torch.zeros(1, 40, 120)
    distinct[0, torch.arange(40), torch.arange(40)] = 1
    assert float(mean_map_cosine(collapsed)) == 1.0
    assert float(mean_map_cosine(distinct.view(1, 40, 12, 10))) == 0.0
    loss = build_loss("weighted", region_weight=0.0, map_diversity_weight=1.0, map_diversity_margin=0.3)
    value = loss(torch.zeros(1, 40), torch.zeros(1, 40), _attention(collapsed))
    base = loss(torch.zeros(1, 40), torch.zeros(1, 40), None)
    assert float(value - base) == np.float32(0.7)


def test_regularised_attention_gets_gradients():
    from attricam.engine.model import build_model

    model = build_model()
    logits, attention = model(torch.rand(2, 3, 96, 80))
    loss = build_loss("weighted")(logits, torch.zeros(2, 40), attention)
    loss.backward()
    assert model.attribute_queries.grad.abs().sum() > 0
    assert attribute_index("Wearing_Hat") in attribute_region_masks(80, 96, (12, 10))[0]
