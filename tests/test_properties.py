"""Property tests: forward results equal NumPy's, gradients have the right shape and value,
for random broadcastable shapes and random reduction axes."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_cs import Tensor

SETTINGS = settings(max_examples=40, deadline=None)
finite = st.floats(-3, 3, allow_nan=False, width=64)


@st.composite
def broadcast_pair(draw):
    shape_a, shape_b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4,
                                                               max_side=4)).input_shapes
    a = draw(hnp.arrays(np.float64, shape_a, elements=finite))
    b = draw(hnp.arrays(np.float64, shape_b, elements=st.floats(0.5, 3, width=64)))
    return a, b


BINARY = {
    "add": (lambda x, y: x + y, np.add),
    "sub": (lambda x, y: x - y, np.subtract),
    "mul": (lambda x, y: x * y, np.multiply),
    "div": (lambda x, y: x / y, np.divide),
    "maximum": (lambda x, y: x.maximum(y), np.maximum),
}


@SETTINGS
@given(broadcast_pair(), st.sampled_from(sorted(BINARY)))
def test_binary_ops_broadcast_like_numpy(pair, name):
    a, b = pair
    ours, theirs = BINARY[name]
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = ours(ta, tb)
    np.testing.assert_allclose(out.data, theirs(a, b))
    out.sum().backward()
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape


@SETTINGS
@given(broadcast_pair())
def test_mul_gradient_is_the_unbroadcast_other_operand(pair):
    a, b = pair
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (ta * tb).sum().backward()
    full = np.broadcast_shapes(a.shape, b.shape)
    expected_a = np.broadcast_to(b, full).copy()
    # sum the broadcast copy back to a's shape by hand
    while expected_a.ndim > a.ndim:
        expected_a = expected_a.sum(0)
    for i, n in enumerate(a.shape):
        if n == 1:
            expected_a = expected_a.sum(i, keepdims=True)
    np.testing.assert_allclose(ta.grad.data, expected_a)


@st.composite
def array_and_axes(draw):
    x = draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=4),
                        elements=finite))
    axes = draw(st.none() | st.lists(st.integers(0, x.ndim - 1), min_size=1, unique=True))
    axis = None if axes is None else (axes[0] if len(axes) == 1 else tuple(axes))
    return x, axis, draw(st.booleans())


@SETTINGS
@given(array_and_axes(), st.sampled_from(["sum", "mean", "max", "min"]))
def test_reductions_match_numpy(data, op):
    x, axis, keepdims = data
    t = Tensor(x, requires_grad=True)
    out = getattr(t, op)(axis=axis, keepdims=keepdims)
    expected = getattr(np, op)(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, expected)
    out.sum().backward()
    assert t.grad.shape == x.shape
    if op == "sum":
        np.testing.assert_allclose(t.grad.data, np.ones_like(x))
    if op in ("max", "min"):  # each reduced slice passes on exactly one unit of gradient
        np.testing.assert_allclose(t.grad.data.sum(axis=axis),
                                   np.ones(np.shape(np.max(x, axis=axis))))


@SETTINGS
@given(array_and_axes())
def test_var_matches_numpy(data):
    x, axis, keepdims = data
    n = x.size if axis is None else np.prod([x.shape[a] for a in np.atleast_1d(axis)])
    if n < 2:
        return
    out = Tensor(x).var(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, np.var(x, axis=axis, keepdims=keepdims, ddof=1),
                               atol=1e-12)


@SETTINGS
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                  elements=st.floats(-50, 50, width=64)))
def test_softmax_rows_sum_to_one_and_log_softmax_is_stable(x):
    t = Tensor(x)
    np.testing.assert_allclose(t.softmax(axis=-1).data.sum(-1), 1.0, rtol=1e-12)
    ls = t.log_softmax(axis=-1).data
    assert np.isfinite(ls).all()
    shifted = x - x.max(-1, keepdims=True)
    np.testing.assert_allclose(ls, shifted - np.log(np.exp(shifted).sum(-1, keepdims=True)),
                               atol=1e-12)
