"""PyTorch habits: dim=/keepdim=, argmax, Tensor.to, manual_seed, constructors, x += y."""
import operator

import numpy as np
import pytest

import layers as nn
import tinygrad_cs.functional as F
from layers import init
from models.mnist import batches
from tinygrad_cs import Tensor, no_grad
from tinygrad_cs.creation import (arange, full, ones, ones_like, rand, randn, zeros,
                                  zeros_like)
from tinygrad_cs.random import default_generator, manual_seed

X = np.array([[3.0, -1.0, 2.0, 0.5], [0.0, 4.0, -2.0, 1.0], [1.5, 1.5, -0.5, 2.5]])


def softmax_np(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# -- dim= and keepdim= ------------------------------------------------------------------

REDUCTIONS = [  # (method, NumPy's answer for axis=1, keepdims=True)
    ("sum", lambda a: a.sum(1, keepdims=True)),
    ("mean", lambda a: a.mean(1, keepdims=True)),
    ("max", lambda a: a.max(1, keepdims=True)),
    ("min", lambda a: a.min(1, keepdims=True)),
    ("var", lambda a: a.var(1, ddof=1, keepdims=True)),
    ("std", lambda a: a.std(1, ddof=1, keepdims=True)),
    ("norm", lambda a: np.sqrt((a * a).sum(1, keepdims=True))),
    ("logsumexp", lambda a: np.log(np.exp(a).sum(1, keepdims=True))),
]


@pytest.mark.parametrize("name,expected", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reductions_take_dim_and_keepdim(name, expected):
    x = Tensor(X)
    got = getattr(x, name)(dim=1, keepdim=True)
    np.testing.assert_allclose(got.data, expected(X), rtol=1e-12)
    np.testing.assert_allclose(getattr(x, name)(dim=1).data, expected(X)[:, 0], rtol=1e-12)
    np.testing.assert_allclose(getattr(x, name)(axis=1, keepdims=True).data, expected(X),
                               rtol=1e-12)
    with pytest.raises(TypeError, match=f"{name}: got both axis=0 and dim=1"):
        getattr(x, name)(axis=0, dim=1)
    with pytest.raises(TypeError, match=f"{name}: got both keepdims=True and keepdim=True"):
        getattr(x, name)(dim=1, keepdims=True, keepdim=True)


def test_reduction_with_dim_is_differentiable():
    x = Tensor(X, requires_grad=True)
    x.mean(dim=0).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(X.shape, 1 / 3))


def test_softmax_and_log_softmax_take_dim():
    x = Tensor(X)
    np.testing.assert_allclose(F.softmax(x, dim=1).data, softmax_np(X, 1), rtol=1e-12)
    np.testing.assert_allclose(F.softmax(x, dim=0).data, softmax_np(X, 0), rtol=1e-12)
    np.testing.assert_allclose(x.log_softmax(dim=0).data, np.log(softmax_np(X, 0)),
                               rtol=1e-12)
    np.testing.assert_allclose(F.softmax(x).data, softmax_np(X, -1), rtol=1e-12)  # default
    with pytest.raises(TypeError, match="softmax: got both axis=1 and dim=0"):
        F.softmax(x, 1, dim=0)


def test_cat_stack_split_squeeze_take_dim():
    a, b = Tensor(X[:, :2]), Tensor(X[:, 2:])
    np.testing.assert_array_equal(F.cat([a, b], dim=1).data, X)
    np.testing.assert_array_equal(F.stack([a, b], dim=2).data, np.stack([X[:, :2], X[:, 2:]], 2))
    first, second = Tensor(X).split(2, dim=1)
    np.testing.assert_array_equal(second.data, X[:, 2:])
    assert Tensor(X).unsqueeze(dim=1).shape == (3, 1, 4)
    assert Tensor(X[:, :1]).squeeze(dim=1).shape == (3,)
    with pytest.raises(TypeError, match="cat: got both axis=0 and dim=1"):
        F.cat([a, b], 0, dim=1)
    with pytest.raises(TypeError, match="unsqueeze: say where the new axis goes"):
        Tensor(X).unsqueeze()


# -- argmax, argmin, Tensor.to ----------------------------------------------------------

def test_argmax_argmin_are_integer_tensors_without_grad():
    x = Tensor(X, requires_grad=True)
    idx = x.argmax(dim=1)
    assert isinstance(idx, Tensor) and idx.dtype == np.int64 and not idx.requires_grad
    np.testing.assert_array_equal(idx.data, [0, 1, 3])
    np.testing.assert_array_equal(x.argmin(axis=0).data, [1, 0, 1, 0])
    assert x.argmax().item() == 5  # of the flattened tensor, like NumPy and PyTorch
    assert F.argmax(x, dim=1, keepdim=True).shape == (3, 1)
    with pytest.raises(TypeError, match="argmax: axis must be one int"):
        x.argmax(axis=(0, 1))
    with pytest.raises(ValueError, match="argmax: axis 2 is out of range"):
        x.argmax(dim=2)
    with pytest.raises(ValueError, match="argmin: the tensor of shape \\(0,\\) is empty"):
        Tensor(np.zeros(0)).argmin()


def test_tensor_to_is_a_differentiable_cast():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.to(np.float64)
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [2.0, 4.0])
    assert x.to("float32") is x  # nothing to do
    with pytest.raises(TypeError, match="Tensor.to: expected a NumPy dtype .* got 'cuda'"):
        x.to("cuda")


