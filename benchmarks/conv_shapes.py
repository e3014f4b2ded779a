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
