"""Scoring generated digits with a trained MNIST classifier.

* classifier score (the Inception score with an MNIST classifier):
  exp( E_x KL(p(y|x) || p(y)) ), p(y) = E_x p(y|x).  High when every sample is classified
  confidently (sharp p(y|x)) and all classes occur (flat p(y)); 10 at most.
* Fréchet distance between Gaussians fitted to classifier features of two sets:
  |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))   (the FID, with our classifier's features).
* class shares: the fraction of samples classified as each digit.
"""
import warnings

import numpy as np
from scipy import linalg


def classifier_score(probs, eps=1e-12) -> float:
    probs = np.asarray(probs, np.float64)
    marginal = probs.mean(axis=0, keepdims=True)
    kl = (probs * (np.log(probs + eps) - np.log(marginal + eps))).sum(axis=1)
    return float(np.exp(kl.mean()))


def frechet_distance(features_a, features_b) -> float:
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():  # a near-singular product is handled just below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():  # near-singular product: regularise slightly
        off = np.eye(len(cov_a)) * 1e-6
        root = linalg.sqrtm((cov_a + off) @ (cov_b + off))
    root = root.real
    # a distance is >= 0; a tiny negative value (identical sets) is rounding error
    return max(0.0, float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root)))


def class_shares(probs, n_classes=10) -> np.ndarray:
    return np.bincount(np.asarray(probs).argmax(1), minlength=n_classes) / len(probs)
