"""Splitting a batch between the cores: each core convolves its own slice of the images.

A convolution of a batch is a loop over chunks of a few images: build the chunk's patch
matrix (im2col), multiply it by the weights (one matrix product), put the result in place.
Both cores can share that work in two ways:

1. every step on both cores: the numba kernels parallel over rows (``prange``), OpenBLAS
   with two threads.  Both cores wait for each other after every step, and each step's
   output, a few MB, is written by both cores and then read by both.
2. each core runs the whole loop for its own half of the batch: the serial kernels and
   OpenBLAS on one thread.  A chunk then stays in the core's own cache (2 MB of L2 on a 2-core Intel Xeon)
   from its im2col to its product, and the cores meet only at the end.

The second is faster for a batch.  Measured with 2 threads on DCGAN's second convolution
(128 x 32 x 12 x 12 -> 64 channels, 5x5), forward + input gradient + weight gradient,
medians of 20, both in one process: 26.2 ms (the first way, 8 MB chunks, patches kept
for the weight gradient) -> 20.1 ms (the second, chunks of 8 images = 1.6 MB, patches
built again in the weight gradient, which in cache costs less than keeping them).

``split_batch(work, N)`` runs ``work(lo, hi)`` for one slice of the N images per core, at
the same time.  Inside ``work``, ``on_one_core()`` is true: the dispatchers (``sized`` in
``compile.py``) then pick the serial twins of the kernels, and OpenBLAS is held to
one thread (with threadpoolctl, which finds the BLAS library that NumPy loaded and calls
its ``set_num_threads``; it is set back afterwards).  So the two ways never run at once:
no core ever has more than one busy thread.  With one image, or one core, ``work(0, N)``
simply runs here, the first way.

While a split runs, a matrix product that *another* thread of your program starts also
gets only one BLAS thread.
"""
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

_here = threading.local()   # .one_core: is this thread working on a slice?
_pool = None                # the threads that take the slices after the first
_blas = None                # threadpoolctl's handle on the BLAS libraries


def cores():
    """How many slices a batch is split into: numba's thread count (all cores, unless the
    environment variable NUMBA_NUM_THREADS says fewer)."""
    import numba
    return numba.config.NUMBA_NUM_THREADS


def on_one_core():
    """True inside a slice of ``split_batch``: run serially, the other cores are busy."""
    return getattr(_here, "one_core", False)


def _on_one_core(work, lo, hi):
    _here.one_core = True
    try:
        return work(lo, hi)
    finally:
        _here.one_core = False


def forget_pool():
    """Start a new pool on the next split (policy.py calls this in a forked child)."""
    global _pool
    _pool = None


def _one_blas_thread():
    from . import policy
    if "blas" in policy.applied():  # already held to one thread for the whole process
        return contextlib.nullcontext()
    global _blas
    if _blas is None:
        _blas = policy.threadpoolctl().ThreadpoolController().select(user_api="blas")
    return _blas.limit(limits=1)


def split_batch(work, N):
    """[work(lo, hi) for consecutive slices (lo, hi) of range(N)], one slice per core, run
    at the same time; the results in the order of the slices.  One slice, ``work(0, N)``,
    run here, when there is one image or one core, or when already inside a slice."""
    parts = min(N, cores())
    if parts < 2 or on_one_core():
        return [work(0, N)]
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=parts - 1, thread_name_prefix="tinygrad_cs")
    bounds = [N * i // parts for i in range(parts + 1)]
    slices = list(zip(bounds[:-1], bounds[1:]))
    with _one_blas_thread():
        others = [_pool.submit(_on_one_core, work, lo, hi) for lo, hi in slices[1:]]
        try:
            first = _on_one_core(work, *slices[0])   # this thread takes the first slice
        finally:
            rest = [f.result() for f in others]      # wait for all, even after an error
    return [first] + rest
