"""Time each kernel against its NumPy reference and (optionally) PyTorch CPU, as ratios
measured in one run.

    python benchmarks/bench_kernels.py [--torch-python PATH] [--unset-openblas-env] [--rounds 3]

--torch-python: a Python interpreter with torch==2.13.0 installed (e.g. a separate venv);
  without it, and without torch importable here, the PyTorch column is left out.
--unset-openblas-env: re-run this script with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset
  (they slow a current NumPy; both sides are then measured without them).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

from common import (benchmark_parser, best_of_rounds, machine, rerun_without_openblas_env,  # noqa: E402
                    table, timeit)
from conv_shapes import BN_CASES, CONV_CASES, POOL_CASES  # noqa: E402


def ours_and_reference():
    import tinygrad_cs.functional as F
    from tinygrad_cs import Tensor, grad
    from tinygrad_cs.backends.reference import batchnorm as BN
    from tinygrad_cs.backends.reference import conv as KC
    from tinygrad_cs.backends.reference import pool as P
    from tinygrad_cs.backends.shapes import pool_out_size

    rng = np.random.default_rng(0)
    rows = {}
    for name, (kind, xs, ws, s, p) in CONV_CASES.items():
        x = Tensor(rng.standard_normal(xs).astype(np.float32), requires_grad=True)
        w = Tensor(rng.standard_normal(ws).astype(np.float32), requires_grad=True)
        if kind == "conv":
            op = lambda: F.conv2d(x, w, stride=s, padding=p)  # noqa: E731
            ref = lambda: KC.conv2d(x.data, w.data, (s, s), (p, p))  # noqa: E731
        else:
            op = lambda: F.conv_transpose2d(x, w, stride=s, padding=p)  # noqa: E731
            hw = tuple((n - 1) * s - 2 * p + k for n, k in zip(xs[2:], ws[2:]))
            ref = lambda: KC.conv_transpose2d(x.data, w.data, (s, s), (p, p), hw)  # noqa: E731
        g = Tensor(rng.standard_normal(op().shape).astype(np.float32))
        rows[name] = {"forward": timeit(op), "fwd+bwd": timeit(lambda: grad(op(), [x, w], [g])),
                      "reference forward": timeit(ref)}
    for name, (xs, k, s, ceil) in POOL_CASES.items():
        x = Tensor(rng.standard_normal(xs).astype(np.float32), requires_grad=True)
        op = lambda: F.max_pool2d(x, k, s, ceil_mode=ceil)  # noqa: E731
        Ho = pool_out_size(xs[2], k, s, 0, ceil)
        Wo = pool_out_size(xs[3], k, s, 0, ceil)
        g = Tensor(rng.standard_normal(op().shape).astype(np.float32))
        rows[name] = {"forward": timeit(op), "fwd+bwd": timeit(lambda: grad(op(), [x], [g])),
                      "reference forward": timeit(lambda: P.maxpool(x.data, k, k, s, s, 0, 0, Ho, Wo))}
    for name, shape in BN_CASES.items():
        x = Tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
        w = Tensor(np.ones(shape[1], np.float32), requires_grad=True)
        b = Tensor(np.zeros(shape[1], np.float32), requires_grad=True)
        op = lambda: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
        g = Tensor(rng.standard_normal(shape).astype(np.float32))
        ncs = (shape[0], shape[1], int(np.prod(shape[2:])) if len(shape) > 2 else 1)
        rows[name] = {"forward": timeit(op), "fwd+bwd": timeit(lambda: grad(op(), [x, w, b], [g])),
                      "reference forward": timeit(lambda: BN.batchnorm_forward(
                          x.data.reshape(ncs), w.data, b.data, 1e-5))}
    return rows


def main():
    ap = benchmark_parser(__doc__)
    args = ap.parse_args()
    rerun_without_openblas_env(args.unset_openblas_env)

    ours, theirs = best_of_rounds(args.rounds, ours_and_reference,
                                  os.path.join(HERE, "torch_side.py"), args.torch_python)
    rows = []
    for name, r in ours.items():
        row = [name, f"{r['forward'] * 1e3:.2f}", f"{r['fwd+bwd'] * 1e3:.2f}",
               f"{r['reference forward'] / r['forward']:.2f}x"]
        if theirs:
            t = theirs[name]
            row += [f"{t['forward'] * 1e3:.2f}", f"{t['fwd+bwd'] * 1e3:.2f}",
                    f"{r['forward'] / t['forward']:.2f}", f"{r['fwd+bwd'] / t['fwd+bwd']:.2f}"]
        rows.append(row)
    headers = ["op", "ours fwd ms", "ours fwd+bwd ms", "NumPy ref / ours (fwd)"]
    if theirs:
        headers += ["torch fwd ms", "torch fwd+bwd ms", "ours/torch fwd", "ours/torch fwd+bwd"]
    print(f"machine: {machine()}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(table(rows, headers))


if __name__ == "__main__":
    main()
