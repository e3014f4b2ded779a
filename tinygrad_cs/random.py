"""One global random generator, like PyTorch's default generator.

Everything random in tinygrad_cs draws from it unless it is given its own
``np.random.Generator``: weight initialisers (``layers/init.py``), ``Dropout``,
``randn``/``rand`` (``creation.py``) and minibatch shuffling.  So one call

    manual_seed(0)

at the top of a program makes the whole run reproducible: the same weights, the same
dropout masks, the same noise.
"""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Restart the global generator from ``seed`` (an int >= 0); returns it."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"manual_seed: seed must be a non-negative int, got {seed!r}; "
                        "e.g. manual_seed(0).")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The global generator (a ``np.random.Generator``); draw from it for your own noise."""
    return _generator


def get_rng(rng=None) -> np.random.Generator:
    """``rng`` if one is given, else the global generator (read at call time, so a later
    ``manual_seed`` is seen)."""
    return _generator if rng is None else rng
