import pytest

from attricam.engine.attributes import (
    ATTRIBUTE_NAMES,
    ATTRIBUTES,
    NUM_ATTRIBUTES,
    RARE_ATTRIBUTES,
    TRAIN_POSITIVE_RATE,
    RarityTier,
    attribute_index,
    rarity_tier,
)


def test_forty_attributes_in_official_order():
    assert NUM_ATTRIBUTES == 40
    assert ATTRIBUTE_NAMES[0] == "5_o_Clock_Shadow" and ATTRIBUTE_NAMES[-1] == "Young"
    assert [a.index for a in ATTRIBUTES] == list(range(40))


def test_tiers_and_badges():
    assert rarity_tier(0.0228) is RarityTier.ULTRA_RARE
    assert rarity_tier(0.07) is RarityTier.RARE
    assert rarity_tier(0.2) is RarityTier.UNCOMMON
    assert rarity_tier(0.77) is RarityTier.COMMON
    bald = ATTRIBUTES[attribute_index("Bald")]
    assert bald.badge == "ULTRA-RARE 2.3 %"


def test_rare_set_is_the_issue_list():
    expected = {
        "Bald",
        "Mustache",
        "Gray_Hair",
        "Pale_Skin",
        "Double_Chin",
        "Wearing_Hat",
        "Blurry",
        "Sideburns",
        "Chubby",
        "Goatee",
        "Eyeglasses",
        "Rosy_Cheeks",
        "Wearing_Necktie",
        "Receding_Hairline",
    }
    assert {a.name for a in RARE_ATTRIBUTES} == expected


def test_unknown_attribute_names_the_valid_ones():
    try:
        attribute_index("Beard")
    except KeyError as exc:
        assert "No_Beard" in str(exc)
    else:
        raise AssertionError("expected KeyError")


def test_frequencies_match_the_official_train_partition(celeba_root):
    """Recompute positive rates over all 162,770 train rows of list_attr_celeba.txt."""
    partition = {}
    for line in (celeba_root / "list_eval_partition.txt").read_text().split("\n"):
        if line.strip():
            name, part = line.split()
            partition[name] = int(part)
    lines = (celeba_root / "list_attr_celeba.txt").read_text().split("\n")
    assert lines[1].split() == list(ATTRIBUTE_NAMES)
    counts = [0] * 40
    rows = 0
    for line in lines[2:]:
        fields = line.split()
        if fields and partition.get(fields[0]) == 0:
            rows += 1
            for i, value in enumerate(fields[1:]):
                counts[i] += value == "1"
    assert rows == 162770
    for name, count, table in zip(ATTRIBUTE_NAMES, counts, TRAIN_POSITIVE_RATE):
        assert abs(count / rows - table) < 5e-5, name


def test_frequency_band_labels_are_written_from_the_cutoffs():
    from attricam.engine import attributes

    assert [attributes.frequency_band_label(b) for b in ("rare", "uncommon", "common")] == [
        "Rare <10 %",
        "Uncommon 10–30 %",
        "Common >30 %",
    ]
    assert attributes.frequency_band_label("common", parenthesised=True) == "Common (>30 %)"
    with pytest.raises(ValueError, match="unknown frequency band"):
        attributes.frequency_band_label("legendary")
