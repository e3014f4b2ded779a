"""Fast kernels on raw NumPy arrays, each paired with a plain NumPy reference.

Read the ``*_reference`` function first: it says *what* is computed, vectorised with NumPy.
The numba version beside it computes the same thing with explicit loops, compiled to
machine code (``@njit``), parallel over the outer loop (``prange``) where that pays.

Set the environment variable ``TINYGRAD_CS_NUMBA=0`` to run the references only (for
debugging, for reading along in a debugger, or where numba is not available).
"""
import os

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

    With numba off the undecorated Python function is returned (it is never called: the
    dispatchers below pick the reference instead).
    """
    def wrap(fn):
        if not USE_NUMBA:
            return fn
        return numba.njit(cache=True, parallel=parallel and PARALLEL, fastmath=fastmath,
                          nogil=True)(fn)
    return wrap


def prange(*args):
    """numba.prange inside compiled code; plain range otherwise."""
    return range(*args)


if USE_NUMBA:
    prange = numba.prange  # noqa: F811
