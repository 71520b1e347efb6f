"""The fit behind the shipped second opinion: probes, blends and identity splits behave as its figures assume."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from attricam.engine.attributes import NUM_ATTRIBUTES
from attricam.engine.decision import DecisionRule
from attricam.engine.second_opinion import SecondOpinion
from attricam.training.metrics import roc_auc
from attricam.training.second_opinion_fit import FaceSet, fit_blend, fit_probes, fused_probabilities, identity_halves


def synthetic_faces(seed: int, people: int = 120, per_person: int = 5, size: int = 16) -> FaceSet:
    """Faces whose descriptor's first number carries attribute 0; the rest is noise, shared within a person."""
    rng = np.random.default_rng(seed)
    n = people * per_person
    identities = np.repeat(np.arange(people), per_person)
    labels = (rng.random((n, NUM_ATTRIBUTES)) < 0.3).astype(np.uint8)
    descriptors = rng.normal(0, 1, (people, size))[identities] + rng.normal(0, 0.5, (n, size))
    descriptors[:, 0] += 2.5 * labels[:, 0]
    paths = tuple(Path(f"{i:06d}.jpg") for i in range(n))
    return FaceSet(paths, labels, identities, descriptors.astype(np.float32), np.zeros((n, 5, 2), np.float32))


def test_the_fit_fuses_exactly_as_the_engine_does():
    """The blends and the rule are fitted on ``fused_probabilities``; the app shows ``SecondOpinion.fuse``."""
    rng = np.random.default_rng(0)
    d = 128
    opinion = SecondOpinion(
        "dlib-resnet-v1",
        rng.normal(0, 0.1, d),
        rng.uniform(0.5, 2.0, d),
        rng.normal(0, 0.05, (NUM_ATTRIBUTES, d)),
        rng.normal(0, 0.5, NUM_ATTRIBUTES),
        rng.uniform(0, 3, NUM_ATTRIBUTES),
        DecisionRule.uncalibrated(),
    )
    raw = rng.uniform(0.01, 0.99, (5, NUM_ATTRIBUTES)).astype(np.float32)
    descriptors = rng.normal(0, 1, (5, d)).astype(np.float32)
    trained = fused_probabilities(raw, opinion.probe_logits(descriptors), opinion.blend)
    assert np.allclose(trained, opinion.fuse(raw, descriptors), atol=1e-6)


def test_probes_read_what_the_descriptor_carries_and_nothing_else():
    faces = synthetic_faces(seed=1)
    mean, std, weight, bias, search = fit_probes(faces, ridges=(1e-3, 1e-1))
    assert search["ridge"] in (1e-3, 1e-1) and set(search["cv_mean_auc"]) == {"0.001", "0.1"}
    fresh = synthetic_faces(seed=2)
    z = ((fresh.descriptors - mean) / std) @ weight.T + bias
    assert roc_auc(z[:, 0], fresh.labels[:, 0]) > 0.9  # the descriptor's first number carries attribute 0
    assert abs(roc_auc(z[:, 5], fresh.labels[:, 5]) - 0.5) < 0.12  # attribute 5 is noise to it


def test_the_blend_leans_on_the_probe_only_where_it_adds_to_the_model():
    rng = np.random.default_rng(3)
    labels = (rng.random((800, NUM_ATTRIBUTES)) < 0.3).astype(np.uint8)
    signal = 2.0 * labels - 1.0
    z_model = rng.normal(0, 1, labels.shape) + 3.0 * signal  # the model ranks every attribute well ...
    z_model[:, 1] = rng.normal(0, 1, len(labels)) + 0.3 * signal[:, 1]  # ... but attribute 1 barely
    z_probe = rng.normal(0, 1, labels.shape)  # the probe is noise ...
    z_probe[:, 1] += 2.0 * signal[:, 1]  # ... except on attribute 1
    blend = fit_blend(z_model, z_probe, labels)
    assert blend.shape == (NUM_ATTRIBUTES,)
    assert blend[1] >= 1.0
    assert np.median(np.delete(blend, 1)) <= 0.3
    fused = z_model + blend * z_probe
    assert roc_auc(fused[:, 1], labels[:, 1]) > roc_auc(z_model[:, 1], labels[:, 1]) + 0.1


def test_identity_halves_keep_every_person_on_one_side_and_change_with_the_seed():
    identities = np.repeat(np.arange(50), 4)
    first, second = identity_halves(identities, 0), identity_halves(identities, 1)
    for half in (first, second):
        assert all(len(set(half[identities == i])) == 1 for i in range(50))
        assert half.sum() == 100  # 25 of 50 identities
    assert not np.array_equal(first, second)
    assert np.array_equal(first, identity_halves(identities, 0))


def test_fused_probabilities_stay_finite_at_certain_inputs():
    raw = np.array([[0.0, 1.0] + [0.5] * (NUM_ATTRIBUTES - 2)], np.float32)
    z_probe = np.full((1, NUM_ATTRIBUTES), 1e6, np.float32)
    out = fused_probabilities(raw, z_probe, np.ones(NUM_ATTRIBUTES, np.float32))
    assert np.isfinite(out).all() and ((out >= 0) & (out <= 1)).all()
