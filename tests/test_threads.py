"""tinygrad_cs/threads.py: OpenBLAS's threads are told to sleep quickly when we can still
tell them, and our numba kernels fall back to one thread when we cannot; numba's own
threads sleep after each kernel.  memory.py:
freed memory is kept for reuse on glibc, unless switched off."""
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = ("import os, numba; from tinygrad_cs import threads; "
          "print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'), threads.BLAS_SLEEPS_QUICKLY, "
          "numba.get_num_threads(), numba.config.NUMBA_NUM_THREADS)")


def python(code, env):
    """What a fresh Python prints when it runs ``code`` with environment ``env``."""
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True).stdout


def run(first_import, **env_changes):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env.update(TINYGRAD_CS_NUMBA="1", **env_changes)
    out = python(f"{first_import}; import tinygrad_cs; {REPORT}", env).split()
    return out[0], out[1] == "True", int(out[2]), int(out[3])


def test_imported_before_numpy_sets_a_short_timeout_and_kernels_use_all_threads():
    value, quick, threads, default = run("import sys")
    assert (value, quick, threads) == ("4", True, default)


def test_numpy_imported_first_means_single_threaded_kernels():
    value, quick, threads, _ = run("import numpy")
    assert (value, quick, threads) == ("None", False, 1)


def test_a_value_set_by_the_user_is_kept():
    assert run("import numpy", OPENBLAS_THREAD_TIMEOUT="6")[:2] == ("6", True)
    value, quick, threads, _ = run("import sys", OPENBLAS_THREAD_TIMEOUT="28")
    assert (value, quick, threads) == ("28", False, 1)


def test_numba_threads_sleep_after_a_kernel_unless_the_user_chose():
    code = "import tinygrad_cs, os; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert python(code, env).strip() == "PASSIVE"
    assert python(code, dict(env, OMP_WAIT_POLICY="ACTIVE")).strip() == "ACTIVE"


def test_other_programs_can_be_started_without_our_settings():
    code = ("import tinygrad_cs, os; from tinygrad_cs.threads import environ_as_found; "
            "e = environ_as_found(); print(os.environ['OMP_WAIT_POLICY'], "
            "e.get('OMP_WAIT_POLICY'), e.get('OPENBLAS_THREAD_TIMEOUT'))")
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT")}
    assert python(code, env).split() == ["PASSIVE", "None", "None"]
    # a value the user set is theirs: it stays for the other program too
    assert python(code, dict(env, OMP_WAIT_POLICY="ACTIVE")).split() == ["ACTIVE", "ACTIVE",
                                                                         "None"]


def test_freed_memory_is_kept_unless_switched_off():
    code = "import tinygrad_cs; print(tinygrad_cs.memory.KEEPS_MEMORY)"
    kept = python(code, dict(os.environ)).strip()
    assert kept == str(sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc")
    assert python(code, dict(os.environ, TINYGRAD_CS_KEEP_MEMORY="0")).strip() == "False"


def test_the_suite_runs_the_kernels_in_parallel():
    # conftest.py imports tinygrad_cs before NumPy; otherwise the kernel tests would only
    # ever see one thread (on a one-core machine numba has one thread anyway).
    import numba
    from tinygrad_cs import threads
    assert threads.BLAS_SLEEPS_QUICKLY
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
