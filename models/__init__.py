"""Models, data loaders and training loops built on tinygrad_cs and layers."""
import tinygrad_cs  # noqa: F401  (first, before NumPy: see tinygrad_cs/threads.py)
