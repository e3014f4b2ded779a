"""Forward values of ops and losses against direct NumPy formulas."""
import numpy as np
import pytest

import tinygrad_cs.functional as F
from tinygrad_cs import Tensor, grad

pytestmark = pytest.mark.usefixtures("backend")  # every test on both backends

rng = np.random.default_rng(0)


def test_unary_ops_match_numpy():
    x = rng.uniform(0.1, 2, (3, 4))
    t = Tensor(x)
    np.testing.assert_allclose(t.exp().data, np.exp(x))
    np.testing.assert_allclose(t.log().data, np.log(x))
    np.testing.assert_allclose(t.sqrt().data, np.sqrt(x))
    np.testing.assert_allclose((-t).abs().data, x)
    np.testing.assert_allclose(t.tanh().data, np.tanh(x))
    np.testing.assert_allclose(t.sigmoid().data, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(t.softplus().data, np.log1p(np.exp(x)))
    np.testing.assert_allclose(F.logsigmoid(t).data, np.log(1 / (1 + np.exp(-x))))
    y = x - 1
    np.testing.assert_allclose(Tensor(y).relu().data, np.maximum(y, 0))
    np.testing.assert_allclose(Tensor(y).leaky_relu(0.1).data, np.where(y > 0, y, 0.1 * y))
    np.testing.assert_allclose(Tensor(y).clip(-0.5, 0.5).data, np.clip(y, -0.5, 0.5))
    np.testing.assert_allclose(Tensor(y).minimum(0.2).data, np.minimum(y, 0.2))


def test_movement_ops_match_numpy():
    x = rng.standard_normal((2, 3, 4))
    t = Tensor(x)
    np.testing.assert_array_equal(t.permute(2, 0, 1).data, x.transpose(2, 0, 1))
    np.testing.assert_array_equal(t.transpose(0, 2).data, x.swapaxes(0, 2))
    np.testing.assert_array_equal(t.flatten(1).data, x.reshape(2, 12))
    np.testing.assert_array_equal(t.unsqueeze(1).squeeze().data, x)
    np.testing.assert_array_equal(t[:, [0, 2], 1:3].data, x[:, [0, 2], 1:3])
    np.testing.assert_array_equal(t[x > 0].data, x[x > 0])
    np.testing.assert_array_equal(t.pad(((0, 0), (1, 2), (0, 1))).data,
                                  np.pad(x, ((0, 0), (1, 2), (0, 1))))
    parts = t.split([1, 2], axis=1)
    np.testing.assert_array_equal(F.cat(parts[::-1], axis=1).data,
                                  np.concatenate([x[:, 1:], x[:, :1]], axis=1))
    np.testing.assert_array_equal(F.stack([t, t], axis=3).data, np.stack([x, x], axis=3))
    np.testing.assert_array_equal(t.expand(5, 2, 3, 4).data, np.broadcast_to(x, (5, 2, 3, 4)))
    np.testing.assert_array_equal(F.where(x > 0, t, 0.0).data, np.where(x > 0, x, 0.0))


def test_getitem_gradient_accumulates_repeated_indices():
    t = Tensor(np.arange(4.0), requires_grad=True)
    t[np.array([0, 0, 3])].sum().backward()
    np.testing.assert_array_equal(t.grad.data, [2, 0, 0, 1])


def test_matmul_matches_numpy_for_all_ranks():
    for sa, sb in [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((4, 2, 3), (3, 5)),
                   ((1, 2, 3), (4, 3, 2))]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        np.testing.assert_allclose((Tensor(a) @ Tensor(b)).data, a @ b)


def test_square_matches_numpy_and_the_product_gradient():
    x = rng.standard_normal((3, 4))
    g = rng.standard_normal((3, 4))
    np.testing.assert_allclose(Tensor(x).square().data, x ** 2)
    a = Tensor(x, requires_grad=True)
    (dx,) = grad(a.square(), [a], [Tensor(g)])
    (expected,) = grad(a * a, [a], [Tensor(g)])
    np.testing.assert_allclose(dx.data, expected.data)


def test_gram_matches_numpy_and_the_matmul_gradient():
    x = rng.standard_normal((2, 3, 5))
    g = rng.standard_normal((2, 3, 3))
    np.testing.assert_allclose(F.gram(Tensor(x)).data, x @ x.transpose(0, 2, 1))
    a = Tensor(x, requires_grad=True)
    (dx,) = grad(F.gram(a), [a], [Tensor(g)])
    # the gradient of x @ x^T through MatMul (two products, summed): the same numbers
    (expected,) = grad(a @ a.transpose(1, 2), [a], [Tensor(g)])
    np.testing.assert_allclose(dx.data, expected.data)
    with pytest.raises(ValueError, match=r"gram: expected x \(\.\.\., n, k\), got shape \(4,\)"):
        F.gram(Tensor(np.ones(4)))


def test_bce_with_logits_matches_formula_and_is_stable():
    x = rng.standard_normal((5, 1))
    t = rng.uniform(0, 1, (5, 1))
    s = 1 / (1 + np.exp(-x))
    expected = -(t * np.log(s) + (1 - t) * np.log(1 - s)).mean()
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(Tensor(x), Tensor(t)).item(),
                               expected)
    big = Tensor(np.array([[1000.0], [-1000.0]]), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(big, Tensor(np.array([[0.0], [1.0]])))
    np.testing.assert_allclose(loss.item(), 1000.0)
    loss.backward()
    np.testing.assert_allclose(big.grad.data, [[0.5], [-0.5]])


def test_cross_entropy_and_mse_match_formula():
    x = rng.standard_normal((4, 3))
    y = np.array([0, 2, 1, 2])
    p = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    np.testing.assert_allclose(F.cross_entropy(Tensor(x), y).item(),
                               -np.log(p[np.arange(4), y]).mean())
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(F.mse_loss(Tensor(a), Tensor(b)).item(), ((a - b) ** 2).mean())
    np.testing.assert_allclose(F.mse_loss(Tensor(a), Tensor(b), reduction="sum").item(),
                               ((a - b) ** 2).sum())
