"""Process-wide settings the fast backend makes for speed, all in one place.

They are applied once, when the fast backend is first used (the first op that calls a
kernel), never when tinygrad_cs or this module is imported, and none of them is left in ``os.environ``,
so programs you start do not inherit them.  Each can be switched off: name it in the
environment variable ``TINYGRAD_CS_POLICY_OFF`` (a comma-separated list, read when the
backend starts), or call ``policy.switch_off("name")`` before the first op.

| name       | what it does                                   | what it buys (2-core Intel Xeon)        |
|------------|------------------------------------------------|-----------------------------------------|
| ``blas``   | holds OpenBLAS (NumPy's matrix products) to    | no fight for the cores between BLAS     |
|            | one thread; the fast backend splits big        | threads that spin after a product and   |
|            | products between the cores itself (matmul.py,  | the numba kernels: a DCGAN step in      |
|            | split.py)                                      | either import order as fast as the best |
|            |                                                | of the old orders (docs/performance.md) |
| ``omp``    | numba's OpenMP threads spin only briefly after | starry_night style iteration 27.8-29.6  |
|            | a kernel (GOMP_SPINCOUNT=10000, set only while | ms (sleep at once) or 25.2 ms with a    |
|            | numba starts them, then removed)               | DCGAN step 232-256 ms (default spin) -> |
|            |                                                | 25.7-25.9 ms with 177-180 ms            |
| ``memory`` | glibc's malloc keeps freed memory for reuse    | a style-transfer iteration ~17% faster  |
|            | (requests up to 32 MB from its heap; up to     | (fewer page faults on fresh arrays);    |
|            | 256 MB kept); Linux with glibc only            | costs up to 256 MB of kept peak memory  |

(A process made by fork() needs no setting: the batch split notices that it runs in a new
process and starts its own worker threads, split.py.)  ``applied()`` tells which were
applied.  ``release()`` undoes the BLAS limit (the others
cannot be undone in a running process).
"""
import ctypes
import ctypes.util
import os
import sys

NAMES = ("blas", "omp", "memory")
ENV_OFF = "TINYGRAD_CS_POLICY_OFF"

_off = set()
_applied = set()
_blas_limit = None   # threadpoolctl's handle while BLAS is held to one thread


def switch_off(*names):
    """Leave these settings alone (call before the fast backend is first used)."""
    unknown = set(names) - set(NAMES)
    if unknown:
        raise ValueError(f"policy.switch_off: unknown setting(s) {sorted(unknown)}; "
                         f"the settings are {', '.join(NAMES)}.")
    _off.update(names)


def applied():
    """The names of the settings in force."""
    return set(_applied)


def apply():
    """Apply every setting not switched off.  Called once by ``backends/fast/__init__.py``."""
    off = _off | {n.strip() for n in os.environ.get(ENV_OFF, "").split(",") if n.strip()}
    for name, step in (("blas", _hold_blas_to_one_thread), ("omp", _short_openmp_spin),
                       ("memory", _keep_freed_memory)):
        if name not in off and step():
            _applied.add(name)


def release():
    """Give OpenBLAS its threads back."""
    global _blas_limit
    if _blas_limit is not None:
        _blas_limit.restore_original_limits()
        _blas_limit = None
        _applied.discard("blas")


# -- the settings --------------------------------------------------------------------------

def _hold_blas_to_one_thread():
    # After each product OpenBLAS keeps its threads spinning, waiting for more work, for
    # about 0.1 s; a numba kernel that starts in that window shares the cores with them.
    # The thread timeout that would stop this is read only when NumPy is first imported,
    # so it cannot be set from here in any import order.  With one BLAS thread there is
    # nothing to spin, and products big enough to share get split between the cores by
    # matmul.py instead.  threadpoolctl finds the BLAS libraries NumPy and SciPy loaded.
    global _blas_limit
    import scipy.linalg  # noqa: F401  (loads SciPy's own OpenBLAS now, so it is held too)
    _blas_limit = threadpoolctl().threadpool_limits(limits=1, user_api="blas")
    return True


def threadpoolctl():
    """The threadpoolctl module, imported without leaving its KMP_DUPLICATE_LIB_OK (for
    Intel's OpenMP, which we do not load) in the environment of programs we start."""
    before = os.environ.get("KMP_DUPLICATE_LIB_OK")
    import threadpoolctl as module
    if before is None:
        os.environ.pop("KMP_DUPLICATE_LIB_OK", None)
    return module


def _short_openmp_spin():
    # numba runs parallel kernels on OpenMP (GNU libgomp) threads.  After a kernel they spin,
    # waiting for the next one, for about 300,000 turns by default, and a matrix product or
    # a slice of a batch split that starts then shares the cores with them.  Sleeping at
    # once (OMP_WAIT_POLICY=PASSIVE) costs a wake-up per kernel instead.  A short spin,
    # GOMP_SPINCOUNT=10000, catches kernels that follow each other and then lets go.
    # libgomp reads the variable when it is loaded, which numba does when it starts its
    # threads: so it is set only around that moment, then the environment is put back.
    import numba
    from numba.np.ufunc import parallel
    if numba.config.THREADING_LAYER not in ("default", "omp", "safe", "threadsafe"):
        return False
    if any(v in os.environ for v in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")):
        parallel._launch_threads()   # the user's own choice stands
        return False
    os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
    try:
        parallel._launch_threads()
    finally:
        del os.environ["GOMP_SPINCOUNT"]
    return numba.threading_layer() == "omp"


SPIN_COUNT = "10000"


M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 256 * 1024 * 1024


def _keep_freed_memory():
    # Every op makes a fresh output array, and a training step frees about as much as it
    # allocates.  By default glibc hands big freed blocks back to the operating system, and
    # the next array of that size starts on pages the kernel must find and zero on first
    # touch.  Serving big requests from the heap and keeping freed memory avoids that.
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
