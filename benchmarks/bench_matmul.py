"""Time the matrix products inside the big convolutions and the MLP generator: NumPy's
(OpenBLAS) against PyTorch's (torch.mm) on the same float32 shapes, as ratios in one run.

The convolutions' forward+backward is these three products plus building or scattering
a patch matrix.  This script separates the two: when ours/torch is ~1 here but higher in
bench_kernels.py, the difference is the patch matrix; when it is above 1 here, it is the
BLAS library.

    python benchmarks/bench_matmul.py [--torch-python PATH] [--unset-openblas-env] [--rounds 3]
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

from common import (benchmark_parser, best_of_rounds, machine, rerun_without_openblas_env,  # noqa: E402
                    table, timeit)
from conv_shapes import MATMUL_CASES  # noqa: E402


def ours():
    rng = np.random.default_rng(0)
    times = {}
    for name, (m, k, n) in MATMUL_CASES.items():
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        out = np.empty((m, n), np.float32)
        times[name] = timeit(lambda: np.matmul(a, b, out=out), repeat=15)
    return times


def main():
    ap = benchmark_parser(__doc__)
    args = ap.parse_args()
    rerun_without_openblas_env(args.unset_openblas_env)

    mine, theirs = best_of_rounds(args.rounds, ours, os.path.join(HERE, "torch_matmul_side.py"),
                                  args.torch_python)
    rows = []
    for name, (m, k, n) in MATMUL_CASES.items():
        gflop = 2 * m * k * n / 1e9
        row = [name, f"{m} x {k} x {n}", f"{mine[name] * 1e3:.2f}", f"{gflop / mine[name]:.0f}"]
        if theirs:
            row += [f"{theirs[name] * 1e3:.2f}", f"{gflop / theirs[name]:.0f}",
                    f"{mine[name] / theirs[name]:.2f}"]
        rows.append(row)
    headers = ["product", "M x K x N", "NumPy ms", "NumPy GFLOP/s"]
    if theirs:
        headers += ["torch ms", "torch GFLOP/s", "NumPy/torch"]
    print(f"machine: {machine()}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(table(rows, headers))


if __name__ == "__main__":
    main()
