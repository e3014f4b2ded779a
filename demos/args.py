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


def _number_type(kind, allowed, requirement, doc):
    """An argparse type: a number of ``kind`` for which ``allowed(value)`` holds, else
    "must be <requirement>, got <value>"."""
    def check(text):
        value = _number(text, kind)
        if not allowed(value):
            raise argparse.ArgumentTypeError(f"must {requirement}, got {value}")
        return value
    check.__doc__ = doc
    return check


positive_int = _number_type(int, lambda v: v >= 1, "be a positive integer (1 or more)",
                            "An integer >= 1 (a count, a size, a period).")
at_least_2 = _number_type(int, lambda v: v >= 2,
                          "be at least 2 (a covariance needs two or more samples)",
                          "An integer >= 2 (a sample count for a covariance, which one "
                          "sample cannot give).")
nonnegative_int = _number_type(int, lambda v: v >= 0, "be 0 or more", "An integer >= 0.")
positive_float = _number_type(float, lambda v: v > 0, "be a number greater than 0",
                              "A finite number > 0.")
nonnegative_float = _number_type(float, lambda v: v >= 0, "be 0 or more",
                                 "A finite number >= 0 (a weight).")
unit_float = _number_type(float, lambda v: 0 <= v <= 1, "lie between 0 and 1",
                          "A number in [0, 1] (a fraction, a blend weight).")


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
