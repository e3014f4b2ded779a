"""Score trained GANs with the MNIST classifier: classifier score, Fréchet distance of
classifier features against the test set, and the share of each digit.

    python demos/train_mnist_classifier.py --data DIR --out out/mnist_classifier
    python demos/gan.py --variant dcgan --data DIR --out out/gan_dcgan
    python demos/evaluate_gan.py out/gan_* --classifier out/mnist_classifier/classifier.npz --data DIR

Writes a Markdown table (``--table``) that the README quotes.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from models import gan  # noqa: E402
from models.gan_metrics import class_shares, classifier_score, frechet_distance  # noqa: E402
from models.gan_training import VARIANTS  # noqa: E402
from models.mnist import load_mnist, to_uint8  # noqa: E402
from models.mnist_classifier import MNISTClassifier, features, predict_proba  # noqa: E402
from tinygrad_cs import no_grad  # noqa: E402
from tinygrad_cs.io import write_text_atomic  # noqa: E402


@no_grad()
def generate(run_dir, n, seed=123):
    info = json.load(open(os.path.join(run_dir, "run.json")))
    G = VARIANTS[info["variant"]]["G"]()
    G.load(os.path.join(run_dir, "generator.npz"))
    G.eval()
    out = []
    for start in range(0, n, 500):
        z = gan.sample_noise(min(500, n - start), seed=[seed, start])
        out.append(G(z).data)
    x = np.concatenate(out)
    return info, to_uint8(x)


def scores(model, digits, test_features):
    probs = predict_proba(model, digits)
    return (classifier_score(probs), frechet_distance(features(model, digits), test_features),
            class_shares(probs))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="*", help="output folders of demos/gan.py")
    p.add_argument("--classifier", default="out/mnist_classifier/classifier.npz")
    p.add_argument("--data")
    p.add_argument("-n", type=int, default=10000, help="samples per generator")
    p.add_argument("--table", default="out/gan_scores.md")
    p.add_argument("--test-limit", type=int, default=None, help="use only the first N test digits (quick runs)")
    args = p.parse_args(argv)
    if not os.path.exists(args.classifier):
        p.error(f"no classifier at {args.classifier}; train one with demos/train_mnist_classifier.py")
    model = MNISTClassifier()
    model.load(args.classifier)
    data = load_mnist(args.data)
    x_test = data["x_test"][:args.test_limit]
    test_feats = features(model, x_test)
    rows = [("real test digits", "-", *scores(model, x_test, test_feats))]
    for run in args.runs:
        info, digits = generate(run, args.n)
        label = f"{info['variant']} ({info['iterations']} it, {info['epochs']:.1f} ep)"
        rows.append((label, f"{info['ms_per_iteration']:.0f}", *scores(model, digits, test_feats)))
    lines = ["| samples | ms/iter | classifier score | Fréchet distance | digit shares 0..9 (%) |",
             "|---|---|---|---|---|"]
    for label, ms, cs, fd, shares in rows:
        lines.append(f"| {label} | {ms} | {cs:.2f} | {fd:.2f} | {' '.join(f'{100 * s:.0f}' for s in shares)} |")
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.dirname(os.path.abspath(args.table)), exist_ok=True)
    write_text_atomic(args.table, table + "\n")
    return rows


if __name__ == "__main__":
    main()
