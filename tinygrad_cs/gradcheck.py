"""Finite-difference checks of the analytic gradients.

``gradcheck`` compares the Jacobian that backward computes with central differences

    dJ[:, k] ~= (f(x + eps e_k) - f(x - eps e_k)) / (2 eps)

in float64 (in float32 the rounding error of f would swamp the difference quotient).
``gradgradcheck`` applies the same check to the function  (x, v) -> vᵀ ∂f/∂x  computed with
``create_graph=True``, which tests the second derivatives.
"""
from __future__ import annotations

import warnings

import numpy as np

from .autograd import enable_grad, grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when analytic and numerical derivatives disagree."""


# ---------------------------------------------------------------------------------------

def _as_float64_inputs(inputs):
    out, warned = [], False
    for x in inputs:
        t = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
        if t.dtype == np.float32 and t.requires_grad and not warned:
            warnings.warn("gradcheck: float32 inputs are cast to float64; finite differences "
                          "in float32 are too inaccurate to check anything.", stacklevel=3)
            warned = True
        if np.issubdtype(t.dtype, np.floating):
            out.append(Tensor(t.data.astype(np.float64), requires_grad=t.requires_grad))
        else:
            out.append(t)
    return out


def _as_list(y):
    return list(y) if isinstance(y, (tuple, list)) else [y]


def _flat_outputs(fn, arrays, flags):
    """Evaluate fn on fresh tensors made of ``arrays``; all outputs flattened, concatenated."""
    with enable_grad():  # fn may itself differentiate (gradgradcheck), so keep recording
        ys = _as_list(fn(*[Tensor(a, requires_grad=f) for a, f in zip(arrays, flags)]))
    return np.concatenate([np.asarray(y.data, np.float64).ravel() for y in ys])


def _numerical_jacobian(fn, arrays, flags, i, eps):
    x = arrays[i]
    columns = []
    for k in range(x.size):
        old = x.flat[k]
        x.flat[k] = old + eps
        plus = _flat_outputs(fn, arrays, flags)
        x.flat[k] = old - eps
        minus = _flat_outputs(fn, arrays, flags)
        x.flat[k] = old
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1)


def _analytic_jacobians(outputs, diff_inputs):
    """One backward pass per output element gives one row of every input's Jacobian."""
    total = sum(y.size for y in outputs)
    jac = [np.zeros((total, t.size)) for t in diff_inputs]
    row = 0
    for y in outputs:
        for j in range(y.size):
            if y.requires_grad:
                onehot = np.zeros(y.shape, np.float64)
                onehot.flat[j] = 1.0
                grads = grad([y], diff_inputs, [Tensor(onehot)], retain_graph=True,
                             allow_unused=True)
                for J, g in zip(jac, grads):
                    if g is not None:
                        J[row] = g.data.ravel()
            row += 1
    return jac


def _report(name, i, shape, analytic, numeric, atol, rtol, out_sizes):
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    r, c = np.unravel_index(np.argmax(excess), excess.shape)
    in_index = np.unravel_index(c, shape) if shape else ()
    return (f"{name}: Jacobian mismatch for input {i} (shape {tuple(shape)}) at input index "
            f"{tuple(int(v) for v in in_index)}, output element {r} of {sum(out_sizes)}: "
            f"analytic {analytic[r, c]:.8g} vs numerical {numeric[r, c]:.8g} "
            f"(error {abs(analytic[r, c] - numeric[r, c]):.3g}, allowed "
            f"{atol + rtol * abs(numeric[r, c]):.3g}).")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              fast_mode=False, seed=0, name="gradcheck"):
    """Check ``fn``'s analytic gradients against central differences.

    fn: function of Tensors returning a Tensor or a tuple of Tensors.
    inputs: Tensors/arrays; those with ``requires_grad=True`` are checked, in float64.
    fast_mode: instead of full Jacobians compare one random projection vᵀ J u per input
      (two evaluations of fn and one backward), for inputs too large for the full check.
    Returns True, or raises GradcheckError naming the input, the worst index, both values
    and the error (returns False instead with ``raise_exception=False``).
    """
    tensors = _as_float64_inputs(inputs)
    flags = [t.requires_grad for t in tensors]
    diff = [i for i, f in enumerate(flags) if f]
    if not diff:
        raise ValueError(f"{name}: no input has requires_grad=True; nothing to check.")
    arrays = [t.data.copy() for t in tensors]
    with enable_grad():
        outputs = _as_list(fn(*tensors))
    out_sizes = [y.size for y in outputs]

    def fail(msg):
        if raise_exception:
            raise GradcheckError(msg)
        return False

    if fast_mode:
        rng = np.random.default_rng(seed)
        vs = [rng.standard_normal(y.shape) for y in outputs]
        v_flat = np.concatenate([v.ravel() for v in vs]) if vs else np.zeros(0)
        grads = [None] * len(diff)
        live = [(y, v) for y, v in zip(outputs, vs) if y.requires_grad]
        if live:
            grads = grad([y for y, _ in live], [tensors[i] for i in diff],
                         [Tensor(v) for _, v in live], allow_unused=True)
        for gi, i in zip(grads, diff):
            u = rng.standard_normal(arrays[i].shape)
            analytic = 0.0 if gi is None else float(np.sum(gi.data * u))
            base = arrays[i].copy()
            arrays[i] = base + eps * u
            plus = _flat_outputs(fn, arrays, flags) @ v_flat
            arrays[i] = base - eps * u
            minus = _flat_outputs(fn, arrays, flags) @ v_flat
            arrays[i] = base
            numeric = (plus - minus) / (2 * eps)
            if abs(analytic - numeric) > atol + rtol * abs(numeric):
                return fail(f"{name} (fast mode): for input {i} (shape {base.shape}) the "
                            f"projection vᵀJu is analytic {analytic:.8g} vs numerical "
                            f"{numeric:.8g} (error {abs(analytic - numeric):.3g}).")
        return True

    analytic = _analytic_jacobians(outputs, [tensors[i] for i in diff])
    for A, i in zip(analytic, diff):
        N = _numerical_jacobian(fn, arrays, flags, i, eps)
        if not np.allclose(A, N, atol=atol, rtol=rtol):
            return fail(_report(name, i, arrays[i].shape, A, N, atol, rtol, out_sizes))
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, fast_mode=False, seed=0):
    """Check second derivatives: gradcheck of (x, v) -> grad(fn(x), x, v, create_graph=True).

    ``grad_outputs`` (the v) default to random float64 tensors; they are inputs of the
    checked function too, so both the Hessian-vector part and the linear part in v are
    tested.
    """
    tensors = _as_float64_inputs(inputs)
    n = len(tensors)
    diff = [i for i, t in enumerate(tensors) if t.requires_grad]
    with enable_grad():
        outputs = _as_list(fn(*tensors))
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = [Tensor(rng.standard_normal(y.shape), requires_grad=True)
                        for y in outputs]
    else:
        grad_outputs = _as_float64_inputs(_as_list(grad_outputs))

    def first_derivative(*args):
        xs, vs = args[:n], args[n:]
        ys = _as_list(fn(*xs))
        live = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
        if not live:
            return tuple(Tensor(np.zeros(xs[i].shape)) for i in diff)
        gs = grad([y for y, _ in live], [xs[i] for i in diff], [v for _, v in live],
                  create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor(np.zeros(xs[i].shape))
                     for g, i in zip(gs, diff))

    return gradcheck(first_derivative, tensors + list(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception, fast_mode=fast_mode,
                     seed=seed, name="gradgradcheck")

