"""Importing tinygrad_cs changes nothing outside it; the fast backend's process-wide
settings (backends/fast/policy.py) are made on first use, in any import order, and each
can be switched off."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# a small op on the fast backend, then what the process looks like
USE_AND_REPORT = """
import json, os, numpy as np
before = dict(os.environ)
import tinygrad_cs as tg
after_import = dict(os.environ)
import sys
fast_loaded_at_import = "tinygrad_cs.backends.fast" in sys.modules or "numba" in sys.modules
tg.set_backend("fast")
from tinygrad_cs.backends.fast import policy
x = tg.Tensor(np.ones((1, 1, 4, 4), np.float32), requires_grad=True)
tg.functional.conv2d(x, tg.Tensor(np.ones((1, 1, 3, 3), np.float32))).sum().backward()
from threadpoolctl import threadpool_info
print(json.dumps(dict(
    import_left_environ=after_import == before, environ_after_use=dict(os.environ) == before,
    fast_loaded_at_import=fast_loaded_at_import, applied=sorted(policy.applied()),
    blas_threads=[i["num_threads"] for i in threadpool_info()
                  if i["user_api"] == "blas" and "numpy" in i["filepath"]],
    all_blas_threads=[i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"])))
"""


def report(first_import="", **env_changes):
    import json
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "TINYGRAD_CS_POLICY_OFF")}
    env.update(env_changes)
    code = first_import + "\n" + USE_AND_REPORT
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_import_leaves_the_environment_as_it_was():
    code = ("import os; e = dict(os.environ); import tinygrad_cs, sys; "
            "assert dict(os.environ) == e; assert 'numba' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "ok"


@pytest.mark.parametrize("first_import", ["", "import numpy", "import scipy.linalg"])
def test_settings_are_made_on_first_use_whatever_was_imported_first(first_import):
    r = report(first_import)
    assert r["import_left_environ"] and r["environ_after_use"]   # nothing leaks to children
    assert not r["fast_loaded_at_import"]                        # nothing at import
    expected = {"blas"} | ({"memory"} if sys.platform.startswith("linux") else set())
    assert expected <= set(r["applied"])
    assert r["blas_threads"] == [1]                              # NumPy's BLAS
    assert r["all_blas_threads"] and set(r["all_blas_threads"]) == {1}  # SciPy's too


def test_each_setting_can_be_switched_off():
    r = report(TINYGRAD_CS_POLICY_OFF="blas,memory,omp")
    assert r["applied"] == []
    assert r["blas_threads"] and min(r["blas_threads"]) >= 1
    from tinygrad_cs.backends.fast import policy
    with pytest.raises(ValueError, match="unknown setting"):
        policy.switch_off("speed")


def test_switch_off_works_after_the_module_is_imported():
    code = """
import json, numpy as np, tinygrad_cs as tg
from tinygrad_cs.backends.fast import policy
policy.switch_off("blas", "memory")
tg.set_backend("fast")
tg.functional.conv2d(tg.Tensor(np.ones((1, 1, 5, 5), np.float32)),
                     tg.Tensor(np.ones((1, 1, 3, 3), np.float32)))
from threadpoolctl import threadpool_info
print(json.dumps(dict(applied=sorted(policy.applied()), blas=[
    i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"])))
"""
    import json
    env = {k: v for k, v in os.environ.items() if k != "TINYGRAD_CS_POLICY_OFF"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    assert "blas" not in r["applied"] and "memory" not in r["applied"]
    assert max(r["blas"]) > 1                                   # BLAS keeps its threads
