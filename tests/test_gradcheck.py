"""gradcheck and gradgradcheck must catch wrong derivatives (a check that cannot fail is
worth nothing)."""
import numpy as np
import pytest

from tinygrad_cs import Function, GradcheckError, Tensor, gradcheck, gradgradcheck
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
