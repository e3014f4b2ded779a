"""Finite-difference checks of the analytic gradients.

``gradcheck`` compares the Jacobian that backward computes with central differences

    dJ[:, k] ~= (f(x + eps e_k) - f(x - eps e_k)) / (2 eps)

in float64 (in float32 the rounding error of f would swamp the difference quotient).
``gradgradcheck`` applies the same check to the function  (x, v) -> vᵀ ∂f/∂x  computed with
``create_graph=True``, which tests the second derivatives.  ``gradcheck_module`` and
``gradgradcheck_module`` check a layer's gradients for its inputs *and* its parameters.

A check that compares 0 with 0 checks nothing, so an input with requires_grad=True whose
derivatives are zero everywhere is an error.  Usually ``fn`` uses a tensor it captured
instead of its argument, and the finite differences perturb a copy that nobody reads; pass
``allow_unused=True`` when an input is meant to be unused.

Messages name the input (for gradgradcheck: x, or v, the random cotangent) and, when the
analytic value is exactly 0, recall that NumPy code on ``.data`` is not recorded.
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np

from .autograd import enable_grad, grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when analytic and numerical derivatives disagree."""


# ---------------------------------------------------------------------------------------

def _check_call(name, inputs, eps):
    """Refuse a bare Tensor as ``inputs``, an empty input and a step ``eps`` that is not > 0."""
    if isinstance(inputs, Tensor):
        raise TypeError(f"{name}: inputs is a single Tensor; pass a list or tuple of the "
                        "function's arguments: [t] (or (t,)).")
    if isinstance(inputs, np.ndarray) or not isinstance(inputs, (list, tuple)):
        raise TypeError(f"{name}: inputs must be a list or tuple of the function's arguments "
                        f"(Tensors or arrays), got {type(inputs).__name__}; pass [x].")
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.size == 0:
            raise ValueError(f"{name}: input {i} has shape {x.shape}, no element to check; "
                             "give it at least one element.")
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, (int, float, np.floating)) \
            or not np.isfinite(eps) or eps <= 0:
        raise ValueError(f"{name}: eps is the finite-difference step and must be a number "
                         f"> 0 (e.g. 1e-6), got {eps!r}.")


def _call(name, fn, args):
    """fn's outputs as a list of Tensors, or a TypeError naming what it returned."""
    ys = _as_list(fn(*args))
    for j, y in enumerate(ys):
        if not isinstance(y, Tensor):
            raise TypeError(f"{name}: the function returned a {type(y).__name__}"
                            f"{f' as output {j}' if len(ys) > 1 else ''}, not a Tensor; it "
                            "must compute with Tensor ops and return a Tensor (or a tuple of "
                            "them), e.g. (x * x).sum(), not (x * x).sum().item() or x.data.")
    return ys


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


_DATA_HINT = (" Hint: the analytic value is exactly 0. Work done on `.data` (NumPy arrays) is "
              "not recorded by autograd, so no gradient flows through it: the function "
              "checked must use Tensor ops, and so must an op's backward that is to be "
              "differentiated again (an op's forward works on arrays: that is fine).")


def _describe(names, i, shape):
    """'input 2 (shape (3,))', or the caller's name for input i."""
    label = names[i] if names is not None else f"input {i}"
    return f"{label} (shape {tuple(shape)})"


def _unused_message(name, what):
    return (f"{name}: {what} does not affect the output: does the function use a tensor it "
            "captured instead of its argument? (If its derivative is really 0 at every point "
            "checked, as ReLU's is at negative inputs, check at other points; if the input "
            "is meant to be unused, pass allow_unused=True.)")


def _report(name, what, shape, analytic, numeric, atol, rtol, out_sizes):
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    r, c = np.unravel_index(np.argmax(excess), excess.shape)
    in_index = np.unravel_index(c, shape) if shape else ()
    a, n = analytic[r, c], numeric[r, c]
    return (f"{name}: Jacobian mismatch for {what} at input index "
            f"{tuple(int(v) for v in in_index)}, output element {r} of {sum(out_sizes)}: "
            f"analytic {a:.8g} vs numerical {n:.8g} (error {abs(a - n):.3g}, allowed "
            f"{atol + rtol * abs(n):.3g})." + (_DATA_HINT if a == 0 and n != 0 else ""))


