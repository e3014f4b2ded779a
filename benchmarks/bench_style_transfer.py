"""Time style transfer (the starry_night preset: 192 px, content layer 3, style layers
1,4,6,7) per iteration, and the same loop in PyTorch CPU when available; print the ratio
and where our time goes (a profile of the top functions).

    python benchmarks/bench_style_transfer.py --data DIR [--torch-python PATH] [--iters 30] [--rounds 3]
"""
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

from common import benchmark_parser, machine, rerun_without_openblas_env, starry_night  # noqa: E402


def torch_ms_per_iter(python, weights, content, style, iters):
    """PyTorch's ms per iteration, from torch_style_side.py run by ``python``."""
    with tempfile.TemporaryDirectory() as tmp:
        inputs = os.path.join(tmp, "inputs.npz")
        np.savez(inputs, content=content.data, style=style.data)
        out = subprocess.run([python, os.path.join(HERE, "torch_style_side.py"), weights, inputs],
                             capture_output=True, text=True, check=True,
                             env=dict(os.environ, BENCH_ITERS=str(iters)))
    return json.loads(out.stdout.strip().splitlines()[-1])["ms_per_iter"]


def main():
    ap = benchmark_parser(__doc__)
    ap.add_argument("--data")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--profile", action="store_true", help="print where the time goes")
    args = ap.parse_args()
    rerun_without_openblas_env(args.unset_openblas_env)
    from models.data import find_file
    from models.squeezenet import WEIGHTS
    from models.style_transfer import style_transfer

    model, content, style, preset = starry_night(args.data)
    stamps = []
    run = lambda n: style_transfer(content, style, num_iters=n, model=model, quiet=True,  # noqa: E731
                                   callback=lambda t, img, h: stamps.append(time.perf_counter()),
                                   **preset)
    run(3)
    weights = str(find_file(WEIGHTS["torchvision"][0], args.data))
    ours, theirs = [], []
    for _ in range(args.rounds):
        stamps.clear()
        run(args.iters + 1)
        ours.append((stamps[-1] - stamps[0]) / args.iters * 1000)
        if args.torch_python:
            theirs.append(torch_ms_per_iter(args.torch_python, weights, content, style, args.iters))
    best = min(ours)
    print(f"machine: {machine()}")
    print(f"ours: {best:.1f} ms/iteration ({best * 200 / 1000:.1f} s for 200); "
          f"rounds: {', '.join(f'{t:.1f}' for t in ours)}")
    if theirs:
        print(f"torch: {min(theirs):.1f} ms/iteration; rounds: {', '.join(f'{t:.1f}' for t in theirs)}")
        print(f"ours/torch = {best / min(theirs):.2f} (best of each); per round: "
              f"{', '.join(f'{a / b:.2f}' for a, b in zip(ours, theirs))}")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        run(10)
        prof.disable()
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(12)
        print(s.getvalue())


if __name__ == "__main__":
    main()
