"""How OpenBLAS (matrix products) and our numba kernels share the cores.

A training step alternates matrix products, which OpenBLAS runs on all cores, with our
kernels (im2col, pooling, Adam, ...), which numba runs in parallel over images or
channels.  After each product OpenBLAS keeps its worker threads spinning, waiting for
more work, for about 2**28 cycles (~0.1 s) by default.  A numba kernel that starts in
that window fights them for the cores.  Measured on a 2-core machine: a vanilla GAN step
took 118 ms with parallel kernels instead of 42 ms with serial ones.

``OPENBLAS_THREAD_TIMEOUT=4`` makes OpenBLAS's threads sleep after 2**4 cycles instead.
Then both can use both cores: the DCGAN step went from 604 ms (serial kernels) to 494 ms.

OpenBLAS reads the variable once, when NumPy is first imported, so this module must run
before NumPy is imported: ``tinygrad_cs/__init__.py`` imports it first thing, and
``layers``, ``models`` and the demos import ``tinygrad_cs`` before NumPy.  A value you set
yourself is kept.  If NumPy was imported earlier without the variable, OpenBLAS can no
longer be changed; our kernels then run on one thread (``numba.set_num_threads(1)`` in
``kernels/__init__.py``), which avoids the fight at the cost of the second core.
"""
import os
import sys

TIMEOUT_VARIABLE = "OPENBLAS_THREAD_TIMEOUT"
SHORT_TIMEOUT = "4"  # OpenBLAS's minimum: threads sleep after 2**4 cycles

SET_HERE = set()  # names of the environment variables this module set


def _set_default(name, value):
    """Set an environment variable unless the user already did (theirs is kept)."""
    if name not in os.environ:
        os.environ[name] = value
        SET_HERE.add(name)


def environ_as_found() -> dict:
    """The environment without the variables set here: for starting another program as if
    tinygrad_cs had not been imported (the benchmarks start PyTorch this way, whose own
    OpenMP threads would otherwise read our OMP_WAIT_POLICY)."""
    return {k: v for k, v in os.environ.items() if k not in SET_HERE}


def _blas_threads_sleep_quickly() -> bool:
    if "numpy" not in sys.modules:  # OpenBLAS is not loaded yet: we can still choose
        _set_default(TIMEOUT_VARIABLE, SHORT_TIMEOUT)
    # Otherwise the variable counts only if it was set (we trust: before NumPy came).
    value = os.environ.get(TIMEOUT_VARIABLE, "")
    # OpenBLAS's default is 28; up to 10 (2**10 cycles, under a microsecond) is quick.
    return value.isdigit() and int(value) <= 10


BLAS_SLEEPS_QUICKLY = _blas_threads_sleep_quickly()

# The same holds the other way round: numba runs parallel kernels on an OpenMP thread pool
# (GNU libgomp), whose threads spin for a while after each kernel, waiting for more work.
# A matrix product right after a kernel then shares the cores with a spinning thread: on
# 2 cores a (8192, 800) @ (800, 64) product took ~0.9 ms (10%) longer, and a vanilla GAN
# step, which alternates small kernels and products, 47-53 ms instead of 29-42 ms.
# PASSIVE makes the pool's threads sleep as soon as a kernel is done.  libgomp reads the
# variable when numba first starts it, on the first parallel kernel; a value you set is kept.
OMP_WAIT_VARIABLE = "OMP_WAIT_POLICY"
_set_default(OMP_WAIT_VARIABLE, "PASSIVE")
