"""An experiment, not part of the engine: would a direct convolution in numba (no patch
matrix) beat im2col + GEMM on DCGAN conv2, the layer that misses issue 3's speed goal?

Two direct kernels, both GEMM micro-kernels that read one operand straight from the
channels-last input instead of from a patch matrix:

- forward: a block of R output pixels x all O channels summed in registers; for every
  weight row k, R input numbers (broadcast) times the row;
- weight gradient: a block of R weight rows x all O channels summed in registers over
  one image's output pixels, added into one partial sum per thread.

numba compiles for this CPU, but on AVX-512 CPUs of the Skylake-X/Cascade Lake kind LLVM's
tuning prefers 256-bit vectors, so numba's code uses half the vector width the CPU has.
This script therefore runs itself twice, in child processes: once as numba compiles by
default, once with that tuning turned off (the 'prefer-256-bit' feature removed through
NUMBA_CPU_FEATURES, for the child only).  Each child times, in alternating rounds:

- the forward: direct against tinygrad_cs's conv2d (im2col + GEMM), both ending in NCHW;
- forward + weight gradient + input gradient: the two direct kernels plus our input
  gradient, against our three (with the patches kept from the forward, as training does).

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

import numpy as np  # noqa: E402

from common import benchmark_parser, machine, rerun_without_openblas_env, table, timeit  # noqa: E402
from conv_shapes import CONV_CASES  # noqa: E402

CASE = "DCGAN D conv2 (128x32x12x12 -> 64 5x5)"
R = 4  # rows per register block: 4 x 64 channels = 16 AVX-512 registers of sums


def direct_kernels(C, O):
    """The two kernels for stride 1 and no padding, with C, O and R compiled in as constants
    (so that LLVM keeps the (R, O) block of sums in registers)."""
    from numba import njit, prange

    @njit(parallel=True, fastmath={"contract"})  # contract: allow fused multiply-adds
    def forward(xs, wt, out):
        """xs (N, H, W*C): the input channels-last, each image row flattened;
        wt (kh, kw*C, O): the weights, rows in the (j, c) order of a window row;
        out (N, Ho, Wo, O).  Wo must be a multiple of R."""
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

    @njit(parallel=True, fastmath={"contract"})
    def weight_grad(xf, g, window_start, kh, row_len, parts):
        """xf (N, H*W*C): the input channels-last, each image flattened; g (N, Ho*Wo, O):
        the upstream gradient channels-last; window_start[p]: where output pixel p's window
        starts in an image of xf; parts (T, kh, kw*C, O): one partial dw per thread, in the
        layout of the forward's wt.  kw*C must be a multiple of R."""
        N, P, _ = g.shape
        T, _, KW, _ = parts.shape
        per = (N + T - 1) // T
        for t in prange(T):
            parts[t] = 0
            # image by image, so that its x and g stay in the L1 cache for all the blocks;
            # with the image loop innermost the kernel took twice as long
            for n in range(t * per, min(N, t * per + per)):
                for i in range(kh):
                    for k0 in range(0, KW - R + 1, R):
                        acc = np.zeros((R, O), xf.dtype)
                        for p in range(P):
                            q = window_start[p] + i * row_len + k0
                            for r in range(R):
                                a = xf[n, q + r]
                                for o in range(O):
                                    acc[r, o] += a * g[n, p, o]
                        for r in range(R):
                            for o in range(O):
                                parts[t, i, k0 + r, o] += acc[r, o]

    return forward, weight_grad


def child(rounds):
    """Time both ways in this process; print one JSON line."""
    from numba import get_num_threads
    from tinygrad_cs.kernels import conv as kconv, layout

    _, (N, C, H, W), (O, _, kh, kw), _, _ = CONV_CASES[CASE]
    Ho, Wo = H - kh + 1, W - kw + 1
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W), dtype=np.float32)
    w = rng.standard_normal((O, C, kh, kw), dtype=np.float32)
    g = rng.standard_normal((N, O, Ho, Wo), dtype=np.float32)
    forward, weight_grad = direct_kernels(C, O)
    window_start = np.array([(ho * W + wo) * C for ho in range(Ho) for wo in range(Wo)])
    parts = np.empty((get_num_threads(), kh, kw * C, O), np.float32)
    one = (1, 1), (0, 0)

    def direct_forward():
        xs = layout.to_channels_last(x)
        wt = np.ascontiguousarray(w.transpose(2, 3, 1, 0)).reshape(kh, kw * C, O)
        out = np.empty((N, Ho, Wo, O), np.float32)
        forward(xs.reshape(N, H, W * C), wt, out)
        return xs, layout.to_channels_first(out)

    def direct_layer():
        xs, y = direct_forward()
        weight_grad(xs.reshape(N, -1), layout.to_channels_last(g).reshape(N, Ho * Wo, O),
                    window_start, kh, W * C, parts)
        dw = np.ascontiguousarray(parts.sum(0).reshape(kh, kw, C, O).transpose(3, 2, 0, 1))
        return y, dw, kconv.conv_transpose2d(g, w, *one, (H, W))

    def our_layer():
        y, patches = kconv.conv2d(x, w, *one, keep_patches=True)
        dw = kconv.weight_grad(x, g, (kh, kw), *one, patches=patches)
        return y, dw, kconv.conv_transpose2d(g, w, *one, (H, W))

    for name, a, b in zip(("forward", "weight gradient", "input gradient"), direct_layer(),
                          our_layer()):
        err = np.abs(a - b).max() / np.abs(b).max()
        assert err < 1e-5, f"the direct {name} is wrong: relative error {err:.2g}"
    cases = {"direct forward": lambda: direct_forward()[1],
             "im2col + GEMM forward": lambda: kconv.conv2d(x, w, *one),
             "direct layer": direct_layer, "our layer": our_layer}
    best = {name: np.inf for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            best[name] = min(best[name], timeit(fn, repeat=10))
    asm = "\n".join(forward.inspect_asm().values())
    best["zmm"] = "zmm" in asm
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
    ms = lambda t: f"{t * 1e3:.2f}"  # noqa: E731
    rows = []
    for wide, name in ((False, "numba's default"), (True, "prefer-256-bit off")):
        res = run_child(wide, args.rounds)
        if res is None:
            rows.append([name, "no AVX-512 on this CPU"] + [""] * 5)
            continue
        df, of, dl, ol = (res[k] for k in ("direct forward", "im2col + GEMM forward",
                                           "direct layer", "our layer"))
        rows.append([name, "yes" if res["zmm"] else "no",
                     f"{ms(df)} ({gflop / df:.0f})", f"{ms(of)} ({gflop / of:.0f})",
                     f"{df / of:.2f}", f"{ms(dl)} / {ms(ol)}", f"{dl / ol:.2f}"])
    print(f"machine: {machine()}")
    print(f"{CASE}, best of {args.rounds} rounds, ms (forward GFLOP/s)")
    print(table(rows, ["compiled with", "zmm", "direct forward", "im2col + GEMM forward",
                       "ratio", "fwd+bwd: direct / ours", "ratio"]))


if __name__ == "__main__":
    main()
