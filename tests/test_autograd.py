"""Semantics of backward, grad, create_graph and no_grad."""
import numpy as np
import pytest

import tinygrad_cs as tg
from tinygrad_cs import Tensor, grad, no_grad

pytestmark = pytest.mark.usefixtures("backend")  # every test on both backends


def t64(a, requires_grad=True):
    return Tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_tensor_used_several_times_accumulates():
    x = t64([1.0, -2.0, 3.0])
    y = (x * x + x * 3.0 + x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 4)


def test_gradient_sums_never_write_into_a_callers_array():
    # `a` and `x` each receive the caller's gradient array several times (Add passes it
    # through unchanged).  The sums are done in place after the first addition; the
    # caller's array must stay as it was, and the sums must still be right.
    x = t64([0.5, -1.0])
    a = x.exp()
    upstream = np.array([1.0, 2.0])
    (a + a + a + x + x + x).backward(Tensor(upstream))
    np.testing.assert_array_equal(upstream, [1.0, 2.0])
    np.testing.assert_allclose(x.grad.data, upstream * (3 * np.exp(x.data) + 3))
    a = x.exp()
    gx, = grad(a + a + a, x, Tensor(upstream))
    np.testing.assert_array_equal(upstream, [1.0, 2.0])
    np.testing.assert_allclose(gx.data, 3 * upstream * np.exp(x.data))


def test_second_backward_accumulates_into_leaves_only():
    x = t64([1.0, 2.0])
    h = x * 3.0
    y = (h * h).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)
    assert h.grad is None  # intermediates are not polluted


def test_backward_through_freed_graph_raises():
    x = t64([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_on_non_scalar_needs_grad():
    x = t64(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\)"):
        (x * 2).backward()
    (x * 2).backward(np.ones((2, 3)))
    np.testing.assert_allclose(x.grad.data, 2 * np.ones((2, 3)))


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="int64"):
        Tensor([1, 2, 3], requires_grad=True)


def test_backward_without_requires_grad_raises():
    with pytest.raises(RuntimeError, match="requires_grad"):
        Tensor([1.0]).sum().backward()


def test_deep_chain_has_no_recursion_limit():
    x = t64([0.5])
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0001 ** 10_000], rtol=1e-9)
    del y  # freeing a 20,000-node graph must not overflow the C stack either


def test_no_grad_records_nothing_and_is_a_decorator():
    x = t64([1.0, 2.0])
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @no_grad()
    def f(t):
        return t * 3

    assert f(x).grad_fn is None
    assert (x * 3).grad_fn is not None  # recording is back on afterwards


def test_detach_and_requires_grad_():
    x = t64([1.0, 2.0])
    d = (x * 2).detach()
    assert d.grad_fn is None and not d.requires_grad
    d.requires_grad_()
    (d * d).sum().backward()
    np.testing.assert_allclose(d.grad.data, [4.0, 8.0])
    assert x.grad is None


def test_default_backward_records_nothing_create_graph_does():
    x = t64([2.0])
    (x ** 3).sum().backward()
    assert x.grad.grad_fn is None
    x.grad = None
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None
    (g,) = grad(x.grad.sum(), x)
    np.testing.assert_allclose(g.data, 6 * x.data)  # d²/dx² x³ = 6x


def test_grad_does_not_touch_dot_grad_and_handles_non_leaves():
    x = t64([1.0, 2.0])
    h = x * x
    y = (h * 3.0).sum()
    gh, gx = grad(y, [h, x])
    np.testing.assert_allclose(gh.data, [3.0, 3.0])
    np.testing.assert_allclose(gx.data, 6 * x.data)
    assert x.grad is None


