"""What does SqueezeNet see?  Saliency maps, fooling images and class visualizations.

    python demos/visualize.py saliency --images 0 1 2 3 4      # of the 25-image ImageNet sample
    python demos/visualize.py fool --image 0 --target stingray
    python demos/visualize.py classviz tarantula gorilla 1 --gif
    python demos/visualize.py classviz tarantula --priors      # without L2, jitter, blur

Every subcommand takes --out DIR (default out/visualize), --data DIR (default
$TINYGRAD_CS_DATA) and --weights (as demos/classify.py), and writes PNG figures.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from demos.args import (nonnegative_float, nonnegative_int, positive_float,  # noqa: E402
                        positive_int, run_program)
from demos.plotting import save_figure, save_image  # noqa: E402
from models.images import deprocess  # noqa: E402
from models.squeezenet import classifier_weights, classify, load_squeezenet  # noqa: E402
from models.visualization import (FoolingError, class_index, class_visualization,  # noqa: E402
                                  load_class_names, load_imagenet_val, make_fooling_image,
                                  saliency_maps, select_images)
from tinygrad_cs.io import atomic_path  # noqa: E402


def short(name, width=18):
    """The first synonym of an ImageNet class name, cut to ``width`` characters."""
    first = name.split(",")[0]
    return first if len(first) <= width else first[:width - 1] + "…"


# -- saliency -----------------------------------------------------------------------------------

def run_saliency(args, model, names):
    X, y = load_imagenet_val(args.data)
    X, y = select_images(X, y, args.images, "visualize saliency: --images")
    maps = saliency_maps(model, X, y)
    predicted = [r[0][0] for r in classify(model, X, top=1)]
    n = len(X)
    fig, axes = plt.subplots(2, n, figsize=(2.3 * n, 5.0), squeeze=False,
                             gridspec_kw=dict(hspace=0.08, wspace=0.08))
    for k in range(n):
        axes[0, k].imshow(deprocess(X[k]))
        mark = "" if predicted[k] == y[k] else f"\n(model: {short(names[predicted[k]])})"
        axes[0, k].set_title(short(names[y[k]]) + mark, fontsize=10)
        axes[1, k].imshow(maps[k], cmap="hot")
        for ax in axes[:, k]:
            ax.axis("off")
    fig.suptitle("images (top) and saliency maps max_c |d score / d pixel| of their true class",
                 fontsize=10)
    path = os.path.join(args.out, "saliency.png")
    save_figure(fig, path)
    print(f"saved {path}")
    return path


# -- fooling images -----------------------------------------------------------------------------

def run_fool(args, model, names):
    X, y = load_imagenet_val(args.data)
    X, _ = select_images(X, y, [args.image], "visualize fool: --image")
    target = class_index(args.target, names, "visualize fool: --target")
    try:
        fooled, steps = make_fooling_image(model, X, target, lr=args.lr, max_iters=args.max_iters)
        ok = True
    except FoolingError as e:
        fooled, steps, ok = e.image, e.steps, False
        print(f"not fooled: {e}")
    before, after = classify(model, np.concatenate([X, fooled]), top=1)
    original, fooling = deprocess(X), deprocess(fooled)
    # in pixel units (0..1); x10 and centred on grey so that +/- changes both show
    diff = fooling.astype(np.float32) / 255 - original.astype(np.float32) / 255
    panels = [(original, f"original\nmodel: {short(names[before[0][0]])} ({before[0][1]:.0%})"),
              (fooling, f"fooling image\nmodel: {short(names[after[0][0]])} ({after[0][1]:.0%})"),
              (np.clip(0.5 + 10 * diff, 0, 1), "difference x10\n(grey = no change)")]
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.6))
    for ax, (img, title) in zip(axes, panels):
        ax.imshow(img)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    verdict = (f"fooled in {steps} steps of lr={args.lr:g}" if ok
               else f"NOT fooled after {steps} steps of lr={args.lr:g}")
    fig.suptitle(f"target: {short(names[target], 30)}; {verdict}; largest pixel change "
                 f"{np.abs(diff).max() * 255:.0f}/255", fontsize=10)
    path = os.path.join(args.out, "fooling.png")
    save_figure(fig, path)
    print(f"{verdict}: {names[before[0][0]]} -> {names[after[0][0]]}\nsaved {path}")
    return {"fooled": ok, "steps": steps, "before": before[0][0], "after": after[0][0],
            "path": path}


# -- class visualization ------------------------------------------------------------------------

def slug(name):
    return re.sub(r"[^a-z0-9]+", "_", name.split(",")[0].lower()).strip("_")


def save_gif(frames, path, ms_per_frame=100):
    images = [Image.fromarray(f) for _, f in frames]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=ms_per_frame, loop=0)


def run_classviz(args, model, names):
    targets = [class_index(c, names, "visualize classviz") for c in args.classes]  # all first
    results = []
    for target in targets:
        r = class_visualization(model, target, iters=args.iters, lr=args.lr, l2_reg=args.l2_reg,
                                blur_every=args.blur_every, max_jitter=args.max_jitter,
                                seed=args.seed, size=args.size,
                                frame_every=args.gif_every if args.gif else 0, quiet=False)
        stem = os.path.join(args.out, f"classviz_{target}_{slug(names[target])}")
        save_image(r.to_uint8(), stem + ".png")
        if args.gif:
            save_gif(r.frames, stem + ".gif")
        print(f"{names[target]}: probability {r.probs[0]:.2g} -> {r.probs[-1]:.2g}; saved {stem}.png")
        results.append(r)
    n = len(results)
    width = max(2.6 * n, 6.5)
    fig = plt.figure(figsize=(width, width / n + 2.6))
    grid = fig.add_gridspec(2, n, height_ratios=[width / n, 2.0], hspace=0.25)
    for k, r in enumerate(results):
        ax = fig.add_subplot(grid[0, k])
        ax.imshow(r.to_uint8())
        ax.set_title(short(names[r.target]), fontsize=10)
        ax.axis("off")
    ax = fig.add_subplot(grid[1, :])
    for r in results:
        ax.plot(np.arange(1, len(r.probs) + 1), r.probs, label=short(names[r.target]))
    ax.set_xlabel("iteration")
    ax.set_ylabel("P(target class)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle(f"class visualization: {args.iters} steps of gradient ascent from noise",
                 fontsize=10)
    path = os.path.join(args.out, "classviz.png")
    save_figure(fig, path)
    print(f"saved {path}")
    if args.priors:
        compare_priors(args, model, names, targets)
    return results


PRIORS = [  # (title, l2_reg, max_jitter, blur_every): each column adds one image prior
    ("no prior", 0.0, 0, 0),
    ("+ L2", None, 0, 0),
    ("+ L2, jitter", None, None, 0),
    ("+ L2, jitter, blur", None, None, None),  # None: the value given on the command line
]


def compare_priors(args, model, names, targets):
    """The same ascent (same noise, same steps) with the priors switched on one by one."""
    fig, axes = plt.subplots(len(targets), len(PRIORS), squeeze=False,
                             figsize=(2.4 * len(PRIORS), 2.5 * len(targets)),
                             gridspec_kw=dict(hspace=0.15, wspace=0.05))
    for row, target in enumerate(targets):
        for col, (title, l2_reg, max_jitter, blur_every) in enumerate(PRIORS):
            r = class_visualization(
                model, target, iters=args.iters, lr=args.lr, seed=args.seed, size=args.size,
                l2_reg=args.l2_reg if l2_reg is None else l2_reg,
                max_jitter=args.max_jitter if max_jitter is None else max_jitter,
                blur_every=args.blur_every if blur_every is None else blur_every,
                quiet=False)
            ax = axes[row, col]
            ax.imshow(r.to_uint8())
            ax.set_title(f"{title}\nP = {r.probs[-1]:.2f}" if row == 0 else f"P = {r.probs[-1]:.2f}",
                         fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(short(names[target]), fontsize=10)
    path = os.path.join(args.out, "classviz_priors.png")
    save_figure(fig, path)
    print(f"saved {path}")
    return path


# -- command line -------------------------------------------------------------------------------

def main(argv=None):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", default="out/visualize", help="output folder")
    common.add_argument("--data", help="data directory (default: $TINYGRAD_CS_DATA); the 25-image sample is read only from one")
    common.add_argument("--weights", help="torchvision-pth, onnxzoo, or a .npz/.pth path "
                                          "(default: onnxzoo if the data directory has it, "
                                          "else torchvision-pth)")
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("saliency", parents=[common], help="saliency maps of sample images")
    s.add_argument("--images", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                   help="indices into the 25-image ImageNet sample (0..24)")

    f = sub.add_parser("fool", parents=[common], help="fool the model with a tiny change")
    f.add_argument("--image", type=int, default=0, help="index into the 25-image sample")
    f.add_argument("--target", required=True, help="class index or name, e.g. stingray")
    f.add_argument("--lr", type=positive_float, default=1.0, help="L2 length of each step")
    f.add_argument("--max-iters", type=nonnegative_int, default=100)

    c = sub.add_parser("classviz", parents=[common], help="grow an image of a class from noise")
    c.add_argument("classes", nargs="+", help="class indices or names, e.g. tarantula 366")
    c.add_argument("--iters", type=positive_int, default=100)
    c.add_argument("--lr", type=positive_float, default=25.0)
    c.add_argument("--l2-reg", type=nonnegative_float, default=1e-3)
    c.add_argument("--blur-every", type=nonnegative_int, default=10, help="0: never blur")
    c.add_argument("--max-jitter", type=nonnegative_int, default=16)
    c.add_argument("--size", type=positive_int, default=224, help="image side in pixels")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--gif", action="store_true", help="also save a GIF of the ascent")
    c.add_argument("--gif-every", type=positive_int, default=5)
    c.add_argument("--priors", action="store_true",
                   help="also compare the images without L2 / jitter / blur")

    args = p.parse_args(argv)
    names = load_class_names(args.data)  # before the model: a bad --data fails fast
    os.makedirs(args.out, exist_ok=True)
    model = load_squeezenet(args.weights or classifier_weights(args.data), args.data)
    run = {"saliency": run_saliency, "fool": run_fool, "classviz": run_classviz}[args.command]
    return run(args, model, names)


if __name__ == "__main__":
    run_program(main)
