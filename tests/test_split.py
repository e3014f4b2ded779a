"""backends/fast/split.py: a batch split between the cores, each slice on one thread."""
import os
import signal
import threading
import time

import pytest
from threadpoolctl import threadpool_info

import tinygrad_cs.backends.fast.compile as KS
from tinygrad_cs.backends.fast import split


def _blas_threads():
    """NumPy's BLAS (the one our products use)."""
    return [lib["num_threads"] for lib in threadpool_info()
            if lib["user_api"] == "blas" and "numpy" in lib["filepath"]]


def test_slices_cover_the_batch_in_order_each_on_one_core(monkeypatch):
    monkeypatch.setattr(split, "cores", lambda: 3)
    before = _blas_threads()
    seen = []

    def work(lo, hi):
        seen.append((lo, hi, threading.get_ident(), split.on_one_core(), _blas_threads()))
        return list(range(lo, hi))

    results = split.split_batch(work, 7)
    assert results == [[0, 1], [2, 3], [4, 5, 6]]            # in the slices' order
    assert sorted(s[:2] for s in seen) == [(0, 2), (2, 4), (4, 7)]
    assert len({s[2] for s in seen}) > 1                     # more than one thread ran
    assert all(s[3] for s in seen)                           # serial kernels inside
    assert all(threads == [1] * len(before) for *_, threads in seen)  # one BLAS thread
    assert not split.on_one_core() and _blas_threads() == before      # all set back


def test_one_image_one_core_or_a_nested_split_runs_here(monkeypatch):
    here = threading.get_ident()
    calls = []

    def work(lo, hi):
        calls.append((lo, hi, threading.get_ident(), split.on_one_core()))
        return hi - lo

    monkeypatch.setattr(split, "cores", lambda: 2)
    assert split.split_batch(work, 1) == [1]                  # one image
    monkeypatch.setattr(split, "cores", lambda: 1)
    assert split.split_batch(work, 5) == [5]                  # one core
    assert calls == [(0, 1, here, False), (0, 5, here, False)]  # as if not split at all
    monkeypatch.setattr(split, "cores", lambda: 2)
    calls.clear()
    outer = split.split_batch(lambda lo, hi: split.split_batch(work, hi - lo), 4)
    assert outer == [[2], [2]] and all(c[3] for c in calls)  # inner ones ran inline


def test_an_error_in_a_slice_reaches_the_caller_and_blas_is_set_back(monkeypatch):
    monkeypatch.setattr(split, "cores", lambda: 2)
    before = _blas_threads()

    def work(lo, hi):
        if lo > 0:
            raise ValueError("slice failed")
        return lo

    with pytest.raises(ValueError, match="slice failed"):
        split.split_batch(work, 4)
    assert _blas_threads() == before and not split.on_one_core()


def test_dispatchers_pick_the_serial_twin_inside_a_slice(monkeypatch):
    monkeypatch.setattr(split, "cores", lambda: 2)
    from tinygrad_cs.backends.fast.im2col import _im2col_numba
    big = 1 << 30
    assert KS.sized(_im2col_numba, big) is _im2col_numba
    picked = split.split_batch(lambda lo, hi: KS.sized(_im2col_numba, big), 2)
    assert picked == [_im2col_numba.serial] * 2
    assert KS.parallel_pays(big)                              # the size rule is unchanged


def test_a_forked_child_splits_too(monkeypatch):
    """The pool's threads do not survive fork(): the child must start its own."""
    monkeypatch.setattr(split, "cores", lambda: 2)
    assert split.split_batch(lambda lo, hi: hi - lo, 4) == [2, 2]  # the pool exists now
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 only if its split ran both slices
        try:
            os._exit(0 if split.split_batch(lambda lo, hi: hi - lo, 4) == [2, 2] else 1)
        finally:
            os._exit(2)
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child's split never finished")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0
