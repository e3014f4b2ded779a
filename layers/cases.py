"""Check cases for every layer: the counterpart of the ``cases`` lists of the ops
(``tinygrad_cs/registry.py``).

``tests/test_layers.py`` finds every Module subclass defined in this package
(:func:`layer_classes`) and runs each of its cases through one test:

1. the layer's output against ``forward(layer, *input arrays)``, written in NumPy alone;
2. ``gradcheck_module``: gradients of the inputs AND of every parameter, in float64;
3. ``gradgradcheck_module`` unless ``gradgrad=False`` -- layers can run under
   ``create_graph=True`` (the WGAN-GP gradient penalty differentiates a critic's gradient).

A layer class without a case fails that test, so a new layer cannot slip in unchecked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from tinygrad_cs import oracles as ref
from tinygrad_cs.registry import Input

from . import activation, conv, linear, module, norm, pool, shape
from .module import Module


@dataclass
class LayerCase:
    """make(): a new layer, float32 like any other.  inputs: how to draw its inputs.
    forward(layer, *arrays): the expected output, from the layer's float64 parameters and
    buffers with NumPy only."""

    make: Callable[[], Module]
    inputs: Sequence[Input]
    forward: Callable
    gradgrad: bool = True
    description: str = ""

    def build(self, rng: np.random.Generator) -> Module:
        """The layer in float64 with every parameter redrawn uniformly in [-1, 1]: a
        default such as batchnorm's weight 1 and bias 0 could hide a missing term."""
        layer = self.make()
        for p in layer.parameters():
            p.data[...] = rng.uniform(-1, 1, p.shape)
        return layer.to(np.float64)

    def draw(self, rng: np.random.Generator) -> list:
        return [spec.draw(rng) for spec in self.inputs]


class _SameDraws:
    """Stands in for a random generator and returns the same numbers at every call, so that
    Dropout in training mode keeps one mask while gradcheck calls it again and again."""

    def __init__(self, seed):
        self.seed = seed

    def random(self, shape):
        return np.random.default_rng(self.seed).random(shape)


def _batchnorm_eval(cls, channels):
    layer = cls(channels)
    layer.running_mean[...] = np.linspace(-0.5, 0.5, channels)
    layer.running_var[...] = np.linspace(0.5, 2.0, channels)
    return layer.eval()


def _params(layer):
    """name -> float64 array of each parameter."""
    return {name: p.data for name, p in layer.named_parameters()}


def _linear(layer, x):
    p = _params(layer)
    y = np.einsum("...i,oi->...o", x, p["weight"])
    return y + p["bias"] if "bias" in p else y


def _batchnorm(layer, x):
    if layer.training:
        return ref.batch_norm_train(x, layer.weight.data, layer.bias.data, layer.eps)
    return ref.batch_norm_eval(x, layer.running_mean, layer.running_var, layer.weight.data,
                               layer.bias.data, layer.eps)


def _mlp(seq, x):
    return _linear(seq[2], np.tanh(_linear(seq[0], x)))


