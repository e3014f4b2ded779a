"""Neural style transfer with SqueezeNet (Gatys et al.; the CS231n assignment).

    python demos/style_transfer.py --preset starry_night --out out/style
    python demos/style_transfer.py --preset all                       # every preset
    python demos/style_transfer.py --content my.jpg --style a.jpg b.jpg --blend 0.7 0.3

Presets (content: tubingen.jpg, content layer 3, style layers 1,4,6,7, 192 px):
composition_vii, the_scream, starry_night, feature_inversion, texture.  A result is named
after its preset; with your own --style it is "custom", or "<preset>_custom" for each
preset of --preset all.
The network's weights and the preset images come from the data directory (--data DIR or
TINYGRAD_CS_DATA) if one is given, else from the download cache; the first run downloads
what is missing (torchvision's SqueezeNet 1.1 and the images, about 6 MB).
Saves the result, a side-by-side figure (content | style | result), the loss curves and,
with --gif, an animation of the optimisation.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from demos.args import (check_finite, nonnegative_float, nonnegative_int, positive_float,  # noqa: E402
                        positive_int, run_program, unit_float)
from demos.plotting import plot_curves, save_figure, save_image  # noqa: E402
from models.data import DataNotFoundError, find_file  # noqa: E402
from models.images import load_image  # noqa: E402
from models.squeezenet import load_squeezenet  # noqa: E402
from models.style_transfer import COMMON, PRESETS, style_transfer  # noqa: E402
from tinygrad_cs.io import atomic_path, check_replaceable  # noqa: E402


# SqueezeNet 1.1 has 13 feature layers (models/squeezenet.py): valid layer indices 0..12
FEATURE_LAYERS = 13
# the smallest shorter side that passes through all of them: the stride-2 convolution and
# the three 3x3 stride-2 max pools leave a 1x1 map from 25 pixels, and nothing from 24
MIN_IMAGE_SIZE = 25


def image_path(name, data_dir):
    """A path as given, or a file of styles/ (data directory, cache, or download)."""
    if os.path.exists(name):
        return name
    try:
        return str(find_file(f"styles/{name}", data_dir))
    except DataNotFoundError as e:
        if f"styles/{name}" not in str(e):  # not about this file (a bad --data, say)
            raise
        raise DataNotFoundError(f"{name}: no such image file here, and {e}") from None


def side_by_side(content, styles, result, title, path):
    panels = ([("content", content)] if content is not None else []) + [(f"style {i + 1}" if len(styles) > 1 else "style", s)
                                       for i, s in enumerate(styles)] + [("result", result)]
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.6))
    for ax, (name, img) in zip(axes, panels):
        ax.imshow(img)
        ax.set_title(name)
        ax.axis("off")
    fig.suptitle(title)
    save_figure(fig, path)


def save_gif(frames, path, ms_per_frame=80):
    images = [Image.fromarray(f) for _, f in frames]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=ms_per_frame, loop=0)


def output_files(name, args):
    """The files one run writes: result, figure, loss curves and, with --gif, the GIF."""
    out = os.path.join(args.out, name)
    return [out + suffix for suffix in
            (".png", "_figure.png", "_losses.png") + ((".gif",) if args.gif else ())]


def run(name, settings, args, model):
    content = image_path(settings["content"], args.data)
    styles = [image_path(s, args.data) for s in settings["style"]]
    out = os.path.join(args.out, name)
    t0 = time.perf_counter()
    stamps = []  # when each iteration ended: the loop's own speed, without the set-up

    def after_iteration(t, img, history):
        stamps.append(time.perf_counter())
        check_finite(history["total"][-1], t + 1, f"style_transfer.py ({name})",
                     "Try smaller --style-weights or --tv-weight, or the other --optimizer.")

    result = style_transfer(
        content, styles, image_size=settings["image_size"], style_size=settings["style_size"],
        content_layer=settings["content_layer"], content_weight=settings["content_weight"],
        style_layers=settings["style_layers"], style_weights=settings["style_weights"],
        tv_weight=settings["tv_weight"], init_random=settings.get("init_random", False),
        num_iters=args.iters, optimizer=args.optimizer, model=model,
        style_blend_weights=args.blend, style_scale=args.style_scale,
        preserve_colors=args.preserve_colors, frame_every=args.gif_every if args.gif else 0,
        seed=args.seed, callback=after_iteration)
    seconds = time.perf_counter() - t0
    per_iteration = ((stamps[-1] - stamps[0]) / (len(stamps) - 1) if len(stamps) > 1
                     else seconds / args.iters)
    save_image(result.to_uint8(), out + ".png")
    style_previews = [np.asarray(load_image(s, settings["image_size"])) for s in styles
                      if any(settings["style_weights"])]  # feature inversion uses no style
    content_preview = (np.asarray(load_image(content, settings["image_size"]))
                       if settings["content_weight"] else None)  # texture synthesis has none
    side_by_side(content_preview, style_previews,
                 result.to_uint8(), f"{name}: {args.iters} iterations, {seconds:.1f} s",
                 out + "_figure.png")
    plot_curves({k: v for k, v in result.history.items() if any(v)}, out + "_losses.png",
                logy=True, title=f"{name}: loss terms")
    if args.gif:
        save_gif(result.frames, out + ".gif")
    print(f"{name}: {seconds:.1f} s with set-up ({per_iteration * 1000:.0f} ms/iteration), final loss "
          f"{result.history['total'][-1]:.4g} -> {out}.png", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="starry_night", choices=sorted(PRESETS) + ["all", "none"])
    p.add_argument("--data", help="data directory (weights, styles/); default $TINYGRAD_CS_DATA, "
                                  "else the download cache")
    p.add_argument("--weights", default="torchvision",
                   help="torchvision (default: the data directory's feature weights, else "
                        "torchvision's checkpoint, downloaded once), onnxzoo, or a .npz/.pth path")
    p.add_argument("--out", default="out/style_transfer")
    p.add_argument("--content", help="content image (path, or a name in the data's styles/)")
    p.add_argument("--style", nargs="+", help="style image(s)")
    p.add_argument("--blend", type=unit_float, nargs="+",
                   help="weights in [0, 1] for several style images, one per --style image")
    p.add_argument("--image-size", type=positive_int, help="shorter side of the result in pixels")
    p.add_argument("--style-size", type=positive_int)
    p.add_argument("--style-scale", type=positive_float, help="style size as a multiple of the image size")
    p.add_argument("--content-layer", type=nonnegative_int)
    p.add_argument("--content-weight", type=nonnegative_float)
    p.add_argument("--style-layers", type=nonnegative_int, nargs="+")
    p.add_argument("--style-weights", type=nonnegative_float, nargs="+")
    p.add_argument("--tv-weight", type=nonnegative_float)
    p.add_argument("--init-random", action="store_true")
    p.add_argument("--preserve-colors", action="store_true", help="keep the content's colours")
    p.add_argument("--optimizer", choices=["adam", "lbfgs"], default="adam")
    p.add_argument("--iters", type=positive_int, default=200)
    p.add_argument("--gif", action="store_true", help="also save an animated GIF")
    p.add_argument("--gif-every", type=positive_int, default=5)
    p.add_argument("--seed", type=nonnegative_int, default=0)
    args = p.parse_args(argv)
    for flag, layers in (("--content-layer", [args.content_layer]), ("--style-layers", args.style_layers)):
        bad = [k for k in layers or [] if k is not None and k >= FEATURE_LAYERS]
        if bad:
            p.error(f"{flag}: layer {bad[0]} does not exist; SqueezeNet has feature layers "
                    f"0..{FEATURE_LAYERS - 1}")
    for flag, size in (("--image-size", args.image_size), ("--style-size", args.style_size)):
        if size is not None and size < MIN_IMAGE_SIZE:
            p.error(f"{flag}: {size} pixels is too small; SqueezeNet's layers need a shorter "
                    f"side of at least {MIN_IMAGE_SIZE} pixels")
    if args.style_scale is not None and round(args.style_scale * (args.image_size or COMMON["image_size"])) < MIN_IMAGE_SIZE:
        p.error(f"--style-scale: {args.style_scale} x the image size gives a style image under "
                f"{MIN_IMAGE_SIZE} pixels, too small for SqueezeNet's layers; give a larger scale")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        p.error(f"--out: {args.out} is a file, not a folder; give a folder for the results")
    if args.blend is not None:
        n_styles = len(args.style) if args.style else 1
        if len(args.blend) != n_styles:
            p.error(f"--blend: {len(args.blend)} weights for {n_styles} style image(s); give "
                    "one weight per --style image")
        if sum(args.blend) == 0:
            p.error("--blend: the weights are all 0; give at least one positive weight")
    if args.style_layers is not None and args.style_weights is not None and \
            len(args.style_layers) != len(args.style_weights):
        p.error(f"--style-weights: {len(args.style_weights)} weights for "
                f"{len(args.style_layers)} --style-layers; give one weight per layer")

    for image in [args.content] + (args.style or []):
        if image:
            image_path(image, args.data)  # a missing image fails now, not after loading the model
    names = sorted(PRESETS) if args.preset == "all" else [args.preset]
    jobs = []
    for name in names:
        settings = dict(COMMON, **(PRESETS.get(name, PRESETS["starry_night"])))
        settings["style"] = [settings["style"]]
        overrides = dict(content=args.content, style=args.style, image_size=args.image_size,
                         style_size=args.style_size, content_layer=args.content_layer,
                         content_weight=args.content_weight, style_layers=args.style_layers,
                         style_weights=args.style_weights, tv_weight=args.tv_weight)
        settings.update({k: v for k, v in overrides.items() if v is not None})
        if args.init_random:
            settings["init_random"] = True
        if args.preset == "none" or (args.style and args.preset != "all"):
            label = "custom"
        elif args.style:  # every preset with the user's style: one result per preset
            label = f"{name}_custom"
        else:
            label = name
        # every image and the weights are found (or downloaded) before the first run starts
        settings["content"] = image_path(settings["content"], args.data)
        settings["style"] = [image_path(s, args.data) for s in settings["style"]]
        jobs.append((label, settings))
    for label, _ in jobs:
        for path in output_files(label, args):
            check_replaceable(path)  # an output that cannot be written fails now, not after the work
    model = load_squeezenet(args.weights, args.data)
    os.makedirs(args.out, exist_ok=True)
    for label, settings in jobs:
        run(label, settings, args, model)


if __name__ == "__main__":
    run_program(main)