def _per_input(flag, n, what, name):
    """A bool for every input: ``flag`` itself, or one given per input."""
    if isinstance(flag, (bool, int, np.bool_)):
        return [bool(flag)] * n
    flags = [bool(f) for f in flag]
    if len(flags) != n:
        raise ValueError(f"{name}: {what} has {len(flags)} entries for {n} inputs; give "
                         "one bool, or one per input.")
    return flags


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              fast_mode=False, seed=0, name="gradcheck", allow_unused=False, input_names=None):
    """Check ``fn``'s analytic gradients against central differences.

    fn: function of Tensors returning a Tensor or a tuple of Tensors.  It must compute
      from its arguments: a tensor it captured is not perturbed by the check.
    inputs: Tensors/arrays; those with ``requires_grad=True`` are checked, in float64.
    fast_mode: instead of full Jacobians compare one random projection vᵀ J u per input
      (two evaluations of fn and one backward), for inputs too large for the full check.
    allow_unused: an input whose derivatives are zero everywhere is an error unless this
      is True (or True for that input, given one bool per input).
    name, input_names: how messages call the check and each input ("input 2" by default).
    Returns True, or raises GradcheckError naming the input, the worst index, both values
    and the error (returns False instead with ``raise_exception=False``).
    """
    _check_call(name, inputs, eps)
    tensors = _as_float64_inputs(inputs)
    flags = [t.requires_grad for t in tensors]
    diff = [i for i, f in enumerate(flags) if f]
    if not diff:
        raise ValueError(f"{name}: no input has requires_grad=True; nothing to check.")
    if input_names is not None and len(input_names) != len(tensors):
        raise ValueError(f"{name}: {len(input_names)} input_names for {len(tensors)} inputs.")
    unused_ok = _per_input(allow_unused, len(tensors), "allow_unused", name)
    arrays = [t.data.copy() for t in tensors]
    with enable_grad():
        outputs = _call(name, fn, tensors)
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
            what = _describe(input_names, i, base.shape)
            if analytic == 0 and numeric == 0 and not unused_ok[i]:
                return fail(_unused_message(name, what))
            if abs(analytic - numeric) > atol + rtol * abs(numeric):
                return fail(f"{name} (fast mode): for {what} the projection vᵀJu is "
                            f"analytic {analytic:.8g} vs numerical {numeric:.8g} (error "
                            f"{abs(analytic - numeric):.3g})."
                            + (_DATA_HINT if analytic == 0 else ""))
        return True

    analytic = _analytic_jacobians(outputs, [tensors[i] for i in diff])
    for A, i in zip(analytic, diff):
        N = _numerical_jacobian(fn, arrays, flags, i, eps)
        what = _describe(input_names, i, arrays[i].shape)
        if not A.any() and not N.any() and not unused_ok[i]:
            return fail(_unused_message(name, what))
        if not np.allclose(A, N, atol=atol, rtol=rtol):
            return fail(_report(name, what, arrays[i].shape, A, N, atol, rtol, out_sizes))
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, fast_mode=False, seed=0, name="gradgradcheck",
                  allow_unused=False, input_names=None):
    """Check second derivatives: gradcheck of (x, v) -> grad(fn(x), x, v, create_graph=True).

    ``grad_outputs`` (the v) default to random float64 tensors; they are inputs of the
    checked function too, so both the Hessian-vector part and the linear part in v are
    tested.  Messages call the inputs of ``fn`` "x input i" and the cotangents "v (the random
    cotangent) of output j".

    Unused inputs: an x that ``fn`` does not use at all is an error (unless
    ``allow_unused``), found from the first derivative; an x with zero *second* derivative
    is fine (fn may be linear in it).
    """
    _check_call(name, inputs, eps)
    tensors = _as_float64_inputs(inputs)
    n = len(tensors)
    diff = [i for i, t in enumerate(tensors) if t.requires_grad]
    if not diff:
        raise ValueError(f"{name}: no input has requires_grad=True; nothing to check.")
    if input_names is not None and len(input_names) != n:
        raise ValueError(f"{name}: {len(input_names)} input_names for {n} inputs.")
    x_names = list(input_names) if input_names else [f"x input {i}" for i in range(n)]
    unused_ok = _per_input(allow_unused, n, "allow_unused", name)
    with enable_grad():
        outputs = _call(name, fn, tensors)
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = [Tensor(rng.standard_normal(y.shape), requires_grad=True)
                        for y in outputs]
    else:
        grad_outputs = _as_float64_inputs(_as_list(grad_outputs))

    # An x that fn ignores gets no gradient at all (None): the captured-tensor mistake
    live = [(y, v) for y, v in zip(outputs, grad_outputs) if y.requires_grad]
    firsts = [None] * len(diff)
    if live:
        firsts = grad([y for y, _ in live], [tensors[i] for i in diff],
                      [v for _, v in live], allow_unused=True)
    for g, i in zip(firsts, diff):
        if g is None and not unused_ok[i]:
            msg = _unused_message(name, _describe(x_names, i, tensors[i].shape))
            if raise_exception:
                raise GradcheckError(msg)
            return False

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

    v_names = [f"v (the random cotangent) of output {j}" for j in range(len(grad_outputs))]
    # An x may have a zero second derivative (fn linear in it).  A v may not: the first
    # derivative is linear in v: v_j leaves it unchanged only if output j depends on no x.
    v_unused_ok = [all(unused_ok)] * len(grad_outputs)
    return gradcheck(first_derivative, tensors + list(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception, fast_mode=fast_mode,
                     seed=seed, name=name, allow_unused=[True] * n + v_unused_ok,
                     input_names=x_names + v_names)


# -- modules: inputs and parameters -------------------------------------------------------

def _parameter_slots(module):
    """(owner module, attribute name, qualified name, Parameter) of every parameter."""
    return [(mod, attr, f"{prefix}.{attr}" if prefix else attr, p)
            for prefix, mod in module.named_modules() for attr, p in mod._parameters.items()]


@contextlib.contextmanager
def _parameters_replaced(slots, tensors):
    """Make each module attribute name the given tensor for the duration of a call.

    ``object.__setattr__`` swaps only the attribute the forward reads; the module's table
    of Parameters stays as it is, and the originals are put back even if the call fails.
    """
    try:
        for (mod, attr, _, _), t in zip(slots, tensors):
            object.__setattr__(mod, attr, t)
        yield
    finally:
        for mod, attr, _, p in slots:
            object.__setattr__(mod, attr, p)


@contextlib.contextmanager
def _buffers_restored(module):
    """Undo what the many forward calls of a check do to buffers (batchnorm's running
    statistics and batch counter), in place, as layers hold references to them."""
    saved = [(mod, name, b, np.array(b, copy=True))
             for _, mod in module.named_modules() for name, b in mod._buffers.items()]
    try:
        yield
    finally:
        for mod, name, b, copy in saved:
            b[...] = copy
            if getattr(mod, name) is not b:
                setattr(mod, name, b)


def _module_check(check, module, inputs, name, allow_unused, kwargs):
    caller = f"{check.__name__}_module"
    if not (hasattr(module, "named_modules") and callable(module)):
        raise TypeError(f"{caller}: expected a Module (a layer or a model), got "
                        f"{type(module).__name__}; for a function use {check.__name__}(fn, "
                        "inputs).")
    for i, x in enumerate(inputs):
        if not isinstance(x, (Tensor, np.ndarray)):
            raise TypeError(f"{caller}: input {i} is a {type(x).__name__}, not a Tensor; pass "
                            f"the inputs one by one: {caller}(module, x1, x2, ...).")
    inputs = list(inputs)
    slots = _parameter_slots(module)
    n = len(inputs)

    def fn(*tensors):
        with _parameters_replaced(slots, tensors[n:]):
            return module(*tensors[:n])

    # float64 copies of the parameters are the checked inputs the module computes with
    params = [Tensor(p.data.astype(np.float64), requires_grad=p.requires_grad)
              for _, _, _, p in slots]
    names = [f"input {i}" for i in range(n)] + [f"parameter {q}" for _, _, q, _ in slots]
    with _buffers_restored(module):
        return check(fn, inputs + params, name=name or f"{caller}({type(module).__name__})",
                     allow_unused=allow_unused, input_names=names, **kwargs)


def gradcheck_module(module, *inputs, allow_unused=False, name=None, **kwargs):
    """gradcheck of ``module(*inputs)`` for the inputs that require grad AND every parameter.

    The module is called with float64 copies of its parameters substituted for the
    Parameters (restored afterwards, as are its buffers), so the check perturbs exactly
    what the forward reads.  Other keywords as for :func:`gradcheck`; messages name
    parameters by their state-dict names ("parameter 0.weight").
    """
    return _module_check(gradcheck, module, inputs, name, allow_unused, kwargs)


def gradgradcheck_module(module, *inputs, allow_unused=False, name=None, **kwargs):
    """gradgradcheck of ``module(*inputs)`` with respect to the inputs and every parameter
    (see :func:`gradcheck_module`): for layers used under ``create_graph=True``."""
    return _module_check(gradgradcheck, module, inputs, name, allow_unused, kwargs)
