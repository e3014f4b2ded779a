"""Every registered op passes first- and second-order gradient checks in float64, and its
output agrees with an independent NumPy reference."""
import numpy as np
import pytest

import tinygrad_cs  # noqa: F401  (imports every op module, filling the registry)
from tinygrad_cs import Function, GradcheckError, Tensor, gradcheck, gradgradcheck
from tinygrad_cs.registry import (FUNCTIONS, Case, Input, all_ops, ops_without_cases,
                                  ops_without_forward_reference)

pytestmark = pytest.mark.usefixtures("backend")  # every test on both backends

ALL = all_ops()
PARAMS = [pytest.param(name, k, id=f"{name}-{k}")
          for name, cases in sorted(ALL.items()) for k in range(max(len(cases), 1))]
WITH_FORWARD = [pytest.param(name, k, id=f"{name}-{k}") for name, cases in sorted(ALL.items())
                for k, case in enumerate(cases) if case.forward is not None]


def test_every_op_has_a_gradcheck_case():
    assert ops_without_cases() == [], "ops without gradcheck cases: add a Case next to them"


def test_every_op_has_a_forward_reference():
    assert ops_without_forward_reference() == [], (
        "ops whose output nothing checks: give one of their Cases a forward= reference")


def test_an_op_without_cases_is_noticed():
    class Uncovered(Function):  # registered automatically, with no cases
        def forward(self, x):
            return x

    try:
        assert "Uncovered" in ops_without_cases()
        assert "Uncovered" in ops_without_forward_reference()
    finally:
        del FUNCTIONS["Uncovered"]
    assert "Uncovered" not in ops_without_cases()


def test_an_op_whose_cases_lack_a_forward_reference_is_noticed():
    class Unreferenced(Function):
        def forward(self, x):
            return x

        def backward(self, g):
            return g

        cases = [Case(lambda x: Unreferenced.apply(x), [Input((2,))])]

    try:
        assert "Unreferenced" not in ops_without_cases()
        assert "Unreferenced" in ops_without_forward_reference()
    finally:
        del FUNCTIONS["Unreferenced"]


def case_of(name, k):
    if not ALL[name]:
        pytest.fail(f"op {name} has no gradcheck case")
    return ALL[name][k]


def label(name, k):
    description = ALL[name][k].description
    return f"{name} case {k}" + (f" ({description})" if description else "")


def check_forward(case, name):
    """The op's output (through ``case.fn``) against ``case.forward`` on the same arrays."""
    tensors = case.draw(np.random.default_rng(7))
    got = case.fn(*tensors)
    got = list(got) if isinstance(got, (tuple, list)) else [got]
    want = case.forward(*[t.data.copy() for t in tensors])
    want = list(want) if isinstance(want, (tuple, list)) else [want]
    assert len(got) == len(want), f"{name}: {len(got)} outputs, the reference gives {len(want)}"
    for j, (g, w) in enumerate(zip(got, want)):
        w = np.asarray(w)
        assert g.shape == w.shape, f"{name}, output {j}: shape {g.shape}, reference {w.shape}"
        np.testing.assert_allclose(g.data, w, rtol=1e-9, atol=1e-12,
                                   err_msg=f"{name}, output {j}: forward differs from the "
                                           "NumPy reference")


@pytest.mark.parametrize("name,k", WITH_FORWARD)
def test_forward_matches_the_numpy_reference(name, k):
    check_forward(ALL[name][k], label(name, k))


@pytest.mark.parametrize("name,k", PARAMS)
def test_gradcheck(name, k):
    case = case_of(name, k)
    assert gradcheck(case.fn, case.draw(np.random.default_rng(k)),
                     name=f"gradcheck of {label(name, k)}")


@pytest.mark.parametrize("name,k", PARAMS)
def test_gradgradcheck(name, k):
    case = case_of(name, k)
    if case.gradgrad:  # a case that is first-order only says why, next to it
        assert gradgradcheck(case.fn, case.draw(np.random.default_rng(100 + k)),
                             name=f"gradgradcheck of {label(name, k)}")


# -- the checks can fail ------------------------------------------------------------------

@pytest.fixture
def triple_instead_of_double():
    """x -> 3x where 2x is meant, with the matching backward (3 g): self-consistent, wrong."""
    class Double(Function):
        def forward(self, x):
            return 3 * x

        def backward(self, g):
            return 3 * g

        cases = [Case(lambda x: Double.apply(x), [Input((3,))], forward=lambda x: x + x)]

    yield Double
    del FUNCTIONS["Double"]


def test_a_wrong_forward_with_a_matching_backward_is_caught_by_the_forward_check_only(
        triple_instead_of_double):
    case = triple_instead_of_double.cases[0]
    assert gradcheck(case.fn, case.draw(np.random.default_rng(0)))
    assert gradgradcheck(case.fn, case.draw(np.random.default_rng(0)))
    with pytest.raises(AssertionError, match="Double case 0, output 0: forward differs from "
                                             "the NumPy reference"):
        check_forward(case, "Double case 0")


def test_messages_name_the_op_and_the_case():
    class Halved(Function):
        def forward(self, x):
            return x * x

        def backward(self, g):
            return g * self.inputs[0]  # the derivative is 2x

    try:
        with pytest.raises(GradcheckError, match=r"^gradcheck of Halved case 0 \(squares\): "
                                                  r"Jacobian mismatch for input 0"):
            gradcheck(lambda x: Halved.apply(x), [Tensor(np.array([0.5, -1.0]), True)],
                      name="gradcheck of Halved case 0 (squares)")
    finally:
        del FUNCTIONS["Halved"]

