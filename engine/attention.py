"""Multi-head cross-attention that keeps its attention weights.

Queries are the 40 learnable attribute embeddings, keys and values are image
feature tokens (Vaswani et al., 2017; lucidrains-style pre-norm blocks). The
weights are returned, not stored on the module, so the model stays stateless
and exports cleanly to ONNX.
"""

from __future__ import annotations

import torch
from einops import rearrange
from torch import nn

__all__ = ["CrossAttention", "FeedForward", "CrossAttentionBlock"]


class CrossAttention(nn.Module):
    def __init__(self, *, dim: int, heads: int, dim_head: int) -> None:
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.scale = dim_head**-0.5
        self.norm_queries = nn.LayerNorm(dim)
        self.norm_tokens = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, 2 * inner, bias=False)
        self.to_out = nn.Linear(inner, dim)

    def forward(self, queries: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """queries (b, q, dim), tokens (b, n, dim) -> update (b, q, dim), weights (b, heads, q, n)."""
        q = self.to_q(self.norm_queries(queries))  # (b, q, h*d)
        k, v = self.to_kv(self.norm_tokens(tokens)).chunk(2, dim=-1)  # (b, n, h*d) each
        q, k, v = (rearrange(t, "b n (h d) -> b h n d", h=self.heads) for t in (q, k, v))
        weights = (q @ k.transpose(-1, -2) * self.scale).softmax(dim=-1)  # (b, h, q, n)
        out = rearrange(weights @ v, "b h q d -> b q (h d)")  # (b, q, h*d)
        return self.to_out(out), weights


class FeedForward(nn.Module):
    def __init__(self, *, dim: int, mult: int = 2) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim * mult), nn.GELU(), nn.Linear(dim * mult, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CrossAttentionBlock(nn.Module):
    """Attribute queries read the image once, then think alone (residual MLP)."""

    def __init__(self, *, dim: int, heads: int, dim_head: int, ff_mult: int = 2) -> None:
        super().__init__()
        self.attn = CrossAttention(dim=dim, heads=heads, dim_head=dim_head)
        self.ff = FeedForward(dim=dim, mult=ff_mult)

    def forward(self, queries: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        update, weights = self.attn(queries, tokens)
        queries = queries + update
        queries = queries + self.ff(queries)
        return queries, weights
