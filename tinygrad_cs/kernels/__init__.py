"""Fast kernels on raw NumPy arrays, each paired with a plain NumPy reference.

Read the ``*_reference`` function first: it says *what* is computed, vectorised with NumPy.
The numba version beside it computes the same thing with explicit loops, compiled to
machine code (``@njit``), parallel over the outer loop (``prange``) where that pays.

Set the environment variable ``TINYGRAD_CS_NUMBA=0`` to run the references only (for
debugging, for reading along in a debugger, or where numba is not available).
"""
import os
import types

from .split import on_one_core


def _flag(name, default):
    return os.environ.get(name, default).strip().lower() not in ("0", "false", "no", "off", "")


USE_NUMBA = _flag("TINYGRAD_CS_NUMBA", "1")

# Kernels run their independent outer loops in parallel (``prange``) on numba's threads.
# That pays only if OpenBLAS's threads go to sleep right after each matrix product; see
# ``tinygrad_cs/threads.py``, which arranges it, or else makes our kernels single-threaded.
PARALLEL = True

if USE_NUMBA:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency, but be forgiving
        USE_NUMBA = False
    else:
        from ..threads import BLAS_SLEEPS_QUICKLY
        if not BLAS_SLEEPS_QUICKLY:
            numba.set_num_threads(1)


def njit(parallel=False, fastmath=False):
    """``numba.njit(cache=True, ...)``: compiled once per machine, then loaded from cache.

    A parallel kernel also gets a serial twin, ``kernel.serial`` (the same code with
    ``prange`` as a plain ``range``); ``sized`` picks between them.  With numba off the
    undecorated Python function is returned (it is never called: the dispatchers below
    pick the reference instead).
    """
    def wrap(fn):
        if not USE_NUMBA:
            return fn
        compiled = numba.njit(cache=True, parallel=parallel and PARALLEL, fastmath=fastmath,
                              nogil=True)(fn)
        if parallel:
            compiled.serial = numba.njit(cache=True, fastmath=fastmath, nogil=True)(_twin(fn))
        return compiled
    return wrap


def _twin(fn):
    """A copy of ``fn`` under another name: numba's cache files are named after the
    function, and a serial and a parallel build of one name would overwrite each other."""
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial",
                              fn.__defaults__, fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_serial"
    return twin


# Waking numba's sleeping threads for a parallel kernel costs 20-60 us on this 2-core
# machine, more than a small job takes on one thread.  A leaky ReLU (a light loop: about
# 0.5 ns a number on one core) over 16,000 numbers took 40 us in parallel and 5 us
# serially, over 64,000 28 and 13 us, over 256,000 74 and 116 us; adding two arrays was
# faster in parallel from about 131,000 numbers.  ``work`` is a job's size in such light
# steps: the number of elements for elementwise loops and copies, more per element for
# kernels that do more per element (max pooling: outputs times the window's size; it was
# already faster in parallel from about 20,000 such steps, so the threshold is cautious).
PARALLEL_MIN_WORK = 1 << 17


def parallel_pays(work):
    """Is a job of ``work`` light steps big enough to run on all of numba's threads?"""
    return work >= PARALLEL_MIN_WORK


def sized(kernel, work):
    """``kernel`` for a job of ``work`` steps; its serial twin if parallel does not pay, or
    inside a slice of a batch split between the cores (split.py: the others are busy)."""
    return kernel if parallel_pays(work) and not on_one_core() else kernel.serial


def prange(*args):
    """numba.prange inside compiled code; plain range otherwise."""
    return range(*args)


if USE_NUMBA:
    prange = numba.prange  # noqa: F811
