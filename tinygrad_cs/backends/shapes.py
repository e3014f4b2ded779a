"""Output sizes of sliding windows: shared by the ops (to check arguments) and the backends."""
import math


def conv_out_size(size, k, stride, padding):
    """How many windows of size k fit, at the given stride, in size + 2*padding."""
    return (size + 2 * padding - k) // stride + 1


def pool_out_size(size, k, stride, padding, ceil_mode=False):
    span = size + 2 * padding - k
    if span < 0:
        raise ValueError(f"pool: a window of {k} with padding {padding} does not fit size {size}.")
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window would start in the padding
    return out
