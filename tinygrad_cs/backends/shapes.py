"""Output sizes of sliding windows: shared by the ops (to check arguments) and the backends."""
import math


def conv_out_size(size, k, stride, padding):
    """How many windows of size k fit, at the given stride, in size + 2*padding."""
    return (size + 2 * padding - k) // stride + 1


def pool_out_size(size, k, stride, padding, ceil_mode=False, op="pool"):
    """How many windows of size k fit, with PyTorch's ceil_mode rule; ``op`` names the
    caller in the error for a window that does not fit."""
    span = size + 2 * padding - k
    if span < 0:
        raise ValueError(f"{op}: a window of {k} with padding {padding} does not fit an input "
                         f"of size {size}; use kernel_size <= {size + 2 * padding} or more "
                         "padding (or a larger input).")
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start in the padding
    return out
