"""gradcheck and gradgradcheck must catch wrong derivatives (a check that cannot fail is
worth nothing)."""
import re

import numpy as np
import pytest

from tinygrad_cs import Function, GradcheckError, Tensor, gradcheck, gradgradcheck
from tinygrad_cs.gradcheck import gradcheck_module, gradgradcheck_module
from tinygrad_cs.registry import FUNCTIONS

pytestmark = pytest.mark.usefixtures("backend")  # every test on both backends


@pytest.fixture
def broken_ops():
    class WrongSquare(Function):
        """x^2 with a backward that is off by a factor 1.5."""
        def forward(self, x):
            return x * x

        def backward(self, g):
            return g * self.inputs[0] * 3.0

    class FrozenSquare(Function):
        """x^2 with the right first derivative, written on raw arrays: the gradient is a
        constant to autograd, so second derivatives come out wrong."""
        def forward(self, x):
            return x * x

        def backward(self, g):
            return g * Tensor(2.0 * self.inputs[0].data)

    yield WrongSquare, FrozenSquare
    del FUNCTIONS["WrongSquare"], FUNCTIONS["FrozenSquare"]


def x64(shape=(3,), seed=0):
    return Tensor(np.random.default_rng(seed).uniform(-1, 1, shape), requires_grad=True)


def test_gradcheck_catches_a_wrong_gradient_and_says_where(broken_ops):
    wrong, _ = broken_ops
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(2, 2\)\) at input index"):
        gradcheck(lambda x: wrong.apply(x), [x64((2, 2))])
    assert gradcheck(lambda x: wrong.apply(x), [x64()], raise_exception=False) is False


def test_fast_mode_catches_it_too(broken_ops):
    wrong, _ = broken_ops
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(lambda x: wrong.apply(x), [x64((4, 5))], fast_mode=True)
    assert gradcheck(lambda x: (x * x).sum(axis=0), [x64((4, 5))], fast_mode=True)


def test_gradgradcheck_catches_a_non_differentiable_backward(broken_ops):
    _, frozen = broken_ops
    assert gradcheck(lambda x: frozen.apply(x), [x64()])  # first order is right
    with pytest.raises(GradcheckError, match="gradgradcheck"):
        gradgradcheck(lambda x: frozen.apply(x), [x64()])


