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
import os
import threading

_here = threading.local()   # .one_core: is this thread working on a slice?
_workers = []               # the threads that take the slices after the first
_in_use = threading.Lock()  # held while a split runs: the workers serve one split at a time
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


class _Worker(threading.Thread):
    """A thread that runs one slice at a time.  Handing it a slice and waiting for it are
    one lock each (a thread pool's futures take several), which matters at tens of
    microseconds a hand-off and hundreds of splits a training step."""

    def __init__(self):
        super().__init__(name="tinygrad_cs-split", daemon=True)
        self._go, self._done = threading.Lock(), threading.Lock()
        self._go.acquire()
        self._done.acquire()
        self._job = self._result = self._error = None
        self.start()

    def run(self):
        while True:
            self._go.acquire()                       # sleep until a slice comes
            work, lo, hi = self._job
            try:
                self._result, self._error = _on_one_core(work, lo, hi), None
            except BaseException as e:               # handed to the waiting thread
                self._result, self._error = None, e
            self._done.release()

    def submit(self, work, lo, hi):
        self._job = (work, lo, hi)
        self._go.release()

    def result(self):
        self._done.acquire()
        if self._error is not None:
            raise self._error
        return self._result


_pid = os.getpid()           # the process the workers belong to


def forget_pool():
    """Start new workers on the next split.  A child made by fork() has none of its
    parent's threads, only their records: split_batch calls this when it finds itself in
    another process than the one its workers were started in."""
    global _workers, _in_use, _pid
    _workers, _in_use, _pid = [], threading.Lock(), os.getpid()


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
    if _pid != os.getpid():  # a forked child: its parent's workers are not here
        forget_pool()
    # another thread of the program is splitting right now: this one runs on its own
    if parts < 2 or on_one_core() or not _in_use.acquire(blocking=False):
        return [work(0, N)]
    try:
        while len(_workers) < parts - 1:
            _workers.append(_Worker())
        bounds = [N * i // parts for i in range(parts + 1)]
        slices = list(zip(bounds[:-1], bounds[1:]))
        with _one_blas_thread():
            for worker, (lo, hi) in zip(_workers, slices[1:]):
                worker.submit(work, lo, hi)
            try:
                first = _on_one_core(work, *slices[0])   # this thread takes the first slice
            finally:
                rest = [_workers[i].result() for i in range(parts - 1)]  # wait for all
        return [first] + rest
    finally:
        _in_use.release()
