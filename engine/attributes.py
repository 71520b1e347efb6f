"""The 40 CelebA attributes: names, training-set frequencies and rarity tiers.

This module is the single source of truth for attribute metadata. Every other
part of AttriCam (model heads, CSV columns, GUI bars, rarity badges, losses)
reads names and frequencies from here.

Frequencies are the positive rates over the complete official CelebA train
partition (all 162,770 rows of ``list_attr_celeba.txt`` whose partition is 0).
``tests/test_attributes.py`` recomputes them from the annotation files when a
CelebA root is available, so the table cannot silently drift.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "ATTRIBUTE_NAMES",
    "NUM_ATTRIBUTES",
    "TRAIN_POSITIVE_RATE",
    "RARE_CUTOFF",
    "COMMON_CUTOFF",
    "AttributeInfo",
    "RarityTier",
    "ATTRIBUTES",
    "RARE_ATTRIBUTES",
    "attribute_index",
    "frequency_band_label",
    "rarity_tier",
]

# (name, positive rate over the official train partition), in official order.
_TABLE: tuple[tuple[str, float], ...] = (
    ("5_o_Clock_Shadow", 0.11167),
    ("Arched_Eyebrows", 0.26588),
    ("Attractive", 0.51363),
    ("Bags_Under_Eyes", 0.20446),
    ("Bald", 0.02281),
    ("Bangs", 0.15166),
    ("Big_Lips", 0.24091),
    ("Big_Nose", 0.23555),
    ("Black_Hair", 0.23902),
    ("Blond_Hair", 0.14909),
    ("Blurry", 0.05137),
    ("Brown_Hair", 0.20392),
    ("Bushy_Eyebrows", 0.14368),
    ("Chubby", 0.05768),
    ("Double_Chin", 0.04651),
    ("Eyeglasses", 0.06464),
    ("Goatee", 0.06351),
    ("Gray_Hair", 0.04237),
    ("Heavy_Makeup", 0.38432),
    ("High_Cheekbones", 0.45245),
    ("Male", 0.41937),
    ("Mouth_Slightly_Open", 0.48219),
    ("Mustache", 0.04081),
    ("Narrow_Eyes", 0.11592),
    ("No_Beard", 0.83418),
    ("Oval_Face", 0.28323),
    ("Pale_Skin", 0.04304),
    ("Pointy_Nose", 0.27552),
    ("Receding_Hairline", 0.08011),
    ("Rosy_Cheeks", 0.06466),
    ("Sideburns", 0.05625),
    ("Smiling", 0.47970),
    ("Straight_Hair", 0.20856),
    ("Wavy_Hair", 0.31936),
    ("Wearing_Earrings", 0.18653),
    ("Wearing_Hat", 0.04939),
    ("Wearing_Lipstick", 0.46960),
    ("Wearing_Necklace", 0.12142),
    ("Wearing_Necktie", 0.07305),
    ("Young", 0.77894),
)

ATTRIBUTE_NAMES: tuple[str, ...] = tuple(name for name, _ in _TABLE)
NUM_ATTRIBUTES: int = len(ATTRIBUTE_NAMES)
TRAIN_POSITIVE_RATE: tuple[float, ...] = tuple(rate for _, rate in _TABLE)


RARE_CUTOFF = 0.10
"""An attribute is rare below this train positive rate: the GUI's "Rare" filter, the rare-F1 target and its objective."""
COMMON_CUTOFF = 0.30
"""An attribute is common above this train positive rate: the GUI's "Common" filter."""


def _percent(cutoff: float) -> str:
    return f"{100 * cutoff:g} %"


_BAND_RANGES = {
    "rare": f"<{_percent(RARE_CUTOFF)}",
    "uncommon": f"{100 * RARE_CUTOFF:g}–{_percent(COMMON_CUTOFF)}",
    "common": f">{_percent(COMMON_CUTOFF)}",
}


def frequency_band_label(band: str, *, parenthesised: bool = False) -> str:
    """The GUI's name for a frequency band, written from the cut-offs: ``"Rare <10 %"``, ``"Uncommon 10–30 %"``,
    ``"Common >30 %"`` (``parenthesised``: ``"Rare (<10 %)"``). ``band`` is ``rare``, ``uncommon`` or ``common``."""
    if band not in _BAND_RANGES:
        raise ValueError(f"unknown frequency band {band!r}: expected one of {', '.join(_BAND_RANGES)}")
    range_text = _BAND_RANGES[band]
    return f"{band.capitalize()} ({range_text})" if parenthesised else f"{band.capitalize()} {range_text}"


class RarityTier(enum.Enum):
    """How rare a positive is in training data; drives badges and filters."""

    ULTRA_RARE = "ultra-rare"  # < 5 %
    RARE = "rare"  # < 10 %
    UNCOMMON = "uncommon"  # < 30 %
    COMMON = "common"  # >= 30 %

    @property
    def label(self) -> str:
        return self.value.upper()


_TIER_UPPER_BOUNDS: tuple[tuple[float, RarityTier], ...] = (
    (0.05, RarityTier.ULTRA_RARE),
    (RARE_CUTOFF, RarityTier.RARE),
    (COMMON_CUTOFF, RarityTier.UNCOMMON),
)


def rarity_tier(frequency: float) -> RarityTier:
    for bound, tier in _TIER_UPPER_BOUNDS:
        if frequency < bound:
            return tier
    return RarityTier.COMMON


@dataclass(frozen=True)
class AttributeInfo:
    index: int
    name: str
    frequency: float
    tier: RarityTier

    @property
    def is_rare(self) -> bool:
        """Rarer than :data:`RARE_CUTOFF` (10 %): the GUI's "Rare" filter and the model card's rare-F1 set."""
        return self.frequency < RARE_CUTOFF

    @property
    def is_common(self) -> bool:
        """More frequent than :data:`COMMON_CUTOFF` (30 %): the GUI's "Common" filter."""
        return self.frequency > COMMON_CUTOFF

    @property
    def display_name(self) -> str:
        return self.name.replace("_", " ")

    @property
    def badge(self) -> str:
        """Short badge text, e.g. ``ULTRA-RARE 2.3 %``."""
        return f"{self.tier.label} {100 * self.frequency:.1f} %"


ATTRIBUTES: tuple[AttributeInfo, ...] = tuple(
    AttributeInfo(i, name, rate, rarity_tier(rate)) for i, (name, rate) in enumerate(_TABLE)
)
RARE_ATTRIBUTES: tuple[AttributeInfo, ...] = tuple(a for a in ATTRIBUTES if a.is_rare)

_INDEX = {name: i for i, name in enumerate(ATTRIBUTE_NAMES)}


def attribute_index(name: str) -> int:
    """Index of an attribute by its official name; raises with the valid names."""
    try:
        return _INDEX[name]
    except KeyError:
        raise KeyError(f"unknown attribute {name!r}; valid names: {', '.join(ATTRIBUTE_NAMES)}") from None