# -- manual_seed ------------------------------------------------------------------------

def make_model_and_run():
    model = nn.Sequential(nn.Linear(4, 6), nn.Dropout(0.5), nn.Linear(6, 2))
    x = Tensor(np.ones((3, 4), np.float32))
    hidden = model[1](model[0](x))  # dropout mask drawn here
    return [p.data.copy() for p in model.parameters()], hidden.data == 0


def test_same_seed_same_weights_and_dropout_masks():
    manual_seed(7)
    weights_a, dropped_a = make_model_and_run()
    noise_a = randn(5).data
    manual_seed(7)
    weights_b, dropped_b = make_model_and_run()
    noise_b = randn(5).data
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dropped_a, dropped_b)
    np.testing.assert_array_equal(noise_a, noise_b)
    assert 0 < dropped_a.sum() < dropped_a.size  # some, not all, were dropped

    manual_seed(8)
    weights_c, dropped_c = make_model_and_run()
    assert not np.array_equal(weights_a[0], weights_c[0])
    assert not np.array_equal(dropped_a, dropped_c)


def test_one_generator_for_init_tensor_randn_and_batches():
    init.manual_seed(3)  # the layers' name for the same thing
    first = default_generator().standard_normal(4)
    manual_seed(3)
    np.testing.assert_array_equal(Tensor.randn(4, dtype=np.float64).data, first)
    manual_seed(3)
    order_a = np.concatenate([b for b in batches(np.arange(10), batch_size=4)])
    manual_seed(3)
    order_b = np.concatenate([b for b in batches(np.arange(10), batch_size=4)])
    np.testing.assert_array_equal(order_a, order_b)
    assert sorted(order_a) == list(range(10)) and list(order_a) != list(range(10))


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_manual_seed_rejects_bad_seeds(seed):
    with pytest.raises(TypeError, match="manual_seed: seed must be a non-negative int"):
        manual_seed(seed)


# -- constructors -----------------------------------------------------------------------

def test_constructors_shapes_dtypes_and_requires_grad():
    z = zeros(2, 3)
    assert z.shape == (2, 3) and z.dtype == np.float32 and not z.requires_grad
    assert (z.data == 0).all()
    o = ones((2, 3), dtype=np.float64, requires_grad=True)
    assert o.dtype == np.float64 and o.requires_grad and o.is_leaf and (o.data == 1).all()
    f = full((2,), 2.5)
    np.testing.assert_array_equal(f.data, [2.5, 2.5])
    assert zeros_like(o).dtype == np.float64 and zeros_like(o).shape == (2, 3)
    assert ones_like(X, dtype=np.float32).dtype == np.float32
    r = rand(1000, requires_grad=True)
    assert r.dtype == np.float32 and r.requires_grad
    assert 0 <= r.data.min() and r.data.max() < 1 and abs(r.data.mean() - 0.5) < 0.05
    n = randn(2000, dtype=np.float64)
    assert n.dtype == np.float64 and abs(n.data.mean()) < 0.1 and abs(n.data.std() - 1) < 0.1


