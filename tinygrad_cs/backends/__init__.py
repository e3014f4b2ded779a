"""The seam between the math and the speed: which functions compute on raw arrays.

The ops (``tinygrad_cs/ops/``) never compute a convolution, a pooling or a batch norm
themselves.  They call ``kernels.conv2d(...)``, ``kernels.maxpool(...)`` and so on, and
``kernels`` hands each call to the backend in use:

* ``reference`` (``backends/reference/``): plain NumPy, written to read like the math.
  Read this one.  Step through it in a debugger after ``set_backend("reference")``.
* ``fast`` (``backends/fast/``): the same functions as numba kernels on both cores.  The
  default.  It is loaded (and numba imported) only when the first op needs it.

Choose with the environment variable ``TINYGRAD_CS_BACKEND=reference|fast`` (read once,
at the first op) or at run time with ``tinygrad_cs.set_backend("reference")``.
``TINYGRAD_CS_NUMBA=0`` is also accepted, meaning ``TINYGRAD_CS_BACKEND=reference``.

Both backends provide exactly the functions named in ``INTERFACE``; a test checks it, and
that they agree.
"""
import importlib
import os

BACKENDS = ("reference", "fast")
ENV_BACKEND = "TINYGRAD_CS_BACKEND"

INTERFACE = (
    "conv2d", "conv_transpose2d", "conv2d_weight_grad", "add_channel_bias",
    "maxpool", "scatter", "gather", "avgpool", "avgpool_backward",
    "batchnorm_forward", "batchnorm_backward",
    "leaky_relu", "leaky_relu_backward", "accumulate", "matmul", "adam_update",
)

_current = None  # the backend module in use; chosen on first use


def _from_environment():
    name = os.environ.get(ENV_BACKEND, "").strip().lower()
    if not name and os.environ.get("TINYGRAD_CS_NUMBA", "").strip().lower() in (
            "0", "false", "no", "off"):
        name = "reference"
    if name and name not in BACKENDS:
        raise ValueError(f"{ENV_BACKEND}={name!r}: choose one of {', '.join(BACKENDS)}.")
    return name or "fast"


def load(name):
    """The backend module called ``name`` (imported on first use)."""
    if name not in BACKENDS:
        raise ValueError(f"set_backend: unknown backend {name!r}; choose one of "
                         f"{', '.join(BACKENDS)}.")
    return importlib.import_module(f"{__name__}.{name}")


def set_backend(name):
    """Use the backend ``name`` ("reference" or "fast") for every op from now on."""
    global _current
    _current = load(name)
    # kernels.f is then a plain attribute lookup, not a call of _Kernels.__getattr__
    vars(kernels).update({f: getattr(_current, f) for f in INTERFACE})


def get_backend():
    """The name of the backend in use."""
    return current().NAME


def current():
    """The backend module in use (choosing it on the first call)."""
    if _current is None:
        set_backend(_from_environment())
    return _current


_NAMES = frozenset(INTERFACE)


class _Kernels:
    """``kernels.f(...)`` calls ``f`` of the backend in use."""

    def __getattr__(self, name):
        if name not in _NAMES:
            raise AttributeError(f"no backend function {name!r}; the interface is "
                                 f"{', '.join(INTERFACE)}.")
        return getattr(current(), name)


kernels = _Kernels()
