"""Reverse-mode automatic differentiation: the Function base class and the graph walk.

Every op is a subclass of :class:`Function` with two methods side by side:

* ``forward(self, *arrays, **attrs)`` works on raw NumPy arrays and returns an array;
* ``backward(self, grad_output)`` works on **Tensors** and returns one gradient Tensor
  (or None) per input.

Because ``backward`` is written with Tensor ops, the backward pass is itself an ordinary
computation that the engine can record.  ``create_graph=False`` (the default) runs it under
:func:`no_grad`, so nothing is recorded; ``create_graph=True`` records it, and the gradients
can then be differentiated again (Hessian-vector products, WGAN-GP's gradient penalty).

The graph: a Tensor made by an op keeps that op instance in ``tensor.grad_fn``; the op keeps
its input Tensors in ``self.inputs``.  Leaves (tensors a user made) have ``grad_fn=None``.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from .backends import kernels


class _State(threading.local):
    """Per-thread switches; the class attribute is every new thread's default."""

    grad_enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    """True unless we are inside ``no_grad()``."""
    return _state.grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Context manager *and* decorator that sets whether ops record the graph."""

    enabled = True

    def __enter__(self):
        self._previous = is_grad_enabled()
        _state.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _state.grad_enabled = self._previous
        return False


class no_grad(_GradMode):
    """Ops inside ``with no_grad():`` (or a function decorated ``@no_grad()``) record nothing.

    Use it for evaluation and for optimizer updates: it saves memory and time.
    """

    enabled = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block."""

    enabled = True


def _forward_result(op, out):
    """A forward's result as an array; a Tensor or a non-numeric result is a mistake in the
    op, named here rather than failing somewhere later."""
    if isinstance(out, _tensor_class()):
        raise TypeError(f"{op.__name__}.forward returned a Tensor; forward works on NumPy "
                        "arrays and must return one (write Tensor-op formulas in backward, "
                        "or the whole op as a function of Tensor ops).")
    array = np.asarray(out)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op.__name__}.forward returned {type(out).__name__} with dtype "
                        f"{array.dtype}; it must return a numeric NumPy array.")
    return array


def _tensor_class():
    """The Tensor class (tensor.py imports this module, so it cannot be imported at the top)."""
    global _Tensor
    if _Tensor is None:
        from .tensor import Tensor
        _Tensor = Tensor
    return _Tensor


_Tensor = None


# ---------------------------------------------------------------------------------------
# Function: the base class of every op
# ---------------------------------------------------------------------------------------

