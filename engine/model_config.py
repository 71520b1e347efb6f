"""The attribute model's configuration and the weights it expects, without importing torch.

Why a separate module: the live app runs the model on onnxruntime, and importing
torch only to read a config dataclass costs ~680 MB of RSS and about a second of
start-up. :mod:`attricam.engine.model` re-exports :class:`AttributeModelConfig`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .attributes import NUM_ATTRIBUTES

__all__ = ["CROP_MARGIN", "IMAGE_HEIGHT", "IMAGE_WIDTH", "AttributeModelConfig", "state_dict_shapes"]

IMAGE_HEIGHT = 96
"""The default model input: an aligned face crop of ``IMAGE_HEIGHT x IMAGE_WIDTH`` pixels (CelebA's frame, scaled)."""
IMAGE_WIDTH = 80
CROP_MARGIN = 8
"""Pixels kept on every side of a cached training crop (``align_face(margin=...)``), so augmentation can shift,
scale and rotate without black borders; evaluation centre-crops them away. Here, not in :mod:`attricam.engine.alignment`,
so the training config and the GUI's form read it without importing OpenCV."""


@dataclass(frozen=True)
class AttributeModelConfig:
    """Everything needed to rebuild the model; stored in every bundle."""

    image_height: int = IMAGE_HEIGHT
    image_width: int = IMAGE_WIDTH
    stem_width: int = 24
    stage_widths: tuple[int, ...] = (48, 96)
    stage_blocks: tuple[int, ...] = (1, 2)
    dim: int = 128
    heads: int = 4
    dim_head: int = 32
    layers: int = 1
    ff_mult: int = 2
    num_attributes: int = NUM_ATTRIBUTES

    @property
    def stride(self) -> int:
        return int(2 ** (1 + len(self.stage_widths)))

    @property
    def token_grid(self) -> tuple[int, int]:
        return self.image_height // self.stride, self.image_width // self.stride

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AttributeModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}; known: {sorted(known)}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


def _conv_bn_shapes(prefix: str, c_in: int, c_out: int, kernel: int = 3) -> dict[str, tuple[int, ...]]:
    bn = {f"{prefix}.1.{name}": (c_out,) for name in ("weight", "bias", "running_mean", "running_var")}
    return {f"{prefix}.0.weight": (c_out, c_in, kernel, kernel), **bn, f"{prefix}.1.num_batches_tracked": ()}


def _layer_norm_shapes(prefix: str, dim: int) -> dict[str, tuple[int, ...]]:
    return {f"{prefix}.weight": (dim,), f"{prefix}.bias": (dim,)}


def state_dict_shapes(config: AttributeModelConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every weight :class:`attricam.engine.model.CrossAttentionAttributeModel` loads.

    Lets a bundle be checked at load without building the torch model; a test
    holds it equal to the real model's ``state_dict()`` across configs.
    """
    c = config
    if c.dim % 4:
        raise ValueError(f"dim must be divisible by 4 (2-D sine-cosine positions), got {c.dim}")
    shapes: dict[str, tuple[int, ...]] = {
        "attribute_queries": (c.num_attributes, c.dim),
        "head_weight": (c.num_attributes, c.dim),
        "head_bias": (c.num_attributes,),
        **_conv_bn_shapes("backbone.0", 3, c.stem_width),
    }
    index, c_in = 1, c.stem_width
    for width, blocks in zip(c.stage_widths, c.stage_blocks, strict=True):
        for block in range(blocks):
            stride_in = c_in if block == 0 else width
            prefix = f"backbone.{index}"
            shapes |= _conv_bn_shapes(f"{prefix}.body.0", stride_in, width)
            shapes |= _conv_bn_shapes(f"{prefix}.body.1", width, width)
            if block == 0:  # the first block of a stage strides by 2, so its shortcut is a 1x1 conv
                shapes |= _conv_bn_shapes(f"{prefix}.shortcut", stride_in, width, kernel=1)
            index += 1
        c_in = width
    shapes |= {"to_tokens.weight": (c.dim, c_in, 1, 1), "to_tokens.bias": (c.dim,)}
    inner, hidden = c.heads * c.dim_head, c.dim * c.ff_mult
    for layer in range(c.layers):
        attn, ff = f"blocks.{layer}.attn", f"blocks.{layer}.ff.net"
        shapes |= _layer_norm_shapes(f"{attn}.norm_queries", c.dim) | _layer_norm_shapes(f"{attn}.norm_tokens", c.dim)
        shapes |= {
            f"{attn}.to_q.weight": (inner, c.dim),
            f"{attn}.to_kv.weight": (2 * inner, c.dim),
            f"{attn}.to_out.weight": (c.dim, inner),
            f"{attn}.to_out.bias": (c.dim,),
        }
        shapes |= _layer_norm_shapes(f"{ff}.0", c.dim)
        shapes |= {f"{ff}.1.weight": (hidden, c.dim), f"{ff}.1.bias": (hidden,)}
        shapes |= {f"{ff}.3.weight": (c.dim, hidden), f"{ff}.3.bias": (c.dim,)}
    return shapes | _layer_norm_shapes("head_norm", c.dim)