def test_arange():
    i = arange(4)
    assert i.dtype == np.int64
    np.testing.assert_array_equal(i.data, [0, 1, 2, 3])
    f = arange(0, 1, 0.25)
    assert f.dtype == np.float32
    np.testing.assert_array_equal(f.data, [0.0, 0.25, 0.5, 0.75])
    assert arange(2, 5, dtype=np.float64, requires_grad=True).requires_grad
    # integer indices pick one entry per row
    np.testing.assert_array_equal(Tensor(X)[arange(3), np.array([0, 1, 3])].data,
                                  [3.0, 4.0, 2.5])
    with pytest.raises(ValueError, match="arange: step must not be 0"):
        arange(0, 3, 0)


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"zeros: sizes must be >= 0, got shape \(2, -1\)"):
        zeros(2, -1)
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        arange(3, requires_grad=True)


# -- in-place operators ------------------------------------------------------------------

IN_PLACE = {"+=": operator.iadd, "-=": operator.isub, "*=": operator.imul,
            "/=": operator.itruediv}  # operator.iadd(w, v) is what `w += v` runs


@pytest.mark.parametrize("symbol", list(IN_PLACE))
def test_in_place_on_a_leaf_that_requires_grad_is_refused(symbol):
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=f"Tensor [{symbol[0]}]=: a leaf Tensor that "
                                           "requires grad is used in an in-place operation"):
        IN_PLACE[symbol](w, 2.0)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])  # untouched


@pytest.mark.parametrize("symbol,expected", [("+=", [3.0, 4.0]), ("-=", [-1.0, 0.0]),
                                             ("*=", [2.0, 4.0]), ("/=", [0.5, 1.0])])
def test_in_place_under_no_grad_updates_the_same_leaf(symbol, expected):
    w = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        result = IN_PLACE[symbol](w, Tensor(np.array([2.0, 2.0])))  # float64 into float32
    assert result is w and w.is_leaf and w.requires_grad and w.dtype == np.float32
    np.testing.assert_array_equal(w.data, expected)


def test_sgd_by_hand_under_no_grad():
    w = Tensor([3.0], requires_grad=True)
    for _ in range(50):
        loss = (w * w).sum()
        loss.backward()
        with no_grad():
            w -= 0.1 * w.grad
        w.grad = None
    assert abs(w.item()) < 1e-3


def test_in_place_shape_mismatch_under_no_grad_is_a_clear_error():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad(), pytest.raises(ValueError, match=r"Tensor \+=: cannot update a tensor of "
                                                    r"shape \(2,\)"):
        w += np.ones((3, 2))


def test_in_place_on_other_tensors_makes_a_new_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y_before = y
    y *= 3  # a non-leaf: y = y * 3, recorded
    assert y is not y_before and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])

    c = Tensor([1.0, 2.0])  # requires no grad
    alias = c
    c += 1
    np.testing.assert_array_equal(c.data, [2.0, 3.0])
    np.testing.assert_array_equal(alias.data, [1.0, 2.0])  # the old tensor is unchanged


def test_manual_seed_also_fixes_the_gan_noise_and_style_transfer_start():
    import tinygrad_cs as tg
    from models.gan import sample_noise
    tg.manual_seed(3)
    first = sample_noise(2, 4).data
    tg.manual_seed(3)
    np.testing.assert_array_equal(sample_noise(2, 4).data, first)
    assert not np.array_equal(sample_noise(2, 4).data, first)   # the generator moved on
