"""An experiment, not part of the engine: would a direct convolution in numba (no patch
matrix) beat im2col + GEMM on DCGAN conv2, the layer that misses issue 3's speed goal?

The direct forward below keeps a block of R output pixels x all O channels in registers and
adds, for every weight row k, R broadcast input numbers times the row: a GEMM micro-kernel
that reads its left operand straight from the channels-last input instead of a patch matrix.

numba compiles for this CPU, but on AVX-512 CPUs of the Skylake-X/Cascade Lake kind LLVM's
tuning prefers 256-bit vectors, so numba's code uses half the vector width the CPU has.
This script therefore runs itself twice, in child processes: once as numba compiles by
default, once with that tuning turned off (the 'prefer-256-bit' feature removed through
NUMBA_CPU_FEATURES, for the child only).  Each child times, in alternating rounds, the
direct forward and tinygrad_cs's conv2d forward (im2col + GEMM), both ending in NCHW.

    python benchmarks/direct_conv_experiment.py [--unset-openblas-env] [--rounds 3]

What it found is in docs/design-notes.md ("Tried in the sixth session and not kept").
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import tinygrad_cs  # noqa: E402,F401  (before NumPy: see tinygrad_cs/threads.py)

import numpy as np  # noqa: E402

from common import benchmark_parser, machine, rerun_without_openblas_env, table, timeit  # noqa: E402
from conv_shapes import CONV_CASES  # noqa: E402

CASE = "DCGAN D conv2 (128x32x12x12 -> 64 5x5)"
PIXELS = 4  # R: output pixels per register block (4 x 64 channels = 16 AVX-512 registers)


def direct_forward_kernel(C, O, R):
    """A numba kernel for stride 1, no padding, with C, O and R compiled in as constants
    (so LLVM can keep the (R, O) block of sums in registers).
    xs (N, H, W*C): the input channels-last, each image row flattened;
    wt (kh, kw*C, O): the weights, rows in the (j, c) order of a window row;
    out (N, Ho, Wo, O).  Wo must be a multiple of R."""
    from numba import njit, prange

    @njit(parallel=True, fastmath={"contract"})  # contract: allow fused multiply-adds
    def direct(xs, wt, out):
        N, Ho, Wo, _ = out.shape
        kh, KW, _ = wt.shape
        for t in prange(N * Ho):                         # one output row per task
            n = t // Ho
            ho = t - n * Ho
            for wo0 in range(0, Wo - R + 1, R):
                acc = np.zeros((R, O), xs.dtype)
                for i in range(kh):
                    for k in range(KW):                  # window row i: kw*C numbers in a row
                        for r in range(R):
                            a = xs[n, ho + i, (wo0 + r) * C + k]
                            for o in range(O):
                                acc[r, o] += a * wt[i, k, o]
                for r in range(R):
                    for o in range(O):
                        out[n, ho, wo0 + r, o] = acc[r, o]
    return direct


def child(rounds):
    """Time both forwards in this process; print one JSON line."""
    from tinygrad_cs.kernels import conv as kconv, layout

    _, (N, C, H, W), (O, _, kh, kw), _, _ = CONV_CASES[CASE]
    Ho, Wo = H - kh + 1, W - kw + 1
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = rng.standard_normal((O, C, kh, kw), dtype=np.float32)
    kernel = direct_forward_kernel(C, O, PIXELS)
    out = np.empty((N, Ho, Wo, O), np.float32)

    def direct():
        xs = layout.to_channels_last(x).reshape(N, H, W * C)
        wt = np.ascontiguousarray(w.transpose(2, 3, 1, 0)).reshape(kh, kw * C, O)
        kernel(xs, wt, out)
        return layout.to_channels_first(out)

    def im2col_gemm():
        return kconv.conv2d(x, w, (1, 1), (0, 0))

    expected = im2col_gemm()
    err = np.abs(direct() - expected).max() / np.abs(expected).max()
    assert err < 1e-5, f"the direct kernel is wrong: relative error {err:.2g}"
    best = {"direct": np.inf, "im2col + GEMM": np.inf}
    for _ in range(rounds):
        best["direct"] = min(best["direct"], timeit(direct, repeat=10))
        best["im2col + GEMM"] = min(best["im2col + GEMM"], timeit(im2col_gemm, repeat=10))
    asm = "\n".join(kernel.inspect_asm().values())
    best["512-bit registers in the kernel"] = "zmm" in asm
    print(json.dumps(best))


def run_child(wide, rounds):
    env = dict(os.environ)
    if wide:
        import llvmlite.binding as ll
        features = ll.get_host_cpu_features().flatten()
        if "+avx512f" not in features:
            return None
        env["NUMBA_CPU_FEATURES"] = features + ",-prefer-256-bit"
    else:
        env.pop("NUMBA_CPU_FEATURES", None)
    out = subprocess.run([sys.executable, __file__, "--child", str(rounds)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    if sys.argv[1:2] == ["--child"]:
        return child(int(sys.argv[2]))
    ap = benchmark_parser(__doc__)
    args = ap.parse_args()
    rerun_without_openblas_env(args.unset_openblas_env)

    _, (N, C, H, W), (O, _, kh, kw), _, _ = CONV_CASES[CASE]
    gflop = 2 * N * (H - kh + 1) * (W - kw + 1) * C * kh * kw * O / 1e9
    rows = []
    for wide, name in ((False, "numba's default"), (True, "prefer-256-bit off")):
        res = run_child(wide, args.rounds)
        if res is None:
            rows.append([name, "no AVX-512 on this CPU", "", "", ""])
            continue
        rows.append([name, "yes" if res["512-bit registers in the kernel"] else "no",
                     f"{res['direct'] * 1e3:.2f} ({gflop / res['direct']:.0f})",
                     f"{res['im2col + GEMM'] * 1e3:.2f} ({gflop / res['im2col + GEMM']:.0f})",
                     f"{res['direct'] / res['im2col + GEMM']:.2f}"])
    print(f"machine: {machine()}")
    print(f"{CASE}, forward only, best of {args.rounds} rounds, ms (GFLOP/s)")
    print(table(rows, ["compiled with", "zmm registers", "direct", "im2col + GEMM",
                       "direct / im2col"]))


if __name__ == "__main__":
    main()
