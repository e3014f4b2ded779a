"""Optimizers: SGD (with momentum), Adam, RMSprop, and a step learning-rate schedule.

Each works on a list of Tensors (a model's ``parameters()``, or any tensors that require
grad, e.g. the image in style transfer) and updates ``p.data`` in place from ``p.grad``.
The formulas are PyTorch's, so hyper-parameters transfer.  ``state_dict()`` returns a flat
name -> array dict (saveable with ``np.savez``) for resuming training exactly.
"""
from __future__ import annotations

import numpy as np

from .backends import kernels


class Optimizer:
    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list.")
        for i, p in enumerate(self.params):
            if not getattr(p, "requires_grad", False):
                raise ValueError(f"{type(self).__name__}: parameter {i} (shape "
                                 f"{getattr(p, 'shape', '?')}) does not require grad.")
        if lr < 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be >= 0, got {lr}.")
        self.lr = lr
        self.step_count = 0
        self.state = [dict() for _ in self.params]  # per parameter: name -> array

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
            for name, value in state.items():  # the model was converted with Module.to
                if value.dtype != p.dtype:
                    state[name] = value.astype(p.dtype)
            self.update(p.data, g.astype(p.dtype, copy=False), state)

    def update(self, w, g, state):  # w is updated in place
        raise NotImplementedError

    # -- saving and resuming -------------------------------------------------------------
    HYPER = ("lr",)

    def state_dict(self) -> dict:
        sd = {"step_count": np.asarray(self.step_count)}
        sd.update({h: np.asarray(getattr(self, h)) for h in self.HYPER})
        for i, state in enumerate(self.state):
            sd.update({f"param.{i}.{k}": v.copy() for k, v in state.items()})
        return sd

    def load_state_dict(self, sd: dict):
        self.step_count = int(sd["step_count"])
        for h in self.HYPER:
            value = np.asarray(sd[h])
            setattr(self, h, tuple(value.tolist()) if value.ndim else value.item())
        self.state = [dict() for _ in self.params]
        for key, value in sd.items():
            if key.startswith("param."):
                _, i, name = key.split(".", 2)
                i = int(i)
                if i >= len(self.params) or value.shape != self.params[i].shape:
                    raise ValueError(f"{type(self).__name__}.load_state_dict: {key} with shape "
                                     f"{value.shape} does not fit the parameters.")
                self.state[i][name] = np.array(value, dtype=self.params[i].dtype)


class SGD(Optimizer):
    """v = momentum * v + (g + weight_decay * w);   w -= lr * v   (v = g without momentum)."""

    HYPER = ("lr", "momentum", "weight_decay")

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum, self.weight_decay = momentum, weight_decay

    def update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()
            else:
                buf = state["momentum_buffer"]
                buf *= self.momentum
                buf += g
            g = state["momentum_buffer"]
        w -= self.lr * g


class Adam(Optimizer):
    """Kingma & Ba (2015):  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
    w -= lr * m_hat / (sqrt(v_hat) + eps)  with  m_hat = m / (1-b1^t),  v_hat = v / (1-b2^t)."""

    HYPER = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam: betas must lie in [0, 1), got {betas}.")
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay

    def update(self, w, g, state):
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * w
        if "exp_avg" not in state:
            state["exp_avg"] = np.zeros_like(w)
            state["exp_avg_sq"] = np.zeros_like(w)
        # backends/reference/elementwise.py has the formula; the fast backend fuses it
        kernels.adam_update(w, np.ascontiguousarray(g), state["exp_avg"], state["exp_avg_sq"], self.lr,
                    b1, b2, self.eps, self.step_count)


class RMSprop(Optimizer):
    """Hinton's RMSprop as in PyTorch:  v = alpha v + (1-alpha) g^2;
    w -= lr * g / (sqrt(v) + eps)   (with momentum: buf = momentum buf + that step)."""

    HYPER = ("lr", "alpha", "eps", "momentum", "weight_decay")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.alpha, self.eps, self.momentum, self.weight_decay = alpha, eps, momentum, weight_decay

    def update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        if "square_avg" not in state:
            state["square_avg"] = np.zeros_like(w)
        v = state["square_avg"]
        v *= self.alpha
        v += (1 - self.alpha) * (g * g)
        step = g / (np.sqrt(v) + self.eps)
        if self.momentum:
            buf = state.setdefault("momentum_buffer", np.zeros_like(w))
            buf *= self.momentum
            buf += step
            step = buf
        w -= (self.lr * step).astype(w.dtype, copy=False)


class StepLR:
    """Multiply the learning rate by ``gamma`` every ``step_size`` calls of ``step()``
    (call it once per epoch, or per iteration, as you choose)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
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