def test_grad_unused_input():
    x, z = t64([1.0]), t64([2.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        grad((x * 2).sum(), [x, z], retain_graph=True)
    gx, gz = grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None and gx.data[0] == 2.0


def _mlp(params, x):
    w1, b1, w2, b2 = params
    return ((x @ w1 + b1).tanh() @ w2 + b2).sum()


def test_hessian_vector_product_matches_finite_differences():
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,), (4, 2), (2,)]
    values = [rng.standard_normal(s) for s in shapes]
    x = Tensor(rng.standard_normal((5, 3)))
    v = [rng.standard_normal(s) for s in shapes]

    def gradient(vals):
        params = [t64(a) for a in vals]
        gs = grad(_mlp(params, x), params, create_graph=True)
        return params, gs

    params, gs = gradient(values)
    dot = sum((g * Tensor(vi)).sum() for g, vi in zip(gs, v))
    hvp = grad(dot, params, allow_unused=True)  # b2's gradient is constant: its HVP is None
    eps = 1e-6
    _, g_plus = gradient([a + eps * vi for a, vi in zip(values, v)])
    _, g_minus = gradient([a - eps * vi for a, vi in zip(values, v)])
    assert hvp[3] is None
    for h, gp, gm in zip(hvp[:3], g_plus, g_minus):
        np.testing.assert_allclose(h.data, (gp.data - gm.data) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_gradient_penalty_reaches_discriminator_weights():
    rng = np.random.default_rng(1)
    w1 = Tensor(rng.standard_normal((4, 8)) * 0.5, requires_grad=True)
    w2 = Tensor(rng.standard_normal((8, 1)) * 0.5, requires_grad=True)
    x = Tensor(rng.standard_normal((6, 4)), requires_grad=True)
    d_out = (x @ w1).leaky_relu(0.2).tanh() @ w2
    (gx,) = grad(d_out.sum(), x, create_graph=True)
    penalty = ((gx.norm(axis=1) - 1) ** 2).mean()
    penalty.backward()
    assert w1.grad is not None and np.abs(w1.grad.data).max() > 1e-6
    assert w2.grad is not None and np.abs(w2.grad.data).max() > 1e-6
    # and a step along -grad lowers the penalty
    before = penalty.item()
    w1b = Tensor(w1.data - 0.01 * w1.grad.data, requires_grad=True)
    w2b = Tensor(w2.data - 0.01 * w2.grad.data, requires_grad=True)
    x2 = Tensor(x.data, requires_grad=True)
    (gx2,) = grad(((x2 @ w1b).leaky_relu(0.2).tanh() @ w2b).sum(), x2, create_graph=True)
    assert ((gx2.norm(axis=1) - 1) ** 2).mean().item() < before


def test_dtypes():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(1.5).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.int64
    assert Tensor(np.zeros(2)).dtype == np.float64
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.5 + 1 - x / 3.0) ** 2
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_mixed_precision_gradient_has_the_leaf_dtype():
    a = Tensor(np.ones(2, np.float32), requires_grad=True)
    b = Tensor(np.ones(2, np.float64), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_comparisons_give_boolean_tensors_without_grad():
    x = Tensor([1.0, -1.0], requires_grad=True)
    m = x > 0
    assert m.dtype == bool and not m.requires_grad
    assert (x == Tensor([1.0, 0.0])).tolist() == [True, False]


def test_reflected_operators_and_numpy_on_the_left():
    x = t64([1.0, 2.0])
    y = 1.0 - x + 2.0 * x + 3.0 / x + 2.0 ** x + np.array([1.0, 1.0]) * x
    y.sum().backward()
    expected = -1 + 2 - 3 / x.data ** 2 + np.log(2) * 2 ** x.data + 1
    np.testing.assert_allclose(x.grad.data, expected)


def test_tensor_properties_and_repr():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.T.shape == (3, 2)
    assert x[0, 1].item() == 1.0
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    x.grad = Tensor(np.ones((2, 3)))
    x.zero_grad()
    assert x.grad is None


def test_draw_graph(tmp_path):
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    dot = tg.draw_graph(y, path=tmp_path / "g.dot")
    assert dot.startswith("digraph") and "Exp" in dot and "Mul" in dot and "Sum" in dot
    assert (tmp_path / "g.dot").read_text() == dot
    assert dot.count("->") == 5  # x->Exp, Exp->Mul, x->Mul, Mul->Sum, Sum->y


def test_each_leaf_gets_a_gradient_array_of_its_own_that_can_be_written():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    ((a + b) * Tensor([5.0, 6.0])).sum().backward()     # Add passes one g to both inputs
    assert a.grad.data is not b.grad.data
    np.clip(a.grad.data, -1, 1, out=a.grad.data)           # clipping one leaves the other
    np.testing.assert_array_equal(b.grad.data, [5.0, 6.0])
    c = Tensor([1.0, 2.0], requires_grad=True)
    c.sum().backward()                                     # a sum's gradient: a broadcast view
    c.grad.data += 1
    np.testing.assert_array_equal(c.grad.data, [2.0, 2.0])


def test_mistakes_in_a_new_op_are_named():
    from tinygrad_cs.registry import FUNCTIONS

    class ReturnsTensor(tg.Function):
        def forward(self, x):
            return Tensor(x)

    class BackwardInNumpy(tg.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, g):
            return 2 * g.data

    class WrongShape(tg.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, g):
            return (2 * g).sum()

    class TooFew(tg.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, g):
            return g * self.inputs[1]

    try:
        x = Tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(ValueError, match=r"WrongShape.backward returned a gradient of shape "
                                             r"\(\) for input 0 of shape \(2,\)"):
            WrongShape.apply(x).sum().backward()
        with pytest.raises(TypeError, match=r"TooFew.backward returned 1 gradient\(s\) for 2 "
                                            r"input\(s\)"):
            TooFew.apply(x, Tensor([3.0, 4.0], requires_grad=True)).sum().backward()
        with pytest.raises(TypeError, match="ReturnsTensor.forward returned a Tensor"):
            ReturnsTensor.apply(x)
        with pytest.raises(TypeError, match="BackwardInNumpy.backward returned a ndarray for "
                                            "input 0; backward must return Tensors"):
            BackwardInNumpy.apply(x).sum().backward()
    finally:
        for name in ("ReturnsTensor", "BackwardInNumpy", "WrongShape", "TooFew"):
            FUNCTIONS.pop(name, None)
