"""The MNIST CNN: shapes, parameter count, a few steps lower the loss, save/load."""
import numpy as np
import pytest

from layers import init
from models.mnist_classifier import MNISTClassifier, features, predict_proba, train_epoch
from tinygrad_cs import Tensor
from tinygrad_cs.optim import Adam


def test_shapes_and_parameter_count():
    init.manual_seed(0)
    m = MNISTClassifier()
    assert m(Tensor(np.zeros((3, 1, 28, 28), np.float32))).shape == (3, 10)
    expected = (32 * 25 + 32) + (64 * 32 * 25 + 64) + (3136 * 128 + 128) + (128 * 10 + 10)
    assert m.num_parameters() == expected
    x = np.random.default_rng(0).integers(0, 256, (4, 28, 28)).astype(np.uint8)
    p = predict_proba(m, x)
    assert p.shape == (4, 10) and np.allclose(p.sum(1), 1)
    assert features(m, x).shape == (4, 128)
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 1, 28, 28\)"):
        m(Tensor(np.zeros((3, 784), np.float32)))


def test_a_few_steps_lower_the_loss_and_weights_round_trip(tmp_path):
    init.manual_seed(1)
    rng = np.random.default_rng(0)
    # two easy synthetic classes: a bright left half vs a bright right half
    x = np.zeros((64, 28, 28), np.uint8)
    y = rng.integers(0, 2, 64).astype(np.uint8)
    x[y == 0, :, :14] = 200
    x[y == 1, :, 14:] = 200
    m = MNISTClassifier()
    opt = Adam(m.parameters(), lr=3e-3)
    losses = []
    for epoch in range(4):
        losses += train_epoch(m, opt, x, y, batch_size=32, seed=epoch, quiet=True)
    assert np.mean(losses[-2:]) < 0.5 * np.mean(losses[:2])
    m.save(tmp_path / "c.npz")
    m2 = MNISTClassifier()
    m2.load(tmp_path / "c.npz")
    np.testing.assert_array_equal(predict_proba(m, x), predict_proba(m2, x))
