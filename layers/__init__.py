"""PyTorch-style layers built on the tinygrad_cs engine."""
from . import init
from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .conv import Conv2d, ConvTranspose2d
from .linear import Linear
from .module import Module, Parameter, Sequential
from .norm import BatchNorm1d, BatchNorm2d
from .pool import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .shape import Dropout, Flatten, Unflatten

__all__ = ["Module", "Parameter", "Sequential", "Linear", "Conv2d", "ConvTranspose2d",
           "BatchNorm1d", "BatchNorm2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
           "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Flatten", "Unflatten", "Dropout", "init"]
