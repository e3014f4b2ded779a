"""Classify images with SqueezeNet 1.1 (top-5 ImageNet classes with probabilities).

    python demos/classify.py IMAGE [IMAGE ...]
    python demos/classify.py --val25 --data DIR        # the 25-image ImageNet sample

Uses torchvision's SqueezeNet 1.1 checkpoint, downloaded once into the cache, unless the
data directory (--data DIR or TINYGRAD_CS_DATA) holds the complete ONNX-zoo SqueezeNet 1.1,
which it then prefers.  --val25 needs a data directory: the sample has no public download.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from demos.args import run_program  # noqa: E402
from models.data import find_file  # noqa: E402
from models.images import MEAN, STD, load_image, preprocess  # noqa: E402
from models.squeezenet import classifier_weights, classify, load_squeezenet  # noqa: E402
from tinygrad_cs.io import load_npz  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images", nargs="*")
    p.add_argument("--data", help="data directory; default $TINYGRAD_CS_DATA, else the download "
                                  "cache")
    p.add_argument("--weights", help="torchvision-pth, onnxzoo, or a .npz/.pth path (default: "
                                     "onnxzoo if the data directory has it, else torchvision-pth)")
    p.add_argument("--val25", action="store_true", help="score the 25 ImageNet validation images")
    args = p.parse_args(argv)
    if not args.images and not args.val25:
        p.error("give image files or --val25")
    folders = [path for path in args.images if os.path.isdir(path)]
    if folders:
        p.error(f"{', '.join(folders)}: a folder, not an image file; give the image files in it "
                "(such as DIR/*.jpg)")
    missing = [path for path in args.images if not os.path.isfile(path)]
    if missing:
        p.error(f"no such image file: {', '.join(missing)}")
    # every image is read and checked before the model loads;
    # torchvision's eval transform: shorter side to 256, then the centre 224 x 224
    inputs = []
    for path in args.images:
        try:
            inputs.append(preprocess(load_image(path), 256, crop=224))
        except ValueError as e:
            p.error(f"{path}: {e}")
    val25 = find_file("imagenet_val_25.npz", args.data) if args.val25 else None
    classes = find_file("imagenet_classes.txt", args.data).read_text().splitlines()
    model = load_squeezenet(args.weights or classifier_weights(args.data), args.data)
    for path, x in zip(args.images, inputs):
        print(path)
        for k, prob in classify(model, x)[0]:
            print(f"  {prob:6.1%}  {classes[k]}")
    if args.val25:
        val25 = load_npz(val25, what="ImageNet sample")
        X, y = val25["X"], val25["y"]
        x = ((X.astype(np.float32) / 255 - MEAN) / STD).transpose(0, 3, 1, 2).copy()
        results = classify(model, x)
        top1 = sum(r[0][0] == t for r, t in zip(results, y))
        top5 = sum(t in [k for k, _ in r] for r, t in zip(results, y))
        for r, t in zip(results, y):
            mark = "ok " if r[0][0] == t else ("top5" if t in [k for k, _ in r] else "   ")
            print(f"{mark} true: {classes[t]:<28} predicted: {classes[r[0][0]]} ({r[0][1]:.0%})")
        print(f"top-1 {top1}/25, top-5 {top5}/25")
        return top1, top5


if __name__ == "__main__":
    run_program(main)
