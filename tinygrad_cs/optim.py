"""Optimizers: SGD (with momentum), Adam, RMSprop, and a step learning-rate schedule.

Each works on a list of Tensors (a model's ``parameters()``, or any tensors that require
grad, e.g. the image in style transfer) and updates ``p.data`` in place from ``p.grad``.
The formulas are PyTorch's, so hyper-parameters transfer.  ``state_dict()`` returns a flat
name -> array dict (saveable with ``np.savez``) for resuming training exactly.
"""
from __future__ import annotations

import numpy as np

from .backends import kernels


def _number(owner, name, value, low=None, high=None, low_open=False, high_open=False):
    """A finite real number within [low, high] (or an open end): else a clear error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)) \
            or isinstance(value, complex):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r} "
                        f"({type(value).__name__}).")
    value = float(value)
    low_ok = low is None or (value > low if low_open else value >= low)
    high_ok = high is None or (value < high if high_open else value <= high)
    if not np.isfinite(value) or not (low_ok and high_ok):
        where = (f"{'(' if low_open else '['}{'-inf' if low is None else low}, "
                 f"{'inf' if high is None else high}{')' if high_open or high is None else ']'}")
        raise ValueError(f"{owner}: {name} must be a finite number in {where}, got {value!r}.")
    return value


def _state_dtype(dtype):
    """float16 weights keep their optimizer state in float32: g*g underflows in float16
    (g = 1e-4 gives 0), and Adam's 1e-8 eps is 0 there too, so w would divide by zero."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


