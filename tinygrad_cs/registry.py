"""The op registry: every op, and how to gradcheck it.

Two kinds of ops are registered:

* **primitive ops** -- every subclass of ``autograd.Function`` registers itself when it is
  defined; its gradcheck cases are the class attribute ``cases``;
* **composite ops** -- functions built from other ops (``softmax``, ``mean``, the losses),
  registered with the ``@composite(cases=[...])`` decorator.

``tests/test_registry.py`` enumerates :func:`all_ops` and runs gradcheck (and gradgradcheck
where a case says so) on every case.  An op with an empty ``cases`` list makes that test
fail, so a new op cannot slip in unchecked.

A case is a function of Tensors plus a description of the inputs::

    Case(lambda x: x.exp(), [Input((3, 4))])
    Case(lambda x: x.log(), [Input((3, 4), "positive")])
    Case(lambda x: x.relu(), [Input((3, 4), "away_from_zero")])   # no point near the kink
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

FUNCTIONS: dict = {}   # name -> Function subclass
COMPOSITES: dict = {}  # name -> list of Case


def register_function(cls):
    if cls.__module__.startswith("tinygrad_cs.autograd"):
        return
    FUNCTIONS[cls.__name__] = cls


@dataclass
class Input:
    """How to draw one float64 input of a gradcheck case.

    domain:
      ``"real"``            uniform in [-2, 2]
      ``"positive"``        uniform in [0.5, 2]   (log, sqrt, pow with a tensor exponent)
      ``"away_from_zero"``  |x| uniform in [0.2, 2], random sign (relu, abs: kink at 0)
      ``"distinct"``        a shuffled grid with spacing 0.3 (max: no ties)
      ``"unit"``            uniform in [0.1, 0.9]
    requires_grad=False makes a constant input (e.g. targets of a loss).
    """

    shape: tuple
    domain: str = "real"
    requires_grad: bool = True

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        n = int(np.prod(self.shape))
        if self.domain == "real":
            x = rng.uniform(-2, 2, n)
        elif self.domain == "positive":
            x = rng.uniform(0.5, 2, n)
        elif self.domain == "away_from_zero":
            x = rng.uniform(0.2, 2, n) * rng.choice([-1.0, 1.0], n)
        elif self.domain == "distinct":
            x = (rng.permutation(n) - n / 2) * 0.3
        elif self.domain == "unit":
            x = rng.uniform(0.1, 0.9, n)
        else:
            raise ValueError(f"Input.draw: unknown domain {self.domain!r}")
        return x.reshape(self.shape).astype(np.float64)


@dataclass
class Case:
    """One gradcheck case: ``fn(*tensors)`` with inputs drawn from ``inputs``.

    ``gradgrad=False`` skips the second-order check (only for ops that are never used under
    ``create_graph=True``; say why next to the case).  ``make_inputs(rng)`` may replace
    ``inputs`` when the inputs must satisfy a joint condition (e.g. ``a != b``).
    """

    fn: Callable
    inputs: Sequence[Input] = ()
    gradgrad: bool = True
    make_inputs: Callable | None = None
    description: str = ""
    requires_grad: Sequence[bool] | None = None

    def draw(self, rng):
        """The case's inputs as float64 Tensors."""
        from .tensor import Tensor
        if self.make_inputs is not None:
            arrays = self.make_inputs(rng)
            flags = self.requires_grad or [True] * len(arrays)
        else:
            arrays = [spec.draw(rng) for spec in self.inputs]
            flags = [spec.requires_grad for spec in self.inputs]
        return [Tensor(a, requires_grad=f) for a, f in zip(arrays, flags)]


def composite(cases: Sequence[Case]):
    """Decorator registering a composite op (a function of other ops) with its cases."""
    def register(fn):
        COMPOSITES[fn.__name__] = list(cases)
        return fn
    return register


def all_ops() -> dict:
    """name -> list of cases, for every primitive and composite op."""
    ops = {name: list(cls.cases) for name, cls in FUNCTIONS.items()}
    for name, cases in COMPOSITES.items():
        ops.setdefault(name, []).extend(cases)
    return ops


def ops_without_cases() -> list:
    return sorted(name for name, cases in all_ops().items() if not cases)
