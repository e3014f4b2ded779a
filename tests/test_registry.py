"""Every registered op passes first- and second-order gradient checks in float64."""
import numpy as np
import pytest

import tinygrad_cs  # noqa: F401  (imports every op module, filling the registry)
from tinygrad_cs import Function, gradcheck, gradgradcheck
from tinygrad_cs.registry import FUNCTIONS, all_ops, ops_without_cases

ALL = all_ops()
PARAMS = [pytest.param(name, k, id=f"{name}-{k}")
          for name, cases in sorted(ALL.items()) for k in range(max(len(cases), 1))]


def test_every_op_has_a_gradcheck_case():
    assert ops_without_cases() == [], "ops without gradcheck cases: add a Case next to them"


def test_an_op_without_cases_is_noticed():
    class Uncovered(Function):  # registered automatically, with no cases
        def forward(self, x):
            return x

    try:
        assert "Uncovered" in ops_without_cases()
    finally:
        del FUNCTIONS["Uncovered"]
    assert "Uncovered" not in ops_without_cases()


@pytest.mark.parametrize("name,k", PARAMS)
def test_gradcheck(name, k):
    cases = ALL[name]
    if not cases:
        pytest.fail(f"op {name} has no gradcheck case")
    case = cases[k]
    inputs = case.draw(np.random.default_rng(k))
    assert gradcheck(case.fn, inputs)


@pytest.mark.parametrize("name,k", PARAMS)
def test_gradgradcheck(name, k):
    cases = ALL[name]
    if not cases:
        pytest.fail(f"op {name} has no gradcheck case")
    case = cases[k]
    if not case.gradgrad:
        return  # the case says why it is first-order only
    inputs = case.draw(np.random.default_rng(100 + k))
    assert gradgradcheck(case.fn, inputs)
