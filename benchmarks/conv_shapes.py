"""The layer shapes the kernel benchmark times (shared with the PyTorch side)."""
# name: (kind, x shape, weight shape, stride, padding)
CONV_CASES = {
    "DCGAN D conv1 (128x1x28x28 -> 32 5x5)": ("conv", (128, 1, 28, 28), (32, 1, 5, 5), 1, 0),
    "DCGAN D conv2 (128x32x12x12 -> 64 5x5)": ("conv", (128, 32, 12, 12), (64, 32, 5, 5), 1, 0),
    "SqueezeNet fire9 expand3x3 (1x64x11x11 -> 256 3x3)": ("conv", (1, 64, 11, 11), (256, 64, 3, 3), 1, 1),
    "ConvTranspose 128->64 4x4/2 at 7x7 (N=128)": ("convT", (128, 128, 7, 7), (128, 64, 4, 4), 2, 1),
}
POOL_CASES = {
    "maxpool 2x2 (128x32x24x24)": ((128, 32, 24, 24), 2, 2, False),
    "maxpool 3x3/2 ceil (1x64x111x111)": ((1, 64, 111, 111), 3, 2, True),
}
BN_CASES = {"batchnorm (128, 1024)": (128, 1024), "batchnorm2d (128, 64, 14, 14)": (128, 64, 14, 14)}


def conv_products(kind, x_shape, w_shape, stride, padding):
    """The three matrix products (M, K, N) that a convolution's forward and backward run in
    tinygrad_cs/backends/fast/conv.py: forward, input gradient and weight gradient, in that order.
    A conv2d multiplies its patch matrix (pixels, C*kh*kw) by the weights; a transposed
    convolution multiplies the input's pixels by the weights and scatters the result back."""
    n, c, h, w = x_shape
    if kind == "conv":
        o, _, kh, kw = w_shape
        ho, wo = ((size + 2 * padding - k) // stride + 1 for size, k in ((h, kh), (w, kw)))
        m, k = n * ho * wo, c * kh * kw
        return {"forward": (m, k, o), "input grad": (m, o, k), "weight grad": (o, m, k)}
    _, c_out, kh, kw = w_shape
    m, k = n * h * w, c_out * kh * kw
    return {"forward": (m, c, k), "input grad": (m, k, c), "weight grad": (c, m, k)}


def linear_products(batch, n_in, n_out):
    """The same three products for a Linear layer (the MLP GANs' biggest)."""
    return {"forward": (batch, n_in, n_out), "input grad": (batch, n_out, n_in),
            "weight grad": (n_out, batch, n_in)}


# product name: (M, K, N) for an (M, K) @ (K, N) product of float32 matrices.  The two
# big convolutions, whose time is mostly these products (conv1's patch rows are 25 long,
# SqueezeNet's layer is one image), and the MLP generator's biggest layer.
MATMUL_CASES = {f"{name.split(' (')[0]} {part}": mkn
                for name, (kind, xs, ws, s, p) in CONV_CASES.items()
                if name.startswith(("DCGAN D conv2", "ConvTranspose"))
                for part, mkn in conv_products(kind, xs, ws, s, p).items()}
MATMUL_CASES.update({f"MLP G Linear 1024->1024 {part}": mkn
                     for part, mkn in linear_products(128, 1024, 1024).items()})
