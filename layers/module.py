"""Module, Parameter and Sequential: the PyTorch-style way to hold weights.

A Module keeps three kinds of attributes, found automatically when you assign them:
Parameters (trained), buffers (saved but not trained, e.g. batchnorm's running mean,
registered with ``register_buffer``) and child Modules.  ``state_dict()`` names them with
dotted paths (``features.3.squeeze.weight``), exactly like PyTorch.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from tinygrad_cs import Tensor
from tinygrad_cs.io import load_npz, save_npz_atomic


class Parameter(Tensor):
    """A Tensor that is a trainable weight of a Module (``requires_grad=True``)."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of all layers and models.  Subclasses set attributes in ``__init__`` and
    write ``forward``; call the module itself (``model(x)``) to run it."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- attribute registration -------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() first in "
                               "__init__, before assigning attributes.")
        if (name in self._parameters and value is not None
                and not isinstance(value, Parameter)):
            # PyTorch refuses too: the weight would silently stop being trained and saved
            raise TypeError(
                f"{type(self).__name__}: cannot assign a {type(value).__name__} to "
                f"'{name}', which is a Parameter; wrap it (self.{name} = Parameter(value)), "
                f"change the values in place (self.{name}.data[...] = value), or assign None "
                "to remove it.")
        for store in (self._parameters, self._buffers, self._modules):
            store.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self.__dict__.get("_buffer_names", ()):
            self._buffers[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name, array):
        """A NumPy array saved in the state dict but not trained (e.g. running statistics)."""
        self.__dict__.setdefault("_buffer_names", set()).add(name)
        setattr(self, name, np.asarray(array))

    # -- running -------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- traversal ---------------------------------------------------------------------
    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix=""):
        for mod_name, mod in self.named_modules(prefix):
            for name, p in mod._parameters.items():
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        for mod_name, mod in self.named_modules(prefix):
            for name, b in mod._buffers.items():
                yield (f"{mod_name}.{name}" if mod_name else name), b

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    # -- modes and gradients --------------------------------------------------------------
    def train(self, mode: bool = True):
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, requires_grad: bool = True):
        """Freeze (False) or unfreeze all parameters, e.g. a pretrained feature extractor."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def to(self, dtype):
        """Convert every parameter and floating-point buffer to ``dtype``, in place
        (e.g. np.float64 for a gradcheck through a whole model); returns the module.

        The Parameter objects stay the same: only their ``.data`` (and ``.grad``) are
        replaced by converted arrays.  So an optimizer made before ``.to`` still updates
        this model's weights, and its state (Adam's moments) follows the new dtype at its
        next step.  Buffers are NumPy arrays, whose dtype cannot change in place: each is
        replaced by a converted copy, in the module's attribute and its buffer table alike.
        """
        given = dtype
        if isinstance(dtype, str) and dtype.split(":")[0] in ("cpu", "cuda", "mps", "xpu"):
            raise TypeError(f"{type(self).__name__}.to: expected a floating-point NumPy dtype "
                            f"such as np.float32 or np.float64, got the device {given!r}: "
                            "devices are not supported (everything lives in NumPy memory).")
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            dtype = None
        if dtype is None or not np.issubdtype(dtype, np.floating):
            raise TypeError(f"{type(self).__name__}.to: expected a floating-point NumPy dtype "
                            f"such as np.float32 or np.float64, got {given!r}.")
        for p in self.parameters():
            p.data = p.data.astype(dtype, copy=False)
            if p.grad is not None:
                p.grad = Tensor(p.grad.data.astype(dtype, copy=False))
        for mod in self.modules():
            for name, b in list(mod._buffers.items()):
                if np.issubdtype(b.dtype, np.floating):
                    mod._buffers[name] = b.astype(dtype, copy=False)
                    object.__setattr__(mod, name, mod._buffers[name])
        return self

    # -- state dict ---------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """name -> array (copies) of every parameter and buffer, PyTorch's names."""
        sd = OrderedDict()
        for mod_name, mod in self.named_modules():
            prefix = f"{mod_name}." if mod_name else ""
            sd.update((prefix + k, p.data.copy()) for k, p in mod._parameters.items())
            sd.update((prefix + k, np.array(b, copy=True)) for k, b in mod._buffers.items())
        return sd

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy arrays into the parameters and buffers.

        All or nothing: every entry is checked first (key, shape, dtype), and only then
        are the values written, so a bad entry leaves the model as it was.  Raises
        ValueError naming every missing and unexpected key (with ``strict``), any shape
        mismatch and any value that does not convert safely: strings, objects and complex
        numbers are refused, and so is a float into an integer buffer (2.7 would become 2).
        Values are cast to each parameter's dtype.  Returns ``(missing, unexpected)``.
        """
        own = dict(self.named_parameters())
        buffers = {k: v for k, v in self.named_buffers()}
        missing = [k for k in list(own) + list(buffers) if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own and k not in buffers]
        problems = []
        if strict and (missing or unexpected):
            if missing:
                problems.append(f"missing keys: {', '.join(missing)}")
            if unexpected:
                problems.append(f"unexpected keys: {', '.join(unexpected)}")
        for key, value in state_dict.items():
            target = own.get(key, buffers.get(key))
            if target is None:
                continue
            try:
                value = np.asarray(value.data if isinstance(value, Tensor) else value)
            except (TypeError, ValueError):
                problems.append(f"{key} is a {type(value).__name__}, not an array")
                continue
            if tuple(value.shape) != tuple(target.shape):
                problems.append(f"shape mismatch for {key}: the model has "
                                f"{tuple(target.shape)}, the state dict has {tuple(value.shape)}")
            elif value.dtype.kind not in "biuf":
                problems.append(f"{key} has dtype {value.dtype}, not real numbers (refused: "
                                "strings, objects, complex values)")
            elif np.asarray(target).dtype.kind in "biu" and value.dtype.kind == "f":
                problems.append(f"{key} holds floats ({value.dtype}) but the model's buffer is "
                                f"{np.asarray(target).dtype}; converting would cut off the "
                                "fractions")
        if problems:
            raise ValueError(f"load_state_dict into {type(self).__name__}: "
                             + "; ".join(problems) + ".")
        for key, value in state_dict.items():  # all checked: now write
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if key in own:
                own[key].data = value.astype(own[key].dtype, copy=True)
            elif key in buffers:
                buffers[key][...] = value  # in place: layers hold references to buffers
        return missing, unexpected

    def save(self, path):
        """Write the state dict to an ``.npz`` file, atomically."""
        save_npz_atomic(path, self.state_dict())

    def load(self, path, strict: bool = True):
        """Load a state dict saved with ``save`` (no pickle is ever read)."""
        return self.load_state_dict(load_npz(path, what="weights file"), strict=strict)

    # -- printing ---------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied in order.  Indexable like a list: ``features[3]``, ``features[:5]``."""

    def __init__(self, *modules):
        super().__init__()
        for i, m in enumerate(modules):
            _check_module(m, i)
            setattr(self, str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, index):
        mods = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*mods[index])
        return mods[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        _check_module(module, len(self))
        setattr(self, str(len(self)), module)
        return self


def _check_module(m, i):
    """Sequential holds Module instances only: anything else would be silently skipped."""
    if isinstance(m, Module):
        return
    if isinstance(m, type) and issubclass(m, Module):
        raise TypeError(f"Sequential: entry {i} is the class nn.{m.__name__}, not a layer; "
                        f"use nn.{m.__name__}() (with parentheses).")
    raise TypeError(f"Sequential: entry {i} is a {type(m).__name__} ({m!r:.40}), not a "
                    "Module; wrap a function in a Module subclass whose forward calls it.")
