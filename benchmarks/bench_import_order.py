"""Speed must not depend on import order: time a DCGAN iteration (one discriminator and
one generator step, batch 128) and a style-transfer iteration (starry_night at 192 px) in
fresh processes that import tinygrad_cs first or NumPy first, alternating the two.

    python benchmarks/bench_import_order.py --data DIR [--rounds 3] [--unset-openblas-env]
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from common import benchmark_parser, machine, rerun_without_openblas_env, table  # noqa: E402

# run in a fresh interpreter; FIRST is replaced by the first import
CHILD = """
FIRST
import sys, time, json
sys.path[:0] = [{root!r}, {here!r}]
import numpy as np
from common import gan_trainer, starry_night, timeit
from models.style_transfer import style_transfer
trainer = gan_trainer("dcgan")
dcgan = timeit(trainer.step, repeat=5, warmup=2)
model, content, style, preset = starry_night({data!r})
stamps = []
run = lambda n: style_transfer(content, style, num_iters=n, model=model, quiet=True,
                               callback=lambda t, img, h: stamps.append(time.perf_counter()),
                               **preset)
run(3)
stamps.clear()
run({iters} + 1)
print(json.dumps(dict(dcgan=dcgan * 1e3, style=(stamps[-1] - stamps[0]) / {iters} * 1e3)))
"""

ORDERS = {"tinygrad_cs first": "import tinygrad_cs", "numpy first": "import numpy"}


def main():
    ap = benchmark_parser(__doc__)
    ap.add_argument("--data")
    ap.add_argument("--iters", type=int, default=20)
    args = ap.parse_args()
    rerun_without_openblas_env(args.unset_openblas_env)
    code = CHILD.format(root=os.path.dirname(HERE), here=HERE, data=args.data, iters=args.iters)
    best = {}
    for _ in range(args.rounds):
        for order, first in ORDERS.items():
            out = subprocess.run([sys.executable, "-c", code.replace("FIRST", first)],
                                 capture_output=True, text=True, check=True).stdout
            got = json.loads(out.strip().splitlines()[-1])
            best[order] = {k: min(v, best.get(order, got)[k]) for k, v in got.items()}
    a, b = best["tinygrad_cs first"], best["numpy first"]
    rows = [[w, f"{a[w]:.1f}", f"{b[w]:.1f}", f"{(b[w] / a[w] - 1) * 100:+.1f}%"]
            for w in ("dcgan", "style")]
    print(f"machine: {machine()}")
    print(table(rows, ["workload (ms/iteration, best of rounds)", "tinygrad_cs first",
                       "numpy first", "difference"]))


if __name__ == "__main__":
    main()
