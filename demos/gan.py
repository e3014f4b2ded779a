"""Train a GAN on MNIST: vanilla, least squares, DCGAN or WGAN-GP.

    python demos/gan.py --variant dcgan --epochs 5 --data DIR --out out/gan_dcgan
    python demos/gan.py --variant vanilla --quick            # a smoke run, under a minute
    python demos/gan.py --variant dcgan --epochs 5 --resume  # continue from out/.../checkpoint.npz

Shows D/G losses in a progress bar; saves 4x4 and 8x8 sample grids from a fixed noise batch
every --sample-every iterations and at the end, the loss curves, and a checkpoint (written
atomically).  --resume continues exactly as an uninterrupted run with the same seed would.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from demos.plotting import image_grid, plot_curves, save_image  # noqa: E402
from models.gan_training import VARIANTS, GANTrainer  # noqa: E402
from models.mnist import load_mnist, to_float  # noqa: E402
from tinygrad_cs.io import write_text_atomic  # noqa: E402
from tinygrad_cs.progress import progress  # noqa: E402


def save_samples(trainer, out, tag):
    digits = trainer.samples()
    save_image(image_grid(digits[:16], 4, 4), os.path.join(out, f"samples_4x4_{tag}.png"))
    save_image(image_grid(digits, 8, 8), os.path.join(out, f"samples_8x8_{tag}.png"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", choices=sorted(VARIANTS), default="vanilla")
    p.add_argument("--epochs", type=float, default=None,
                   help="passes over the 60,000 training digits (default: 10 vanilla/lsgan, 5 dcgan, "
                        "7 wgan-gp: about 656 generator iterations, which take about as long as "
                        "DCGAN's 5 epochs, since each has 5 critic steps)")
    p.add_argument("--iters", type=int, default=None, help="generator iterations (overrides --epochs)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", help="data directory holding mnist/mnist.npz; default $TINYGRAD_CS_DATA")
    p.add_argument("--out", default=None, help="output folder (default out/gan_<variant>)")
    p.add_argument("--sample-every", type=int, default=250)
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--critic-batchnorm", action="store_true",
                   help="WGAN-GP: batch norm in the critic (the paper advises against it)")
    p.add_argument("--quick", action="store_true", help="smoke run: 5,000 digits, a few iterations")
    args = p.parse_args(argv)

    out = args.out or os.path.join("out", f"gan_{args.variant}")
    os.makedirs(out, exist_ok=True)
    data = load_mnist(args.data)
    images = to_float(data["x_train"]).reshape(-1, 784)
    if args.quick:
        images = images[:5000]
    trainer = GANTrainer(args.variant, images, batch_size=args.batch_size, seed=args.seed,
                         critic_batchnorm=args.critic_batchnorm)
    default_epochs = {"vanilla": 10, "lsgan": 10, "dcgan": 5, "wgan-gp": 7}[args.variant]
    total = args.iters or int(round((args.epochs or default_epochs) * trainer.batches_per_epoch
                                    / trainer.n_critic))
    if args.quick and not args.iters:
        total = {"vanilla": 120, "lsgan": 120, "dcgan": 25, "wgan-gp": 6}[args.variant]
    ckpt = os.path.join(out, "checkpoint.npz")
    if args.resume:
        if not os.path.exists(ckpt):
            p.error(f"--resume: no checkpoint at {ckpt}")
        trainer.load(ckpt)
        print(f"resumed at iteration {trainer.iteration}", flush=True)

    t0 = time.perf_counter()
    start = trainer.iteration
    bar = progress(total=total, desc=f"{args.variant}", initial=start)
    while trainer.iteration < total:
        d, g = trainer.step()
        bar.set(D=d, G=g, epoch=round(trainer.epoch, 2))
        bar.update()
        if trainer.iteration % args.sample_every == 0:
            save_samples(trainer, out, f"iter{trainer.iteration:05d}")
        if trainer.iteration % args.checkpoint_every == 0:
            trainer.save(ckpt)
    bar.close()
    seconds = time.perf_counter() - t0
    trainer.save(ckpt)
    trainer.G.save(os.path.join(out, "generator.npz"))
    save_samples(trainer, out, "final")
    plot_curves({"D loss": trainer.history["d_loss"], "G loss": trainer.history["g_loss"]},
                os.path.join(out, "losses.png"), title=f"{args.variant}: losses")
    ran = trainer.iteration - start
    info = {"variant": args.variant, "iterations": trainer.iteration, "epochs": trainer.epoch,
            "seconds_this_run": seconds, "ms_per_iteration": 1000 * seconds / max(ran, 1),
            "seed": args.seed, "critic_batchnorm": args.critic_batchnorm}
    write_text_atomic(os.path.join(out, "run.json"), json.dumps(info, indent=1))
    print(f"{args.variant}: {trainer.iteration} iterations ({trainer.epoch:.2f} epochs), "
          f"{info['ms_per_iteration']:.0f} ms/iteration; samples and checkpoint in {out}", flush=True)
    return trainer


if __name__ == "__main__":
    main()
