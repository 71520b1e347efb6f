"""Cross-attention attribute model.

40 learnable attribute queries attend over the feature tokens of a small
residual CNN (He et al., 2016) trained from scratch; each query then predicts
its own attribute. Because every attribute has its own query, its attention map
shows where the model looked for *that* attribute — the product's overlays.

Input: aligned RGB faces, float32 in [0, 1], shape (b, 3, H, W).
Output: logits (b, 40) and attention (b, layers, heads, 40, H/8, W/8).
"""

from __future__ import annotations

import math

import torch
from einops import rearrange
from torch import nn

from .attention import CrossAttentionBlock
from .model_config import AttributeModelConfig

__all__ = ["AttributeModelConfig", "CrossAttentionAttributeModel", "build_model"]

_MEAN = (0.5, 0.5, 0.5)
_STD = (0.25, 0.25, 0.25)


def _conv_bn(c_in: int, c_out: int, *, stride: int = 1, kernel: int = 3, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
    ]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, *, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv_bn(c_in, c_out, stride=stride), _conv_bn(c_out, c_out, act=False))
        self.shortcut = (
            nn.Identity()
            if stride == 1 and c_in == c_out
            else _conv_bn(c_in, c_out, stride=stride, kernel=1, act=False)
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


def sincos_position_embedding(height: int, width: int, dim: int) -> torch.Tensor:
    """Fixed 2-D sine-cosine embedding (MAE/ViT style), shape (height*width, dim)."""
    if dim % 4:
        raise ValueError(f"dim must be divisible by 4, got {dim}")
    y, x = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    omega = 1.0 / (10000 ** (torch.arange(dim // 4) / (dim // 4 - 1 or 1)))
    y = y.flatten()[:, None] * omega[None, :]  # (hw, dim/4)
    x = x.flatten()[:, None] * omega[None, :]
    return torch.cat((x.sin(), x.cos(), y.sin(), y.cos()), dim=1).float()  # (hw, dim)


class CrossAttentionAttributeModel(nn.Module):
    def __init__(self, config: AttributeModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)

        stages: list[nn.Module] = [_conv_bn(3, c.stem_width, stride=2)]
        c_in = c.stem_width
        for width, blocks in zip(c.stage_widths, c.stage_blocks, strict=True):
            stages.append(BasicBlock(c_in, width, stride=2))
            stages.extend(BasicBlock(width, width) for _ in range(blocks - 1))
            c_in = width
        self.backbone = nn.Sequential(*stages)
        self.to_tokens = nn.Conv2d(c_in, c.dim, 1)
        grid_h, grid_w = c.token_grid
        self.register_buffer("pos_embedding", sincos_position_embedding(grid_h, grid_w, c.dim), persistent=False)

        self.attribute_queries = nn.Parameter(torch.randn(c.num_attributes, c.dim) * 0.02)
        self.blocks = nn.ModuleList(
            CrossAttentionBlock(dim=c.dim, heads=c.heads, dim_head=c.dim_head, ff_mult=c.ff_mult)
            for _ in range(c.layers)
        )
        self.head_norm = nn.LayerNorm(c.dim)
        # One linear classifier per attribute query: weight (q, dim), bias (q,).
        self.head_weight = nn.Parameter(torch.randn(c.num_attributes, c.dim) / math.sqrt(c.dim))
        self.head_bias = nn.Parameter(torch.zeros(c.num_attributes))

    def forward_features(self, images: torch.Tensor) -> torch.Tensor:
        """images (b, 3, H, W) in [0, 1] -> tokens (b, H/8 * W/8, dim)."""
        x = (images - self.mean) / self.std
        x = self.to_tokens(self.backbone(x))  # (b, dim, h, w)
        return rearrange(x, "b d h w -> b (h w) d") + self.pos_embedding  # (b, hw, dim)

    def forward_head(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = tokens.shape[0]
        queries = self.attribute_queries.unsqueeze(0).expand(b, -1, -1)  # (b, q, dim)
        weights = []
        for block in self.blocks:
            queries, w = block(queries, tokens)
            weights.append(w)  # (b, heads, q, hw)
        x = self.head_norm(queries)
        logits = (x * self.head_weight).sum(-1) + self.head_bias  # (b, q)
        grid_h, grid_w = self.config.token_grid
        attention = rearrange(torch.stack(weights, dim=1), "b l h q (y x) -> b l h q y x", y=grid_h, x=grid_w)
        return logits, attention

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> logits (b, 40), attention (b, layers, heads, 40, H/8, W/8)."""
        return self.forward_head(self.forward_features(images))


def build_model(config: AttributeModelConfig | None = None) -> CrossAttentionAttributeModel:
    return CrossAttentionAttributeModel(config or AttributeModelConfig())
