"""Argument types for the demos' command lines: each checks a value when the command line
is parsed, before any data is loaded or any training starts.

    p.add_argument("--batch-size", type=positive_int, default=128)

argparse turns the ArgumentTypeError into "error: argument --batch-size: ..." and exits.
"""
import argparse
import math


def _number(text, kind):
    try:
        value = kind(text)
    except ValueError:
        name = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {name}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_int(text) -> int:
    """An integer >= 1 (a count, a size, a period)."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (1 or more), got {value}")
    return value


def at_least_2(text) -> int:
    """An integer >= 2 (a sample count for a covariance, which one sample cannot give)."""
    value = _number(text, int)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2 (a covariance needs two or more "
                                         f"samples), got {value}")
    return value


def nonnegative_int(text) -> int:
    """An integer >= 0."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_float(text) -> float:
    """A finite number > 0."""
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number greater than 0, got {value}")
    return value


def nonnegative_float(text) -> float:
    """A finite number >= 0 (a weight)."""
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def unit_float(text) -> float:
    """A number in [0, 1] (a fraction, a blend weight)."""
    value = _number(text, float)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 1, got {value}")
    return value


def check_finite(loss, iteration, program, hint=""):
    """Stop a training loop at the first NaN or infinite loss instead of training on.

    Raises FloatingPointError "<program>: loss is NaN at iteration <k>" (k counts from 1)."""
    loss = float(loss)
    if not math.isfinite(loss):
        what = "NaN" if math.isnan(loss) else f"infinite ({loss})"
        raise FloatingPointError(f"{program}: loss is {what} at iteration {iteration}; training "
                                 f"has diverged, stopping.{' ' + hint if hint else ''}")


# What a user's input can cause: a missing or damaged file, a refused value, a diverged run.
USER_ERRORS = (ValueError, OSError, FloatingPointError)


def run_program(main):
    """Run a demo's ``main()`` from the command line.  A mistake in the user's input ends
    the program with its message and exit status 1, without a traceback (which would bury
    the message); anything else is a bug and keeps its traceback."""
    import os
    import sys
    try:
        return main()
    except USER_ERRORS as e:
        sys.exit(f"{os.path.basename(sys.argv[0])}: error: {e}")
