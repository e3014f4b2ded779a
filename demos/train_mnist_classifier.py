"""Train a small CNN on MNIST to ~99% test accuracy.

    python demos/train_mnist_classifier.py --data DIR --epochs 4 --out out/mnist_classifier

Saves the weights (``classifier.npz``), a loss/accuracy plot and prints the time per epoch.
A classifier already saved in --out is kept unless --overwrite is given.
The trained model scores GAN samples in ``demos/evaluate_gan.py``.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from demos.args import (check_finite, nonnegative_int, positive_float, positive_int,  # noqa: E402
                        run_program)
from demos.plotting import plt, save_figure  # noqa: E402
from layers import init  # noqa: E402
from models.mnist import load_mnist  # noqa: E402
from models.mnist_classifier import MNISTClassifier, accuracy, train_epoch  # noqa: E402
from tinygrad_cs.io import check_replaceable, write_text_atomic  # noqa: E402
from tinygrad_cs.optim import Adam, StepLR  # noqa: E402


def plot_history(history, path):
    """Training loss per batch (left) and test accuracy per epoch (right)."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(np.arange(1, len(history["loss"]) + 1), history["loss"], linewidth=0.7)
    ax1.set(yscale="log", xlabel="iteration", ylabel="training loss (cross-entropy)")
    epochs = np.arange(1, len(history["test_acc"]) + 1)
    ax2.plot(epochs, 100 * np.array(history["test_acc"]), "o-")
    ax2.set(xlabel="epoch", ylabel="test accuracy (%)", xticks=epochs)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.suptitle(f"MNIST CNN: test accuracy {history['test_acc'][-1]:.2%}")
    save_figure(fig, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="data directory holding mnist/mnist.npz (default: $TINYGRAD_CS_DATA or the cache)")
    p.add_argument("--out", default="out/mnist_classifier", help="output folder")
    p.add_argument("--epochs", type=positive_int, default=4)
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--lr", type=positive_float, default=1e-3)
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--train-limit", type=positive_int, default=None, help="use only the first N training images (quick runs)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a classifier already saved in --out")
    args = p.parse_args(argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        p.error(f"--out: {args.out} is a file, not a folder; give a folder for the results")
    for name in ("classifier.npz", "loss.png", "history.json"):
        check_replaceable(os.path.join(args.out, name))  # a read-only output fails now
    weights = os.path.join(args.out, "classifier.npz")
    if os.path.exists(weights) and not args.overwrite:
        # a trained classifier took minutes to make and is what evaluate_gan.py scores with
        p.error(f"{weights} already exists; replace it with --overwrite, or choose another --out")

    data = load_mnist(args.data)
    x_train, y_train = data["x_train"][:args.train_limit], data["y_train"][:args.train_limit]
    init.manual_seed(args.seed)
    model = MNISTClassifier()
    opt = Adam(model.parameters(), lr=args.lr)
    sched = StepLR(opt, step_size=1, gamma=0.5)  # halve the learning rate every epoch
    os.makedirs(args.out, exist_ok=True)
    history = {"loss": [], "test_acc": [], "epoch_seconds": []}
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        losses = train_epoch(model, opt, x_train, y_train, args.batch_size, seed=args.seed + epoch,
                             desc=f"epoch {epoch + 1}/{args.epochs}")
        # checked once per epoch (train_epoch runs the whole pass); the weights of a
        # diverged epoch are not saved, so the file keeps the last good epoch
        for k, loss in enumerate(losses, start=len(history["loss"]) + 1):
            check_finite(loss, k, "train_mnist_classifier.py", "Try a smaller --lr.")
        seconds = time.perf_counter() - t0
        acc = accuracy(model, data["x_test"], data["y_test"])
        sched.step()
        history["loss"] += losses
        history["test_acc"].append(acc)
        history["epoch_seconds"].append(seconds)
        print(f"epoch {epoch + 1}: test accuracy {acc:.4f}, {seconds:.1f} s", flush=True)
        model.save(os.path.join(args.out, "classifier.npz"))
    plot_history(history, os.path.join(args.out, "loss.png"))
    write_text_atomic(os.path.join(args.out, "history.json"), json.dumps(history))
    print(f"saved {args.out}/classifier.npz, loss.png; final test accuracy {history['test_acc'][-1]:.4f}")
    return history


if __name__ == "__main__":
    run_program(main)
