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

# Kernels mark their independent outer loops with ``prange`` but are compiled serial.
# Measured on a 2-core machine: OpenBLAS keeps its worker threads spinning for a while
# after every matrix product, and a numba-parallel kernel started right after a GEMM
# (im2col, pooling, the next layer) fights them for the cores -- a training step of a
# small CNN took 2-2.5x longer with parallel kernels than with serial kernels and
# multi-threaded BLAS.  So BLAS owns the cores.  (numba's on-disk cache does not tell
# parallel and serial builds apart, so this is not an environment switch.)
PARALLEL = False

if USE_NUMBA:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency, but be forgiving
        USE_NUMBA = False


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
