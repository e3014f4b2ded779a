"""Train a GAN on MNIST: vanilla, least squares, DCGAN or WGAN-GP.

    python demos/gan.py --variant dcgan --epochs 5 --data DIR --out out/gan_dcgan
    python demos/gan.py --variant vanilla --quick            # a smoke run, under a minute
    python demos/gan.py --variant dcgan --epochs 5 --resume  # continue from out/.../checkpoint.npz

A folder that already holds a run is never started over silently: give --resume to continue
it (with the same --variant, --seed, --batch-size, --quick and --critic-batchnorm) or
--overwrite to start again (which deletes the old run's checkpoint, samples and curves, and
nothing else).  A run stopped before its first checkpoint has nothing to resume: running the
same command again starts it anew.

Shows D/G losses in a progress bar; saves 4x4 and 8x8 sample grids from a fixed noise batch
every --sample-every iterations and at the end, the loss curves, and a checkpoint (written
atomically).  --resume continues exactly as an uninterrupted run with the same seed would.
"""
import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from demos.args import (check_finite, nonnegative_int, positive_float, positive_int,  # noqa: E402
                        run_program)
from demos.plotting import image_grid, plot_curves, save_image  # noqa: E402
from models.gan_training import VARIANTS, GANTrainer, check_checkpoint  # noqa: E402
from models.mnist import load_mnist, to_float  # noqa: E402
from tinygrad_cs.io import (check_replaceable, load_npz, remove_stale_temporaries,  # noqa: E402
                            write_text_atomic)
from tinygrad_cs.progress import progress  # noqa: E402


def save_samples(trainer, out, tag):
    digits = trainer.samples()
    save_image(image_grid(digits[:16], 4, 4), os.path.join(out, f"samples_4x4_{tag}.png"))
    save_image(image_grid(digits, 8, 8), os.path.join(out, f"samples_8x8_{tag}.png"))


# the options that must stay the same for a resumed run to continue the same training
RUN_OPTIONS = ("variant", "seed", "batch_size", "quick", "critic_batchnorm")
# the files this program writes into a run folder (and so may delete with --overwrite)
RUN_FILES = ("checkpoint.npz", "generator.npz", "run.json", "options.json", "losses.png")
SAMPLE_FILE = re.compile(r"samples_(4x4|8x8)_(iter\d{5,}|final)\.png")
# variants whose generator has batch norm, which needs two or more samples per batch
BATCH_NORM_VARIANTS = ("dcgan", "wgan-gp")


def run_outputs(out):
    """The files of ``out`` that a run of this program wrote (never anything else)."""
    names = os.listdir(out) if os.path.isdir(out) else []
    return sorted(n for n in names if n in RUN_FILES or SAMPLE_FILE.fullmatch(n))


def read_options(p, options_file, fix):
    try:
        with open(options_file) as f:
            return dict(json.load(f))
    except (ValueError, TypeError) as e:
        p.error(f"{options_file} is damaged ({e}); {fix}")


