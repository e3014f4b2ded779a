"""Every registered op passes first- and second-order gradient checks in float64."""
import numpy as np
import pytest

import tinygrad_cs  # noqa: F401  (imports every op module, filling the registry)
from tinygrad_cs import Function, gradcheck, gradgradcheck
from tinygrad_cs.registry import FUNCTIONS, all_ops, ops_without_cases

pytestmark = pytest.mark.usefixtures("backend")  # every test on both backends

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


def case_of(name, k):
    if not ALL[name]:
        pytest.fail(f"op {name} has no gradcheck case")
    return ALL[name][k]


@pytest.mark.parametrize("name,k", PARAMS)
def test_gradcheck(name, k):
    case = case_of(name, k)
    assert gradcheck(case.fn, case.draw(np.random.default_rng(k)))


@pytest.mark.parametrize("name,k", PARAMS)
def test_gradgradcheck(name, k):
    case = case_of(name, k)
    if case.gradgrad:  # a case that is first-order only says why, next to it
        assert gradgradcheck(case.fn, case.draw(np.random.default_rng(100 + k)))
