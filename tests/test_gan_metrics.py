"""The GAN quality metrics against their closed forms."""
import numpy as np
import pytest

from models.gan_metrics import class_shares, classifier_score, frechet_distance


def test_classifier_score_extremes():
    assert classifier_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)   # nothing is sure
    assert classifier_score(np.eye(10)[np.arange(100) % 10]) == pytest.approx(10.0)  # sharp, balanced
    assert classifier_score(np.eye(10)[np.zeros(100, int)]) == pytest.approx(1.0)  # mode collapse
    half = np.eye(10)[np.arange(100) % 5]
    assert classifier_score(half) == pytest.approx(5.0)


def test_frechet_distance_closed_form():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3)) * [1.0, 2.0, 0.5]
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    b = rng.standard_normal((4000, 3)) * [2.0, 1.0, 0.5] + [1.0, 0.0, -2.0]
    s1, s2 = np.var(a, 0, ddof=1), np.var(b, 0, ddof=1)
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + (s1 + s2 - 2 * np.sqrt(s1 * s2)).sum()
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)


def test_class_shares():
    probs = np.eye(10)[[1, 1, 2, 9]]
    np.testing.assert_allclose(class_shares(probs), [0, 0.5, 0.25, 0, 0, 0, 0, 0, 0, 0.25])
