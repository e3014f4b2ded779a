"""Compare settings of one tuning knob inside one process, on a whole training step.

On a noisy machine two separate runs of the same code can differ by 1.5x, so a 3% change
cannot be seen by running a benchmark before and after it.  Here every setting runs in
the same process, in alternating blocks of steps, and the script prints the minimum, the
10th percentile and the median step time of each.

    python benchmarks/ab.py --workload style --data DIR \
        tinygrad_cs.backends.fast.conv CHUNK_ELEMENTS 524288 1048576
    python benchmarks/ab.py --workload dcgan tinygrad_cs.backends.fast.compile PARALLEL_MIN_WORK 131072 32768

The knob is a module-level name read when a kernel runs (CHUNK_ELEMENTS, ROWS_MIN_K and
FEW_CHANNELS in tinygrad_cs.backends.fast.conv, PARALLEL_MIN_WORK in
tinygrad_cs.backends.fast.compile, SPLIT_MIN_WORK in tinygrad_cs.backends.fast.matmul);
a name another module copied at import time cannot be switched this way.  Values are
Python literals.
"""
import ast
import importlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

from common import (benchmark_parser, gan_trainer, machine, rerun_without_openblas_env,  # noqa: E402
                    starry_night)

GAN_VARIANTS = ("vanilla", "lsgan", "dcgan", "wgan-gp")


def style_step(data):
    """run(steps) -> the times (ms) of that many starry_night steps at 192 px."""
    from models.style_transfer import style_transfer

    model, content, style, preset = starry_night(data)

    def run(steps):
        # style_transfer runs a whole optimisation; its callback stamps the end of each step
        stamps = [time.perf_counter()]
        style_transfer(content, style, num_iters=steps, model=model, quiet=True,
                       callback=lambda *_: stamps.append(time.perf_counter()), **preset)
        return list(np.diff(stamps) * 1000)
    return run


def gan_step(variant):
    """run(steps) -> the times (ms) of that many GAN iterations (batch 128)."""
    trainer = gan_trainer(variant)

    def run(steps):
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            trainer.step()
            times.append((time.perf_counter() - t0) * 1000)
        return times
    return run


def main():
    ap = benchmark_parser(__doc__)
    ap.add_argument("--workload", default="style", choices=("style",) + GAN_VARIANTS)
    ap.add_argument("--data", help="data directory (style workload)")
    ap.add_argument("--steps", type=int, default=0, help="steps per block (default: 10 for "
                    "style and the MLP GANs, 3 for DCGAN and WGAN-GP)")
    ap.add_argument("module")
    ap.add_argument("name")
    ap.add_argument("values", nargs="+")
    ap.set_defaults(rounds=4)  # blocks per value = 2 * rounds
    args = ap.parse_args()
    rerun_without_openblas_env(args.unset_openblas_env)
    if len(args.values) < 2:
        ap.error("give at least two values to compare")
    module = importlib.import_module(args.module)
    if not hasattr(module, args.name):
        ap.error(f"{args.module} has no attribute {args.name}")
    values = [ast.literal_eval(v) for v in args.values]
    run = style_step(args.data) if args.workload == "style" else gan_step(args.workload)
    steps = args.steps or (3 if args.workload in ("dcgan", "wgan-gp") else 10)
    times = {v: [] for v in args.values}
    original = getattr(module, args.name)
    try:
        run(2)  # warm-up: compile kernels, fill caches
        for block in range(2 * args.rounds):
            order = list(zip(args.values, values))
            for label, value in (order if block % 2 == 0 else order[::-1]):
                setattr(module, args.name, value)
                times[label] += run(steps)
    finally:
        setattr(module, args.name, original)
    print(f"machine: {machine()}")
    print(f"{args.workload}: {args.module}.{args.name}, {2 * args.rounds} blocks of {steps} steps "
          "per value, ms per step")
    first = np.median(times[args.values[0]])
    for label in args.values:
        t = times[label]
        print(f"  {label:>14}: min {np.min(t):8.2f}  p10 {np.percentile(t, 10):8.2f}  "
              f"median {np.median(t):8.2f}  (median / first value's {np.median(t) / first:.3f})")


if __name__ == "__main__":
    main()
