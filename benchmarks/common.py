"""Timing helpers shared by the benchmarks: median of repeated runs after a warm-up."""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np


def timeit(fn, repeat=7, warmup=2, min_time=0.0):
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < repeat or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}"


def torch_timings(script, torch_python=None, args=()):
    """Run the PyTorch side of a benchmark: in this interpreter if torch imports here,
    else with ``torch_python`` (a python that has torch==2.13.0).  Returns a dict or None."""
    python = None
    try:
        import torch  # noqa: F401
        python = sys.executable
    except ImportError:
        python = torch_python
    if not python:
        return None
    out = subprocess.run([python, script, *args], capture_output=True, text=True, check=True,
                         env=dict(os.environ))  # tinygrad_cs leaves os.environ as it found it
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(rows, headers):
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(r) for r in rows])


OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def rerun_without_openblas_env(wanted: bool):
    """With ``wanted``, re-run this script with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset
    (they slow a current NumPy; only a benchmark's own process may drop them), and exit
    with its status.  Returns when there is nothing to unset."""
    if wanted and any(v in os.environ for v in OPENBLAS_VARS):
        env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
        sys.exit(subprocess.call([sys.executable] + sys.argv, env=env))


def benchmark_parser(doc) -> argparse.ArgumentParser:
    """The options every benchmark shares: the PyTorch interpreter, the OpenBLAS switch and
    the number of alternating rounds."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--torch-python", help="a python with torch==2.13.0 for the PyTorch column")
    ap.add_argument("--unset-openblas-env", action="store_true",
                    help="run without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE")
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate ours and PyTorch this many times and keep each one's best "
                         "time: on a noisy machine, a fairer ratio than one round")
    return ap


def keep_best(best, new):
    """The smaller of two timings, entry by entry for (nested) dicts of timings; ``None``
    (nothing measured yet, or no PyTorch) gives the other one."""
    if best is None or new is None:
        return new if best is None else best
    if isinstance(best, dict):
        return {k: keep_best(best[k], new[k]) for k in best}
    return min(best, new)


def best_of_rounds(rounds, ours, torch_script, torch_python=None):
    """Alternate ``ours()`` and the PyTorch side (``torch_script``, see torch_timings)
    ``rounds`` times; -> (ours, theirs), each entry the best of its rounds (theirs None
    without PyTorch)."""
    mine = theirs = None
    for _ in range(rounds):
        mine = keep_best(mine, ours())
        theirs = keep_best(theirs, torch_timings(torch_script, torch_python))
    return mine, theirs


# -- the workloads, shared by the benchmarks (models is imported inside the functions: the
# PyTorch side imports this module too and must not import tinygrad_cs)

def starry_night(data):
    """(model, content, style, preset) for the starry_night preset at 192 px, as the demos
    run it; ``preset`` holds the keyword arguments left for ``style_transfer``."""
    from models.data import find_file
    from models.images import load_image, preprocess
    from models.squeezenet import load_squeezenet
    from models.style_transfer import PRESETS

    model = load_squeezenet("torchvision", data)
    preset = dict(PRESETS["starry_night"])
    content = preprocess(load_image(find_file("styles/tubingen.jpg", data)), 192)
    style = preprocess(load_image(find_file("styles/" + preset.pop("style"), data)),
                       preset["style_size"])
    return model, content, style, preset


def gan_trainer(variant):
    """A GANTrainer for ``variant`` (one critic step per generator step) on 20 batches of
    random images, batch 128."""
    from models.gan_training import GANTrainer

    images = np.random.default_rng(0).uniform(-1, 1, (128 * 20, 784)).astype(np.float32)
    return GANTrainer(variant, images, seed=0, n_critic=1)
