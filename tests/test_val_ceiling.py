"""The oracle ceiling that experiments/val_ceiling.py reports must be exact, or its 'unreachable' claim means nothing."""

from __future__ import annotations

import numpy as np

from experiments.val_ceiling import oracle_frontier, threshold_sweep


def _brute_force(scores: np.ndarray, labels: np.ndarray) -> set[tuple[float, float]]:
    """(accuracy, balanced accuracy) of every cut 'positive when score >= c', c over the scores and +inf."""
    points = set()
    for cut in [*np.unique(scores), np.inf]:
        predicted = scores >= cut
        tpr = (predicted & (labels == 1)).sum() / (labels == 1).sum()
        tnr = (~predicted & (labels == 0)).sum() / (labels == 0).sum()
        points.add((round(float((predicted == labels).mean()), 12), round(float((tpr + tnr) / 2), 12)))
    return points


def test_sweep_gives_every_cut_and_never_splits_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 12, size=60) / 12  # many ties
    labels = (rng.random(60) < 0.2).astype(int)
    accuracy, balanced = threshold_sweep(scores, labels)
    swept = {(round(float(a), 12), round(float(b), 12)) for a, b in zip(accuracy, balanced)}
    assert swept == _brute_force(scores, labels)


def test_frontier_ends_at_the_best_accuracy_and_the_best_balanced_accuracy():
    rng = np.random.default_rng(1)
    labels = (rng.random((200, 3)) < [0.05, 0.3, 0.6]).astype(int)
    probabilities = np.clip(labels * 0.3 + rng.random((200, 3)) * 0.7, 0, 1)
    frontier = oracle_frontier(probabilities, labels)
    best = [_brute_force(probabilities[:, a], labels[:, a]) for a in range(3)]
    assert abs(frontier[-1][1] - np.mean([max(a for a, _ in points) for points in best])) < 1e-12
    assert abs(frontier[0][2] - np.mean([max(b for _, b in points) for points in best])) < 1e-12
    accuracies = [a for _, a, _ in frontier]
    assert accuracies == sorted(accuracies)  # more weight on accuracy never lowers it
