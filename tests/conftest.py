"""Imported by pytest before the test modules: tinygrad_cs comes before NumPy, as in the
demos, so the numba kernels run in parallel in the tests too (see tinygrad_cs/threads.py)
and a race between their threads would show up as a wrong result."""
import tinygrad_cs  # noqa: F401