class Optimizer:
    # names of the per-parameter state arrays, and of the hyper-parameters (state_dict keys)
    STATE = ()
    HYPER = ("lr",)

    def __init__(self, params, lr):
        name = type(self).__name__
        from .tensor import Tensor
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params is a single Tensor; pass a list: {name}([t], ...), "
                            "or model.parameters() for a model.")
        if hasattr(params, "parameters") and callable(params.parameters):
            raise TypeError(f"{name}: params is a {type(params).__name__}; pass "
                            "model.parameters().")
        try:
            given = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be a list of Tensors (e.g. "
                            f"model.parameters()), got {type(params).__name__}.") from None
        if not given:
            raise ValueError(f"{name}: got an empty parameter list.")
        self.params, seen = [], {}
        for i, p in enumerate(given):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, not a Tensor; "
                                "pass Tensors that require grad (e.g. model.parameters()).")
            if not p.requires_grad:
                continue  # frozen (e.g. a pretrained layer): skipped, as in PyTorch
            if p.grad_fn is not None:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}) is not a leaf: it "
                                 f"was computed by {p.grad_fn.name}, so updating it changes "
                                 "nothing that is trained. Pass the leaf tensors themselves.")
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} (shape {p.shape}) is the same tensor "
                                 f"as parameter {seen[id(p)]}; list each parameter once (it "
                                 "would be updated twice per step).")
            seen[id(p)] = i
            self.params.append(p)
        if not self.params:
            raise ValueError(f"{name}: all {len(given)} parameter(s) are frozen (each does "
                             "not require grad), so there is nothing to train; make them with "
                             "requires_grad=True (p.requires_grad_()), or unfreeze the layer.")
        self.step_count = 0
        self.state = [dict() for _ in self.params]  # per parameter: name -> array
        self._set_hyper({"lr": lr}, name)

    def check_hyper(self, values: dict, owner: str) -> dict:
        """The hyper-parameters in ``values``, checked (finite, in range); a subclass
        checks its own and calls this for lr."""
        out = dict(values)
        if "lr" in values:
            out["lr"] = _number(owner, "lr", values["lr"], low=0)
        if "momentum" in values:
            out["momentum"] = _number(owner, "momentum", values["momentum"], low=0)
        if "weight_decay" in values:
            out["weight_decay"] = _number(owner, "weight_decay", values["weight_decay"], low=0)
        if "eps" in values:
            out["eps"] = _number(owner, "eps", values["eps"], low=0, low_open=True)
        return out

    def _set_hyper(self, values, owner):
        for key, value in self.check_hyper(values, owner).items():
            setattr(self, key, value)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        self.step_count += 1
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad.data
            if g.shape != p.shape:
                raise ValueError(f"{type(self).__name__}.step: gradient shape {g.shape} does "
                                 f"not match parameter shape {p.shape}.")
            dtype = _state_dtype(p.dtype)
            for name, value in state.items():  # the model was converted with Module.to
                if value.dtype != dtype:
                    state[name] = value.astype(dtype)
            self.update(p.data, g.astype(p.dtype, copy=False), state)

    def update(self, w, g, state):  # w is updated in place
        raise NotImplementedError

    # -- saving and resuming -------------------------------------------------------------
    def state_dict(self) -> dict:
        sd = {"step_count": np.asarray(self.step_count)}
        sd.update({h: np.asarray(getattr(self, h)) for h in self.HYPER})
        for i, state in enumerate(self.state):
            sd.update({f"param.{i}.{k}": v.copy() for k, v in state.items()})
        return sd

    def load_state_dict(self, sd: dict):
        """Restore a ``state_dict()``.  Everything is checked first (keys, optimizer kind,
        hyper-parameter ranges, state shapes); nothing is changed unless all of it fits."""
        owner = f"{type(self).__name__}.load_state_dict"
        missing = [k for k in ("step_count",) + self.HYPER if k not in sd]
        extra = [k for k in sd if k not in ("step_count",) + self.HYPER
                 and not k.startswith("param.")]
        if missing or extra:
            raise ValueError(f"{owner}: missing keys {missing}, unexpected keys {extra}; "
                             f"{type(self).__name__} saves step_count, "
                             f"{', '.join(self.HYPER)} and param.<i>.<name> (is this the "
                             "state dict of another optimizer?).")
        step = np.asarray(sd["step_count"])
        if step.shape != () or step.dtype.kind not in "iu" or step < 0:
            raise ValueError(f"{owner}: step_count must be an integer >= 0, got {step!r}.")
        hyper = {}
        for h in self.HYPER:
            value = np.asarray(sd[h])
            hyper[h] = tuple(value.tolist()) if value.ndim else value.item()
        hyper = self.check_hyper(hyper, owner)
        state = [dict() for _ in self.params]
        for key, value in sd.items():
            if not key.startswith("param."):
                continue
            parts = key.split(".")
            if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in self.STATE:
                raise ValueError(f"{owner}: key {key!r} is not param.<i>.<name> with <name> "
                                 f"one of {', '.join(self.STATE) or '(none)'}.")
            i, value = int(parts[1]), np.asarray(value)
            if i >= len(self.params) or value.shape != self.params[i].shape:
                raise ValueError(f"{owner}: {key} with shape {value.shape} does not fit the "
                                 f"{len(self.params)} parameters.")
            if value.dtype.kind not in "iuf":
                raise ValueError(f"{owner}: {key} has dtype {value.dtype}, not real numbers.")
            state[i][parts[2]] = np.array(value, dtype=_state_dtype(self.params[i].dtype))
        self.step_count = int(step)
        for h, value in hyper.items():
            setattr(self, h, value)
        self.state = state


class SGD(Optimizer):
    """v = momentum * v + (g + weight_decay * w);   w -= lr * v   (v = g without momentum)."""

    STATE = ("momentum_buffer",)
    HYPER = ("lr", "momentum", "weight_decay")

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self._set_hyper({"momentum": momentum, "weight_decay": weight_decay}, "SGD")

    def update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.astype(_state_dtype(w.dtype))
            else:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += g
            g = state["momentum_buffer"]
        w -= (self.lr * g).astype(w.dtype, copy=False)


