"""Score trained GANs with the MNIST classifier: classifier score, Fréchet distance of
classifier features against the test set, and the share of each digit.

    python demos/train_mnist_classifier.py --data DIR --out out/mnist_classifier
    python demos/gan.py --variant dcgan --data DIR --out out/gan_dcgan
    python demos/evaluate_gan.py out/gan_* --classifier out/mnist_classifier/classifier.npz --data DIR

Writes a Markdown table (``--table``, rewritten after each run is scored) that the README
quotes.  Its first line is a Markdown comment (``TITLE``) by which a later run knows the file
as an earlier table it may replace; any other existing file is kept unless ``--overwrite`` is
given, and an input of this program (the classifier, a run's files) is never replaced.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from demos.args import at_least_2, run_program  # noqa: E402
from demos.gan import RUN_FILES, SAMPLE_FILE  # noqa: E402
from models import gan  # noqa: E402
from models.gan_metrics import class_shares, classifier_score, frechet_distance  # noqa: E402
from models.gan_training import VARIANTS  # noqa: E402
from models.mnist import load_mnist, to_uint8  # noqa: E402
from models.mnist_classifier import MNISTClassifier, features, predict_proba  # noqa: E402
from tinygrad_cs import no_grad  # noqa: E402
from tinygrad_cs.io import check_replaceable, write_text_atomic  # noqa: E402


def read_run(p, run, table):
    """The run.json of a folder written by demos/gan.py; a clear argparse error otherwise."""
    if os.path.abspath(run) == os.path.abspath(table):
        p.error(f"{run} is the score table (--table) itself, not a run folder; leave it out "
                "of the list (a glob such as out/gan_* may match it)")
    missing = [n for n in ("run.json", "generator.npz") if not os.path.isfile(os.path.join(run, n))]
    if not os.path.isdir(run) or missing:
        why = "not a folder" if not os.path.isdir(run) else f"no {' or '.join(missing)} in it"
        p.error(f"{run} is not a finished run of demos/gan.py ({why}); give only run folders "
                "(a glob such as out/gan_* may match other files)")
    try:
        with open(os.path.join(run, "run.json")) as f:
            info = json.load(f)
        keys = ("variant", "iterations", "epochs", "ms_per_iteration")
        if not isinstance(info, dict) or any(k not in info for k in keys) or info["variant"] not in VARIANTS:
            raise ValueError(f"expected the keys {', '.join(keys)} and a known variant")
    except ValueError as e:
        p.error(f"{os.path.join(run, 'run.json')} is damaged ({e}); run demos/gan.py again")
    return info


@no_grad()
def generate(run_dir, info, n, seed=123):
    G = VARIANTS[info["variant"]]["G"]()
    G.load(os.path.join(run_dir, "generator.npz"))
    G.eval()
    out = []
    for start in range(0, n, 500):
        z = gan.sample_noise(min(500, n - start), seed=[seed, start])
        out.append(G(z).data)
    x = np.concatenate(out)
    return to_uint8(x)


def scores(model, digits, test_features):
    probs = predict_proba(model, digits)
    return (classifier_score(probs), frechet_distance(features(model, digits), test_features),
            class_shares(probs))


# 10,000 samples already give scores that change little from one draw to the next; far more
# only take longer and hold every sample and its features in memory at once
MAX_SAMPLES = 100_000


# the first line of every score table: invisible in rendered Markdown, and the mark by which
# check_table knows a file as an earlier table that may be replaced
TITLE = "<!-- GAN scores written by demos/evaluate_gan.py -->"


def format_table(rows) -> str:
    lines = [TITLE, "| samples | ms/iter | classifier score | Fréchet distance | digit shares 0..9 (%) |",
             "|---|---|---|---|---|"]
    for label, ms, cs, fd, shares in rows:
        lines.append(f"| {label} | {ms} | {cs:.2f} | {fd:.2f} | {' '.join(f'{100 * s:.0f}' for s in shares)} |")
    return "\n".join(lines)


def _same_file(a, b) -> bool:
    """Whether paths ``a`` and ``b`` name one file (through symbolic or hard links too)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def check_table(p, table, runs, classifier, overwrite):
    """Before any work: the table must not be an input (the classifier, a file a run of
    demos/gan.py writes), and an existing file is replaced only if it is an earlier score
    table (its first line is TITLE) or --overwrite is given."""
    if _same_file(table, classifier):
        p.error(f"--table {table} is the classifier (--classifier) itself; give another path "
                "for the score table")
    for run in runs:
        inside = os.path.realpath(os.path.dirname(os.path.abspath(table))) == os.path.realpath(run)
        name = os.path.basename(table)
        if inside and (name in RUN_FILES or SAMPLE_FILE.fullmatch(name)):
            p.error(f"--table {table} is a file of the run {run} (written by demos/gan.py); "
                    "give a path outside the run's files, such as out/scores_gan.md")
    if not os.path.isfile(table) or overwrite:
        return
    try:
        with open(table, encoding="utf-8") as f:
            first = f.readline().rstrip("\n")
    except (UnicodeDecodeError, OSError):
        first = None
    if first != TITLE:
        p.error(f"--table {table} already exists and is not a score table written by this "
                f"program (its first line is not {TITLE!r}); not replacing it. Give another "
                "--table path, or --overwrite to replace the file")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="*", help="output folders of demos/gan.py")
    p.add_argument("--classifier", default="out/mnist_classifier/classifier.npz")
    p.add_argument("--data", help="data directory holding mnist/mnist.npz (default: $TINYGRAD_CS_DATA, else the download cache)")
    # a covariance (for the Fréchet distance) needs at least 2 samples; thousands are advised
    p.add_argument("-n", type=at_least_2, default=10000,
                   help="samples per generator (at least 2; thousands for a stable score)")
    p.add_argument("--table", default="out/scores_gan.md",
                   help="the Markdown file to write the scores to")
    p.add_argument("--overwrite", action="store_true",
                   help="replace --table even if it exists and is not an earlier score table")
    p.add_argument("--test-limit", type=at_least_2, default=None,
                   help="use only the first N test digits (quick runs; at least 2)")
    args = p.parse_args(argv)
    if not args.runs:
        p.error("no run folders given; give one or more output folders of demos/gan.py "
                "(such as out/gan_*)")
    if args.n > MAX_SAMPLES:
        p.error(f"-n {args.n}: at most {MAX_SAMPLES} samples per generator; more take long and "
                "all stay in memory, while 10000 already give stable scores")
    check_replaceable(args.table)  # a table that cannot be written fails now, not after scoring
    runs = []
    for run in args.runs:  # the same folder given twice (a repeated glob, say) is scored once
        if any(os.path.realpath(run) == os.path.realpath(r) for r in runs):
            print(f"note: {run} is given more than once; scoring it once", flush=True)
        else:
            runs.append(run)
    infos = [read_run(p, run, args.table) for run in runs]  # every check before any work
    check_table(p, args.table, runs, args.classifier, args.overwrite)
    if not os.path.exists(args.classifier):
        p.error(f"no classifier at {args.classifier}; train one with demos/train_mnist_classifier.py")
    model = MNISTClassifier()
    model.load(args.classifier)
    data = load_mnist(args.data)
    x_test = data["x_test"][:args.test_limit]
    test_feats = features(model, x_test)
    rows = [("real test digits", "-", *scores(model, x_test, test_feats))]
    os.makedirs(os.path.dirname(os.path.abspath(args.table)), exist_ok=True)
    for run, info in zip(runs, infos):
        digits = generate(run, info, args.n)
        label = f"{info['variant']} ({info['iterations']} it, {info['epochs']:.1f} ep)"
        rows.append((label, f"{info['ms_per_iteration']:.0f}", *scores(model, digits, test_feats)))
        write_text_atomic(args.table, format_table(rows) + "\n")  # keep each score at once
    table = format_table(rows)
    print(table)
    write_text_atomic(args.table, table + "\n")
    return rows


if __name__ == "__main__":
    run_program(main)