class Function:
    """Base class of all differentiable ops.

    Subclasses define ``forward`` (NumPy in, NumPy out) and ``backward`` (Tensor in,
    Tensors out), and a class attribute ``cases``: how to gradcheck the op (see
    ``tinygrad_cs.registry``).  Every subclass is registered automatically, so the
    registry test notices an op that has no gradcheck case.
    """

    cases: list = []  # gradcheck cases, see registry.Case
    needs_input_grad: tuple = ()  # per input: will backward need its gradient? (set by apply)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        from .registry import register_function
        register_function(cls)

    # -- to be written by each op ---------------------------------------------------
    def forward(self, *arrays, **attrs):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    # -- machinery ----------------------------------------------------------------
    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run the op on Tensors and, if any input needs a gradient, record it in the graph.

        Every op call goes through here, hundreds per training step, so it is written
        for speed: plain loops and attribute reads instead of properties and ``any()``.
        """
        Tensor = _tensor_class()
        tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in inputs]
        needs = tuple([t._requires_grad and _state.grad_enabled for t in tensors])
        node = cls()
        node.needs_input_grad = needs  # set before forward, which may save less when False
        out_data = node.forward(*[t.data for t in tensors], **attrs)
        if not isinstance(out_data, np.ndarray):
            out_data = _forward_result(cls, out_data)
        if True not in needs:  # nothing to differentiate (or inside no_grad)
            return Tensor._from_op(out_data, None)
        node.inputs = tensors
        node.out_data = out_data
        node.attrs = attrs  # the op's settings (stride, axis, ...), for draw_graph
        node.freed = False
        return Tensor._from_op(out_data, node)

    def output(self):
        """The op's output as a Tensor attached to this node.

        Backward formulas such as ``d exp(x) = exp(x) dx`` reuse the output.  Storing the
        output *array* and wrapping it here (instead of storing the output Tensor) avoids a
        reference cycle tensor -> node -> tensor, so graphs are freed as soon as they are
        unused.  The wrapper has this node as grad_fn, so under ``create_graph=True``
        gradients flowing into it reach the right place.
        """
        return _tensor_class()._from_op(self.out_data, self if _state.grad_enabled else None)

    def release(self):
        """Drop what backward needed (called after backward unless retain_graph=True)."""
        self.inputs = ()
        self.out_data = None
        self.attrs = None
        self.__dict__.update({k: None for k in list(self.__dict__) if k.startswith("saved")})
        self.freed = True

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name}Backward>"


# ---------------------------------------------------------------------------------------
# The graph walk
# ---------------------------------------------------------------------------------------

def _topological_order(root_nodes):
    """Nodes reachable from ``root_nodes``, every node after all nodes that consume it.

    Iterative depth-first search (a recursive one would hit Python's recursion limit on a
    10,000-op chain).  Post-order puts producers before consumers; we return it reversed.
    """
    order, visited = [], set()
    stack = [(n, False) for n in root_nodes]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        if node.freed:
            raise RuntimeError(
                f"backward: the graph through {node.name} was already freed by an earlier "
                "backward. Pass retain_graph=True to the first backward() if you need to "
                "backpropagate through the same graph twice.")
        visited.add(id(node))
        stack.append((node, True))
        for t in node.inputs:
            if t.grad_fn is not None and id(t.grad_fn) not in visited:
                stack.append((t.grad_fn, False))
    order.reverse()
    return order


class _GradientSums:
    """Sums the gradients arriving at each node (or leaf) of the graph, keyed by id().

    A tensor used twice gets two gradients, to be added.  Without ``create_graph`` the
    second one is added into a fresh array, and every later one is added *in place* into
    that array (``kernels.accumulate(..., out=...)``): no new array per addition.  Only arrays made
    here are written to; the first gradient may be a view of a tensor used elsewhere.
    With ``create_graph`` the additions are ordinary recorded ops, as they must be.
    """

    def __init__(self, in_place):
        self.sums, self.owned, self.in_place = {}, set(), in_place

    def add(self, key, value):
        total = self.sums.get(key)
        if total is None:
            self.sums[key] = value
        elif not self.in_place or (total.shape, total.dtype) != (value.shape, value.dtype):
            self.sums[key] = total + value  # a recorded op (create_graph), or mixed dtypes
        elif key in self.owned:
            kernels.accumulate(total.data, value.data, out=total.data)
        else:  # the first sum goes into a fresh array; later gradients are added into it
            self.sums[key] = type(total)._from_op(kernels.accumulate(total.data, value.data), None)
            self.owned.add(key)

    def pop(self, key):
        return self.sums.pop(key, None)


def run_backward(outputs, grad_outputs, inputs=None, create_graph=False, retain_graph=None):
    """Backpropagate ``grad_outputs`` from ``outputs``.

    With ``inputs=None`` (what ``Tensor.backward`` does) gradients are accumulated into the
    ``.grad`` of every leaf that requires grad.  With a list of ``inputs`` (what ``grad``
    does) their gradients are returned instead and no ``.grad`` is touched; only the part of
    the graph that leads to those inputs is visited.
    """
    Tensor = _tensor_class()
    if retain_graph is None:
        retain_graph = create_graph
    node_grads = _GradientSums(in_place=not create_graph)  # id(node) -> its output's grad
    leaf_grads = _GradientSums(in_place=not create_graph)  # id(leaf tensor) -> its grad
    leaves = {}  # id(leaf tensor) -> the leaf
    roots = []
    for out, g in zip(outputs, grad_outputs):
        if out.grad_fn is None:
            if out.requires_grad:  # a leaf differentiated w.r.t. itself
                leaves[id(out)] = out
                leaf_grads.add(id(out), g)
            continue
        node_grads.add(id(out.grad_fn), g)
        roots.append(out.grad_fn)

    order = _topological_order(roots)

    wanted = None
    if inputs is not None:
        wanted = {id(t) for t in inputs if t.grad_fn is None}
        wanted_nodes = {id(t.grad_fn) for t in inputs if t.grad_fn is not None}
        leads_to_input = {}  # does a node lead to one of `inputs`?  (producers first)
        for node in reversed(order):
            leads_to_input[id(node)] = id(node) in wanted_nodes or any(
                (t.grad_fn is None and id(t) in wanted)
                or (t.grad_fn is not None and leads_to_input.get(id(t.grad_fn), False))
                for t in node.inputs)
        captured = {}  # gradients of non-leaf inputs, read when their node is reached

    with (contextlib.nullcontext() if create_graph else no_grad()):
        for node in order:
            g = node_grads.pop(id(node))
            if wanted is not None:
                if id(node) in wanted_nodes and g is not None:
                    captured[id(node)] = g
                if not leads_to_input[id(node)]:
                    continue
            if g is None:
                continue
            mask = node.needs_input_grad  # which inputs required grad when the op ran
            if wanted is not None:        # grad(): only the inputs that lead to `inputs`
                mask = node.needs_input_grad = tuple(
                    t.requires_grad and (id(t) in wanted if t.grad_fn is None
                                         else leads_to_input[id(t.grad_fn)])
                    for t in node.inputs)
            input_grads = node.backward(g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if len(input_grads) != len(node.inputs):
                raise TypeError(
                    f"{type(node).__name__}.backward returned {len(input_grads)} gradient(s) "
                    f"for {len(node.inputs)} input(s); return one per input, None for an "
                    "input that needs none.")
            for i, (t, need, gi) in enumerate(zip(node.inputs, mask, input_grads)):
                if not need or gi is None:
                    continue
                if not isinstance(gi, Tensor):
                    raise TypeError(
                        f"{type(node).__name__}.backward returned a {type(gi).__name__} for "
                        f"input {i}; backward must return Tensors (or None), computed with "
                        "Tensor ops, so that create_graph=True can differentiate them again.")
                if gi.shape != t.shape:
                    raise ValueError(
                        f"{type(node).__name__}.backward returned a gradient of shape "
                        f"{gi.shape} for input {i} of shape {t.shape}; a gradient has its "
                        "input's shape (sum a broadcast gradient back with unbroadcast).")
                if gi.data.dtype != t.data.dtype:
                    gi = gi.astype(t.data.dtype)
                if t.grad_fn is None:
                    leaves[id(t)] = t
                    leaf_grads.add(id(t), gi)
                else:
                    node_grads.add(id(t.grad_fn), gi)
            if wanted is not None:
                node.needs_input_grad = tuple(t.requires_grad for t in node.inputs)
            if not retain_graph:
                node.release()

    if inputs is not None:
        return [leaf_grads.sums.get(id(t)) if t.grad_fn is None
                else captured.get(id(t.grad_fn)) for t in inputs]

    # Tensor.backward: accumulate into the leaves' .grad, as PyTorch does.  Each leaf gets
    # an array of its own that can be written to: a gradient that an op passed on unchanged
    # (a + b gives both a and b the same g; a sum's gradient is a read-only broadcast view)
    # is copied first.
    handed_out = set()
    for key, g in leaf_grads.sums.items():
        leaf = leaves[key]
        if not create_graph and key not in leaf_grads.owned:
            d = g.data
            if id(d) in handed_out or not (d.flags.owndata and d.flags.writeable):
                g = Tensor(np.array(d))
            handed_out.add(id(g.data))
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    return None


def grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, like ``torch.autograd.grad``.

    outputs: Tensor or list of Tensors; inputs: Tensor or list of Tensors (leaves or not);
    grad_outputs: the upstream gradients (default: ones, only for scalar outputs).
    Returns a tuple with one Tensor (or None with ``allow_unused=True``) per input.  No
    ``.grad`` attribute is changed.  With ``create_graph=True`` the result can be
    differentiated again.
    """
    from .tensor import Tensor

    single = isinstance(outputs, Tensor)
    outputs = [outputs] if single else _tensor_list("outputs", outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else _tensor_list("inputs", inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    gos = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad (no input of it "
                               "requires grad, or it was computed under no_grad()).")
        if g is None:
            if out.size != 1:
                raise RuntimeError(f"grad: output {i} has shape {out.shape}; pass "
                                   "grad_outputs for non-scalar outputs.")
            g = Tensor(np.ones_like(out.data))
        g = g if isinstance(g, Tensor) else Tensor(np.asarray(g, dtype=out.dtype))
        if g.shape != out.shape:
            raise ValueError(f"grad: grad_outputs[{i}] has shape {g.shape} but output {i} "
                             f"has shape {out.shape}.")
        gos.append(g)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad.")
    result = run_backward(outputs, gos, inputs=inputs, create_graph=create_graph,
                          retain_graph=retain_graph)
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {inputs[i].shape}) is not used to "
                               "compute the outputs; pass allow_unused=True to get None.")
    return tuple(result)


def _tensor_list(what, items) -> list:
    """``grad``'s outputs or inputs as a list of Tensors, or a TypeError saying what was given."""
    from .tensor import Tensor
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"grad: {what} must be a Tensor or a list of Tensors, got "
                        f"{type(items).__name__}; wrap arrays with Tensor(...) and compute "
                        "with Tensor ops, or nothing is recorded to differentiate.")
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: {what}[{i}] is a {type(t).__name__}, not a Tensor.")
    return list(items)
