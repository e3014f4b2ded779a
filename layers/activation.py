"""Activation layers: thin Modules around the Tensor methods."""
from tinygrad_cs.ops.elementwise import leaky_relu_slope

from .module import Module


class ReLU(Module):
    def forward(self, x):
        return x.relu()


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        # a bad slope is refused here, when the model is built, not at its first call
        self.negative_slope = leaky_relu_slope("LeakyReLU", negative_slope)

    def forward(self, x):
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    def forward(self, x):
        return x.tanh()


class Sigmoid(Module):
    def forward(self, x):
        return x.sigmoid()