CASES: dict = {
    linear.Linear: [
        LayerCase(lambda: linear.Linear(4, 3), [Input((2, 4))], _linear),
        LayerCase(lambda: linear.Linear(3, 2, bias=False), [Input((2, 2, 3))], _linear,
                  description="no bias, two leading axes")],
    conv.Conv2d: [
        LayerCase(lambda: conv.Conv2d(2, 2, 3, stride=2, padding=1), [Input((1, 2, 4, 4))],
                  lambda m, x: ref.conv2d(x, m.weight.data, m.bias.data, (2, 2), (1, 1)))],
    conv.ConvTranspose2d: [
        LayerCase(lambda: conv.ConvTranspose2d(2, 1, 3, stride=2, padding=1, output_padding=1),
                  [Input((1, 2, 2, 2))],
                  lambda m, x: ref.conv_transpose2d(x, m.weight.data, m.bias.data, (2, 2),
                                                    (1, 1), out_hw=(4, 4)))],
    norm.BatchNorm1d: [
        LayerCase(lambda: norm.BatchNorm1d(3), [Input((4, 3))], _batchnorm,
                  description="train"),
        LayerCase(lambda: _batchnorm_eval(norm.BatchNorm1d, 3), [Input((2, 3))], _batchnorm,
                  description="eval")],
    norm.BatchNorm2d: [
        LayerCase(lambda: norm.BatchNorm2d(2), [Input((2, 2, 2, 3))], _batchnorm,
                  description="train"),
        LayerCase(lambda: _batchnorm_eval(norm.BatchNorm2d, 2), [Input((1, 2, 2, 2))],
                  _batchnorm, description="eval")],
    pool.MaxPool2d: [
        LayerCase(lambda: pool.MaxPool2d(2), [Input((1, 2, 4, 4), "distinct")],
                  lambda m, x: ref.max_pool2d(x, (2, 2), (2, 2))),
        LayerCase(lambda: pool.MaxPool2d(3, stride=2, ceil_mode=True),
                  [Input((1, 1, 6, 6), "distinct")],
                  lambda m, x: ref.max_pool2d(x, (3, 3), (2, 2), ceil_mode=True),
                  description="SqueezeNet's: overlapping, ceil mode")],
    pool.AvgPool2d: [
        LayerCase(lambda: pool.AvgPool2d(2), [Input((1, 2, 4, 4))],
                  lambda m, x: ref.avg_pool2d(x, (2, 2), (2, 2))),
        LayerCase(lambda: pool.AvgPool2d(3, stride=2, padding=1), [Input((1, 1, 5, 5))],
                  lambda m, x: ref.avg_pool2d(x, (3, 3), (2, 2), (1, 1)))],
    pool.AdaptiveAvgPool2d: [
        LayerCase(lambda: pool.AdaptiveAvgPool2d(1), [Input((2, 3, 2, 2))],
                  lambda m, x: x.sum(axis=(2, 3), keepdims=True) / 4)],
    activation.ReLU: [
        LayerCase(activation.ReLU, [Input((2, 3), "away_from_zero")],
                  lambda m, x: np.where(x > 0, x, 0.0))],
    activation.LeakyReLU: [
        LayerCase(lambda: activation.LeakyReLU(0.2), [Input((2, 3), "away_from_zero")],
                  lambda m, x: np.where(x > 0, x, 0.2 * x))],
    activation.Tanh: [
        LayerCase(activation.Tanh, [Input((2, 3))],
                  lambda m, x: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1))],
    activation.Sigmoid: [
        LayerCase(activation.Sigmoid, [Input((2, 3))], lambda m, x: 1 / (1 + np.exp(-x)))],
    shape.Flatten: [
        LayerCase(shape.Flatten, [Input((2, 2, 3))],
                  lambda m, x: np.concatenate([x[:, 0], x[:, 1]], axis=1))],
    shape.Unflatten: [
        LayerCase(lambda: shape.Unflatten(1, (2, 3)), [Input((2, 6))],
                  lambda m, x: np.stack([x[:, :3], x[:, 3:]], axis=1))],
    shape.Dropout: [
        LayerCase(lambda: shape.Dropout(0.5).eval(), [Input((2, 3))], lambda m, x: x,
                  description="eval: the identity"),
        LayerCase(lambda: shape.Dropout(0.25, rng=_SameDraws(0)), [Input((3, 4))],
                  lambda m, x: np.where(np.random.default_rng(0).random((3, 4)) < 0.25, 0.0,
                                        x / 0.75),
                  description="train, one fixed mask")],
    module.Sequential: [
        LayerCase(lambda: module.Sequential(linear.Linear(3, 4), activation.Tanh(),
                                            linear.Linear(4, 2)), [Input((2, 3))], _mlp)],
}


def layer_classes(package: str = "layers") -> list:
    """Every public Module subclass defined in ``package``, found by walking the subclass
    tree (a class whose name starts with "_", such as ``_BatchNorm``, is a base, not a
    layer)."""
    found, todo = set(), list(Module.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] == package and not cls.__name__.startswith("_"):
            found.add(cls)
    return sorted(found, key=lambda cls: (cls.__module__, cls.__name__))


def layers_without_cases() -> list:
    """Names of the layer classes that have no case here."""
    return sorted(cls.__name__ for cls in layer_classes() if not CASES.get(cls))
