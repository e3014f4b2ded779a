"""The op registry: every op, and how to gradcheck it.

Two kinds of ops are registered:

* **primitive ops** -- every subclass of ``autograd.Function`` registers itself when it is
  defined; its gradcheck cases are the class attribute ``cases``;
* **composite ops** -- functions built from other ops (``softmax``, ``mean``, the losses),
  registered with the ``@composite(cases=[...])`` decorator.

``tests/test_registry.py`` enumerates :func:`all_ops` and runs gradcheck (and gradgradcheck
where a case says so) on every case, and compares the output of every case that has a
``forward`` reference with it.  An op with no case, or with no case carrying a forward
reference, makes that test fail, so a new op cannot slip in unchecked.

A case is a function of Tensors, a description of the inputs and, optionally, the same
function written in plain NumPy::

    Case(lambda x: x.exp(), [Input((3, 4))], forward=np.exp)
    Case(lambda x: x.log(), [Input((3, 4), "positive")], forward=np.log)
    Case(lambda x: x.relu(), [Input((3, 4), "away_from_zero")],   # no point near the kink
         forward=lambda x: np.maximum(x, 0))

Why both checks: gradcheck compares backward with finite differences *of the forward*, so
a forward that is wrong in a way its backward matches (say both use 3x where 2x is meant)
passes it.  Only a reference written independently of the op catches that.  References
too long for a lambda (convolution, pooling) are in ``tinygrad_cs/oracles.py``, reached
as ``Case.oracle``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from . import oracles as _oracles

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
    ``forward(*arrays)``: the expected output of ``fn`` computed from the same float64
    input arrays with NumPy (or SciPy) alone -- never with the op under test or the
    engine's kernels.  Every op needs at least one case with a ``forward``.
    """

    fn: Callable
    inputs: Sequence[Input] = ()
    gradgrad: bool = True
    make_inputs: Callable | None = None
    description: str = ""
    requires_grad: Sequence[bool] | None = None
    forward: Callable | None = None

    # the loop-and-SciPy references of convolution and pooling, for ``forward=``
    oracle = _oracles

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


def ops_without_forward_reference() -> list:
    """Ops none of whose cases has a ``forward`` reference (the forward goes unchecked)."""
    return sorted(name for name, cases in all_ops().items()
                  if not any(case.forward is not None for case in cases))
