"""PyTorch CPU timings for the kernel benchmark's shapes (run by bench_kernels.py, in a
Python that has torch==2.13.0).  Prints one JSON line: name -> {"forward": s, "fwd+bwd": s}."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import timeit  # noqa: E402
from conv_shapes import BN_CASES, CONV_CASES, POOL_CASES  # noqa: E402

torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
F = torch.nn.functional
results = {}
for name, (kind, xs, ws, s, p) in CONV_CASES.items():
    x = torch.randn(xs, requires_grad=True)
    w = torch.randn(ws, requires_grad=True)
    op = (lambda: F.conv2d(x, w, stride=s, padding=p)) if kind == "conv" else \
        (lambda: F.conv_transpose2d(x, w, stride=s, padding=p))
    g = torch.randn(op().shape)
    results[name] = {"forward": timeit(lambda: op().detach()),
                     "fwd+bwd": timeit(lambda: torch.autograd.grad(op(), [x, w], g))}
for name, (xs, k, s, ceil) in POOL_CASES.items():
    x = torch.randn(xs, requires_grad=True)
    op = lambda: F.max_pool2d(x, k, s, ceil_mode=ceil)  # noqa: E731
    g = torch.randn(op().shape)
    results[name] = {"forward": timeit(lambda: op().detach()),
                     "fwd+bwd": timeit(lambda: torch.autograd.grad(op(), [x], g))}
for name, shape in BN_CASES.items():
    x = torch.randn(shape, requires_grad=True)
    w, b = torch.ones(shape[1], requires_grad=True), torch.zeros(shape[1], requires_grad=True)
    op = lambda: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    g = torch.randn(shape)
    results[name] = {"forward": timeit(lambda: op().detach()),
                     "fwd+bwd": timeit(lambda: torch.autograd.grad(op(), [x, w, b], g))}
print(json.dumps(results))