def test_float32_inputs_warn_and_are_checked_in_float64():
    x = Tensor(np.array([0.3, -0.7], np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        assert gradcheck(lambda t: t.exp(), [x])


def test_multiple_outputs_and_constant_inputs():
    a, b = x64((2,), 1), Tensor(np.array([1.0, 2.0]))
    assert gradcheck(lambda x, c: (x * c, x.exp()), [a, b])
    assert gradgradcheck(lambda x, c: (x * c, x.exp()), [a, b])


def test_nothing_to_check_is_an_error():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x * 2, [Tensor(np.ones(2))])


# -- checks that would pass without checking anything -----------------------------------------

def test_an_input_that_does_not_affect_the_output_is_an_error():
    x, b, w = x64((3,), 1), x64((3,), 2), x64((3,), 3)
    captured = Tensor(w.data.copy(), requires_grad=True)

    def uses_the_captured_weight(x, b, w_arg):
        return x * captured + b  # w_arg is ignored: perturbing it changes nothing

    message = ("gradcheck: input 2 (shape (3,)) does not affect the output: does the function "
               "use a tensor it captured instead of its argument?")
    with pytest.raises(GradcheckError, match=re.escape(message)):
        gradcheck(uses_the_captured_weight, [x, b, w])
    with pytest.raises(GradcheckError, match=re.escape(message)):
        gradcheck(uses_the_captured_weight, [x, b, w], fast_mode=True)
    assert gradcheck(uses_the_captured_weight, [x, b, w], raise_exception=False) is False
    assert gradcheck(uses_the_captured_weight, [x, b, w], allow_unused=True)
    assert gradcheck(uses_the_captured_weight, [x, b, w], allow_unused=[False, False, True])
    assert gradcheck(lambda x, b, w: x * w + b, [x, b, w])  # the honest version


def test_gradgradcheck_finds_an_unused_x_but_allows_a_zero_second_derivative():
    x, w = x64((3,), 1), x64((3,), 2)
    with pytest.raises(GradcheckError, match=r"gradgradcheck: x input 1 \(shape \(3,\)\) does "
                                             "not affect the output"):
        gradgradcheck(lambda x, w: x * 2.0, [x, w])
    assert gradgradcheck(lambda x, w: x * w + x, [x, w])  # linear in each: zero Hessian blocks


def test_the_data_hint_and_which_of_x_and_v(broken_ops):
    _, frozen = broken_ops  # d(x^2) = g * 2x with 2x taken from .data: constant in x
    with pytest.raises(GradcheckError, match=r"for x input 0 \(shape \(3,\)\).*analytic 0 vs "
                                             r"numerical .*not recorded.*Tensor ops") as e:
        gradgradcheck(lambda x: frozen.apply(x), [x64()])
    assert "`.data`" in str(e.value)

    class LostCotangent(Function):
        """x^2 whose backward reads g's array: right in x, a constant in v."""
        def forward(self, x):
            return x * x

        def backward(self, g):
            return Tensor(g.data) * 2 * self.inputs[0]

    try:
        assert gradcheck(lambda x: LostCotangent.apply(x), [x64()])
        with pytest.raises(GradcheckError, match=r"v \(the random cotangent\) of output 0 "
                                                 r"\(shape \(3,\)\).*analytic 0 vs.*`\.data`"):
            gradgradcheck(lambda x: LostCotangent.apply(x), [x64()])
    finally:
        del FUNCTIONS["LostCotangent"]


def test_no_hint_when_the_analytic_value_is_not_zero(broken_ops):
    wrong, _ = broken_ops
    with pytest.raises(GradcheckError) as e:
        gradcheck(lambda x: wrong.apply(x), [x64((2,))])
    assert ".data" not in str(e.value)


# -- modules: inputs and parameters --------------------------------------------------------

@pytest.fixture
def broken_linear():
    """A Linear layer whose weight gradient is off by a factor 2 (input and bias are right)."""
    import layers as nn

    class DoubledWeightGrad(Function):
        def forward(self, x, w, b):
            return x @ w.T + b

        def backward(self, g):
            x, w, _ = self.inputs
            return g @ w, (g.T @ x) * 2.0, g.sum(axis=0)

    class BrokenLinear(nn.Module):
        def __init__(self):
            super().__init__()
            rng = np.random.default_rng(0)
            self.weight = nn.Parameter(rng.uniform(-1, 1, (2, 3)))
            self.bias = nn.Parameter(rng.uniform(-1, 1, 2))

        def forward(self, x):
            return DoubledWeightGrad.apply(x, self.weight, self.bias)

    yield BrokenLinear()
    del FUNCTIONS["DoubledWeightGrad"]


def test_gradcheck_module_catches_a_wrong_weight_gradient(broken_linear):
    m, x = broken_linear, x64((4, 3))
    weight, bias = m.weight, m.bias
    with pytest.raises(GradcheckError, match=r"gradcheck_module\(BrokenLinear\): Jacobian "
                                             r"mismatch for parameter weight \(shape \(2, 3\)\)"):
        gradcheck_module(m, x)
    assert m.weight is weight and m.bias is bias  # the real Parameters are back
    assert list(m._parameters.values()) == [weight, bias]
    # the old way (parameters as arguments the function never reads) is now refused too
    with pytest.raises(GradcheckError, match="input 1 .*captured instead of its argument"):
        gradcheck(lambda inp, *params: m(inp), [x] + m.parameters())


def test_gradcheck_module_checks_frozen_modules_and_restores_buffers():
    import layers as nn
    bn = nn.BatchNorm1d(3).to(np.float64)  # training mode: every call updates the buffers
    state = bn.state_dict()
    x = x64((4, 3))
    assert gradcheck_module(bn, x)
    assert gradgradcheck_module(bn, x)
    for key, value in bn.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)
    frozen = nn.Linear(3, 2).requires_grad_(False)  # float32 weights, constants here
    assert gradcheck_module(frozen, x)
    with pytest.raises(ValueError, match="no input has requires_grad"):
        gradcheck_module(frozen, Tensor(x.data))
    with pytest.raises(TypeError, match=r"gradcheck_module: input 0 is a list, not a Tensor; "
                                        r"pass the inputs one by one"):
        gradcheck_module(bn, [x])
    with pytest.raises(TypeError, match="gradgradcheck_module: expected a Module"):
        gradgradcheck_module(lambda t: t * 2, x)


def test_gradgradcheck_module_names_parameters_and_cotangents():
    import layers as nn

    class FrozenScale(Function):
        """y = w * x whose backward for x uses w's array: d/dw of it is lost."""
        def forward(self, x, w):
            return x * w

        def backward(self, g):
            x, w = self.inputs
            return g * Tensor(w.data), g * x

    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.array([0.5, -1.5, 2.0]))

        def forward(self, x):
            return FrozenScale.apply(x, self.w)

    try:
        assert gradcheck_module(Scale(), x64())
        with pytest.raises(GradcheckError, match=r"gradgradcheck_module\(Scale\): Jacobian "
                                                 r"mismatch for parameter w \(shape \(3,\)\)"):
            gradgradcheck_module(Scale(), x64())
    finally:
        del FUNCTIONS["FrozenScale"]
