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

import tinygrad_cs  # noqa: E402,F401  (before NumPy: see tinygrad_cs/threads.py)

import numpy as np  # noqa: E402

from common import benchmark_parser, machine, rerun_without_openblas_env, table, timeit, torch_timings  # noqa: E402


def main():
    ap = benchmark_parser(__doc__)
    ap.add_argument("--variants", nargs="+", default=["vanilla", "lsgan", "dcgan", "wgan-gp"])
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate ours and PyTorch this many times and keep each one's best "
                         "time: on a noisy machine, a fairer ratio than one round")
    args = ap.parse_args()
    rerun_without_openblas_env(args.unset_openblas_env)
    from models.gan_training import GANTrainer

    images = np.random.default_rng(0).uniform(-1, 1, (128 * 20, 784)).astype(np.float32)
    trainers = {v: GANTrainer(v, images, seed=0, n_critic=1) for v in args.variants}
    ours, theirs = {}, None
    for _ in range(args.rounds):
        for v, trainer in trainers.items():
            t = timeit(trainer.step, repeat=3 if v in ("dcgan", "wgan-gp") else 10)
            ours[v] = min(t, ours.get(v, t))
        t = torch_timings(os.path.join(HERE, "torch_gan_side.py"), args.torch_python)
        theirs = t if theirs is None or t is None else {v: min(t[v], theirs[v]) for v in t}
    rows = [[v, f"{ours[v] * 1e3:.0f}"] + ([f"{theirs[v] * 1e3:.0f}", f"{ours[v] / theirs[v]:.2f}"]
                                            if theirs else []) for v in args.variants]
    print(f"machine: {machine()}")
    print(table(rows, ["variant", "ours ms/iter"] + (["torch ms/iter", "ours/torch"] if theirs else [])))


if __name__ == "__main__":
    main()
