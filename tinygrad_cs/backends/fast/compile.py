"""Compiling kernels with numba, and choosing between a kernel's parallel and serial builds.

``njit`` compiles a kernel once per machine (``cache=True``: the machine code is kept in
``__pycache__`` and loaded on later runs).  A kernel marked parallel runs its outer
``prange`` loop on numba's threads, and also gets a serial twin; ``sized`` picks one of
the two for a job of a given size.
"""
import types

import numba

from .split import on_one_core


def njit(parallel=False, fastmath=False):
    """``numba.njit(cache=True, ...)``: compiled once per machine, then loaded from cache.

    A parallel kernel also gets a serial twin, ``kernel.serial`` (the same code with
    ``prange`` as a plain ``range``); ``sized`` picks between them.
    """
    def wrap(fn):
        # error_model="numpy": a division by zero gives inf or nan, as in NumPy, instead of
        # raising ZeroDivisionError (which would make results depend on the backend)
        options = dict(cache=True, fastmath=fastmath, nogil=True, error_model="numpy")
        compiled = numba.njit(parallel=parallel, **options)(fn)
        if parallel:
            compiled.serial = numba.njit(**options)(_twin(fn))
        return compiled
    return wrap


def _twin(fn):
    """A copy of ``fn`` under another name: numba's cache files are named after the
    function, and a serial and a parallel build of one name would overwrite each other."""
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_serial",
                              fn.__defaults__, fn.__closure__)
    twin.__qualname__ = fn.__qualname__ + "_serial"
    return twin


# Waking numba's sleeping threads for a parallel kernel costs 20-60 us on a 2-core
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


prange = numba.prange


def say_if_first_run():
    """Tell the user, once, when the kernels have not been compiled on this machine yet:
    the first ops then take a while, and a learner should not think it hangs."""
    import pathlib
    import sys
    cache = pathlib.Path(__file__).parent / "__pycache__"
    if not any(cache.glob("*.nbi")):
        print("tinygrad_cs: compiling the fast backend's numba kernels for this machine "
              "(once, as each is first needed: about 5-15 s in all; later runs load "
              "them from the cache)", file=sys.stderr, flush=True)