class Adam(Optimizer):
    """Kingma & Ba (2015):  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
    w -= lr * m_hat / (sqrt(v_hat) + eps)  with  m_hat = m / (1-b1^t),  v_hat = v / (1-b2^t).

    float16 weights are updated in float32 (and m, v kept in float32), then rounded back."""

    STATE = ("exp_avg", "exp_avg_sq")
    HYPER = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self._set_hyper({"betas": betas, "eps": eps, "weight_decay": weight_decay}, "Adam")

    def check_hyper(self, values, owner):
        out = super().check_hyper(values, owner)
        if "betas" in values:
            betas = values["betas"]
            if not isinstance(betas, (tuple, list)) or len(betas) != 2:
                raise ValueError(f"{owner}: betas must be a pair (beta1, beta2), e.g. "
                                 f"(0.9, 0.999), got {betas!r}.")
            out["betas"] = tuple(_number(owner, f"betas[{i}]", b, low=0, high=1,
                                         high_open=True) for i, b in enumerate(betas))
        return out

    def update(self, w, g, state):
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * w
        work = w if w.dtype == _state_dtype(w.dtype) else w.astype(np.float32)
        if "exp_avg" not in state:
            state["exp_avg"] = np.zeros_like(work)
            state["exp_avg_sq"] = np.zeros_like(work)
        # backends/reference/elementwise.py has the formula; the fast backend fuses it
        kernels.adam_update(work, np.ascontiguousarray(g, dtype=work.dtype), state["exp_avg"],
                            state["exp_avg_sq"], self.lr, b1, b2, self.eps, self.step_count)
        if work is not w:
            w[...] = work  # round the float32 result back to float16


class RMSprop(Optimizer):
    """Hinton's RMSprop as in PyTorch:  v = alpha v + (1-alpha) g^2;
    w -= lr * g / (sqrt(v) + eps)   (with momentum: buf = momentum buf + that step)."""

    STATE = ("square_avg", "momentum_buffer")
    HYPER = ("lr", "alpha", "eps", "momentum", "weight_decay")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self._set_hyper({"alpha": alpha, "eps": eps, "momentum": momentum,
                         "weight_decay": weight_decay}, "RMSprop")

    def check_hyper(self, values, owner):
        out = super().check_hyper(values, owner)
        if "alpha" in values:
            out["alpha"] = _number(owner, "alpha", values["alpha"], low=0, high=1)
        return out

    def update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        g = g.astype(_state_dtype(w.dtype), copy=False)
        if "square_avg" not in state:
            state["square_avg"] = np.zeros_like(g)
        v = state["square_avg"]
        v *= self.alpha
        v += (1 - self.alpha) * (g * g)
        step = g / (np.sqrt(v) + self.eps)
        if self.momentum:
            buf = state.setdefault("momentum_buffer", np.zeros_like(g))
            buf *= self.momentum
            buf += step
            step = buf
        w -= (self.lr * step).astype(w.dtype, copy=False)


class StepLR:
    """Multiply the learning rate by ``gamma`` every ``step_size`` calls of ``step()``
    (call it once per epoch, or per iteration, as you choose)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"StepLR: expected an optimizer (SGD, Adam, RMSprop), got "
                            f"{type(optimizer).__name__}.")
        if isinstance(step_size, (bool, np.bool_)) or not isinstance(step_size, (int, np.integer)) \
                or step_size < 1:
            raise ValueError(f"StepLR: step_size is the number of step() calls between two "
                             f"decays and must be a positive integer, got {step_size!r}.")
        gamma = _number("StepLR", "gamma", gamma, low=0)
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def step(self):
        self.last_epoch += 1
        self.optimizer.lr = self.base_lr * self.gamma ** (self.last_epoch // self.step_size)
        return self.optimizer.lr

    def state_dict(self):
        return {"last_epoch": np.asarray(self.last_epoch), "base_lr": np.asarray(self.base_lr)}

    def load_state_dict(self, sd):
        self.last_epoch, self.base_lr = int(sd["last_epoch"]), float(sd["base_lr"])
