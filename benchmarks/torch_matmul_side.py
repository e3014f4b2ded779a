"""PyTorch CPU timings of bench_matmul.py's products (run by it, in a Python that has
torch==2.13.0).  Prints one JSON line: name -> seconds."""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import timeit  # noqa: E402
from conv_shapes import MATMUL_CASES  # noqa: E402

torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
results = {}
for name, (m, k, n) in MATMUL_CASES.items():
    a, b, out = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
    results[name] = timeit(lambda: torch.mm(a, b, out=out), repeat=15)
print(json.dumps(results))