def check_run_folder(p, args, out):
    """Before any work: refuse to start over an existing run (unless --overwrite), check that
    --resume has a checkpoint and the run's options, and delete leftovers of a killed save.

    A folder with options.json but no checkpoint holds a run that stopped before its first
    checkpoint: nothing of it can be resumed, so a plain rerun with the same options starts
    it again."""
    ckpt, options_file = os.path.join(out, "checkpoint.npz"), os.path.join(out, "options.json")
    if args.resume and args.overwrite:
        p.error("--resume and --overwrite contradict each other; give one of them")
    if os.path.exists(out) and not os.path.isdir(out):
        p.error(f"--out: {out} is a file, not a folder; give a folder for the run")
    options = {k: getattr(args, k) for k in RUN_OPTIONS}
    existing = [n for n in ("checkpoint.npz", "run.json", "options.json", "generator.npz")
                if os.path.exists(os.path.join(out, n))]
    unstarted = existing == ["options.json"]
    if unstarted and not (args.resume or args.overwrite):
        saved = read_options(p, options_file, "start again with --overwrite")
        differ = [f"--{k.replace('_', '-')} {saved[k]} (run) vs {options[k]} (now)"
                  for k in RUN_OPTIONS if k in saved and saved[k] != options[k]]
        if differ:
            p.error(f"{out} holds a run that stopped before its first checkpoint, with other "
                    f"options: {'; '.join(differ)}. Start it again with those options, or "
                    "start a new one here with --overwrite, or choose another --out")
        print(f"{out} holds a run that stopped before its first checkpoint; starting it again",
              flush=True)
    elif existing and not (args.resume or args.overwrite):
        p.error(f"{out} already holds a run ({', '.join(existing)}); continue it with --resume, "
                "start it again with --overwrite, or choose another --out")
    for name in ("checkpoint.npz", "generator.npz", "run.json", "options.json"):
        for tmp in remove_stale_temporaries(os.path.join(out, name)):
            print(f"removed {tmp}, left behind by an interrupted save", flush=True)
    for name in RUN_FILES:
        check_replaceable(os.path.join(out, name))  # a read-only output fails now, not later
    if args.resume:
        if not os.path.exists(ckpt):
            if unstarted:
                p.error(f"--resume: the run in {out} stopped before its first checkpoint, so "
                        "there is nothing to resume; start it again without --resume (same "
                        "options)")
            p.error(f"--resume: no checkpoint at {ckpt}; start a new run without --resume")
        if os.path.exists(options_file):
            saved = read_options(p, options_file,
                                 "delete it to resume without checking the options")
            differ = [f"--{k.replace('_', '-')} {saved[k]} (run) vs {options[k]} (now)"
                      for k in RUN_OPTIONS if k in saved and saved[k] != options[k]]
            if differ:
                p.error(f"--resume: options differ from the run in {out}: {'; '.join(differ)}. "
                        "Resume with the run's options, or start a new run with --overwrite "
                        "or another --out")
    elif args.overwrite or unstarted:
        # a new start (--overwrite, or an unstarted run): remove the old run's outputs first,
        # so that it cannot be resumed by mistake and its samples are not mixed with the new
        for name in run_outputs(out):
            os.remove(os.path.join(out, name))
    return options


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", choices=sorted(VARIANTS), default="vanilla")
    p.add_argument("--epochs", type=positive_float, default=None,
                   help="passes over the 60,000 training digits (default: 10 vanilla/lsgan, 5 dcgan, "
                        "7 wgan-gp: about 656 generator iterations, which take about as long as "
                        "DCGAN's 5 epochs, since each has 5 critic steps)")
    p.add_argument("--iters", type=positive_int, default=None,
                   help="generator iterations in all, counted from the start of the run "
                        "(overrides --epochs)")
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--data", help="data directory holding mnist/mnist.npz (default: $TINYGRAD_CS_DATA, else the download cache)")
    p.add_argument("--out", default=None, help="output folder (default out/gan_<variant>)")
    p.add_argument("--sample-every", type=positive_int, default=250)
    p.add_argument("--checkpoint-every", type=positive_int, default=250)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    p.add_argument("--overwrite", action="store_true",
                   help="start again in an OUT folder that already holds a run (deletes it)")
    p.add_argument("--critic-batchnorm", action="store_true",
                   help="WGAN-GP: batch norm in the critic (the paper advises against it)")
    p.add_argument("--quick", action="store_true", help="smoke run: 5,000 digits, a few iterations")
    args = p.parse_args(argv)
    if args.batch_size < 2 and args.variant in BATCH_NORM_VARIANTS:
        p.error(f"--batch-size {args.batch_size}: the {args.variant} generator uses batch norm, "
                "which needs at least 2 samples per batch to normalise over; give 2 or more")

    out = args.out or os.path.join("out", f"gan_{args.variant}")
    options = check_run_folder(p, args, out)
    ckpt = os.path.join(out, "checkpoint.npz")
    if args.resume:  # a damaged or edited checkpoint is found before the data is read
        state = load_npz(ckpt, what="GAN checkpoint")
        check_checkpoint(state, f"the checkpoint {ckpt!r}")
    data = load_mnist(args.data)
    images = to_float(data["x_train"]).reshape(-1, 784)
    if args.quick:
        images = images[:5000]
    trainer = GANTrainer(args.variant, images, batch_size=args.batch_size, seed=args.seed,
                         critic_batchnorm=args.critic_batchnorm)
    # made only now that the data and the batch size are known to be good, so that a run
    # that cannot start leaves no empty folder behind
    os.makedirs(out, exist_ok=True)
    default_epochs = {"vanilla": 10, "lsgan": 10, "dcgan": 5, "wgan-gp": 7}[args.variant]
    if args.iters is not None:
        total = args.iters
    elif args.quick and args.epochs is None:
        total = {"vanilla": 120, "lsgan": 120, "dcgan": 25, "wgan-gp": 6}[args.variant]
    else:
        total = max(1, int(round((args.epochs or default_epochs) * trainer.batches_per_epoch
                                 / trainer.n_critic)))
    if args.resume:
        trainer.load_state_dict(state, source=f"the checkpoint {ckpt!r}")
        finished = os.path.exists(os.path.join(out, "run.json"))
        if trainer.iteration > total or (trainer.iteration == total and finished):
            # nothing is rewritten: run.json and the samples stay those of the real run
            print(f"--resume: the run in {out} is already at iteration {trainer.iteration} (asked "
                  f"for {total}); nothing to do. Give a larger --iters or --epochs to train on.",
                  flush=True)
            return trainer
        print(f"resumed at iteration {trainer.iteration}", flush=True)
    else:
        write_text_atomic(os.path.join(out, "options.json"), json.dumps(options, indent=1))

    t0 = time.perf_counter()
    start = trainer.iteration
    bar = progress(total=total, desc=f"{args.variant}", initial=start)
    while trainer.iteration < total:
        d, g = trainer.step()
        for name, loss in (("D", d), ("G", g)):
            check_finite(loss, trainer.iteration, f"gan.py ({name} loss)",
                         f"The last checkpoint in {out} is kept; try another --seed or variant.")
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
    run_program(main)
