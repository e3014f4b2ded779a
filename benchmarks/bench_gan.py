"""Time one GAN iteration (one discriminator step + one generator step, batch 128) for each
variant; WGAN-GP counts one critic step with its gradient penalty.  Ratios against PyTorch
CPU are measured in the same run when torch==2.13.0 is available.

    python benchmarks/bench_gan.py [--torch-python PATH] [--unset-openblas-env] [--rounds 3]
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from common import (benchmark_parser, gan_trainer, keep_best, machine, rerun_without_openblas_env,  # noqa: E402
                    table, timeit, torch_timings)


def main():
    ap = benchmark_parser(__doc__)
    ap.add_argument("--variants", nargs="+", default=["vanilla", "lsgan", "dcgan", "wgan-gp"])
    args = ap.parse_args()
    rerun_without_openblas_env(args.unset_openblas_env)
    trainers = {v: gan_trainer(v) for v in args.variants}
    ours, theirs = {}, None
    paired = {v: [] for v in args.variants}  # each round's ratio: both sides back to back
    for _ in range(args.rounds):
        now = {}
        for v, trainer in trainers.items():
            repeat = 3 if v in ("dcgan", "wgan-gp") else 10
            now[v] = timeit(trainer.step, repeat=repeat)
            ours[v] = keep_best(ours.get(v), now[v])
        torch_now = torch_timings(os.path.join(HERE, "torch_gan_side.py"), args.torch_python)
        theirs = keep_best(theirs, torch_now)
        if torch_now:
            for v in args.variants:
                paired[v].append(now[v] / torch_now[v])
    rows = [[v, f"{ours[v] * 1e3:.0f}"] + ([f"{theirs[v] * 1e3:.0f}", f"{ours[v] / theirs[v]:.2f}",
                                             ", ".join(f"{r:.2f}" for r in paired[v])]
                                            if theirs else []) for v in args.variants]
    print(f"machine: {machine()}")
    print(table(rows, ["variant", "ours ms/iter"] + (["torch ms/iter", "ours/torch (best of each)",
                                                       "per round"] if theirs else [])))


if __name__ == "__main__":
    main()
