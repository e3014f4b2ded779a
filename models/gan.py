"""GANs on MNIST: the networks and losses of the CS231n assignment, plus WGAN-GP.

Images are flat (N, 784) float32 in [-1, 1] (the generators end in tanh); the convolutional
networks reshape to (N, 1, 28, 28) inside.  Discriminators return one score per image (N, 1).
"""
from __future__ import annotations

import numpy as np

import layers as nn
import tinygrad_cs.functional as F
from tinygrad_cs import Tensor, grad
from tinygrad_cs.random import get_rng

NOISE_DIM = 96


def sample_noise(batch_size, dim=NOISE_DIM, seed=None) -> Tensor:
    """(batch_size, dim) uniform in [-1, 1], float32.  ``seed`` may be an int or a tuple;
    without one the noise comes from the global generator (``tg.manual_seed``)."""
    rng = np.random.default_rng(seed) if seed is not None else get_rng()
    return Tensor(rng.uniform(-1, 1, (batch_size, dim)).astype(np.float32))


# -- networks ---------------------------------------------------------------------------------

def discriminator():
    """784 -> 256 -> 256 -> 1, LeakyReLU(0.01)."""
    return nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.01), nn.Linear(256, 256),
                         nn.LeakyReLU(0.01), nn.Linear(256, 1))


def generator(noise_dim=NOISE_DIM):
    """noise -> 1024 -> 1024 -> 784, ReLU, tanh output."""
    return nn.Sequential(nn.Linear(noise_dim, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                         nn.Linear(1024, 784), nn.Tanh())


def dc_discriminator():
    """(N, 784) -> 1x28x28 -> conv 32 5x5 -> 24x24 -> pool -> 12x12 -> conv 64 5x5 -> 8x8
    -> pool -> 4x4 -> Linear 1024 -> 1024 -> 1, LeakyReLU(0.01) after each layer but the last."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 32, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 64, 4 * 4 * 64), nn.LeakyReLU(0.01),
        nn.Linear(4 * 4 * 64, 1))


def dc_generator(noise_dim=NOISE_DIM):
    """The InfoGAN generator (Chen et al. 2016, appendix C.1): noise -> 1024 -> 7*7*128 ->
    (128, 7, 7) -> transposed conv to (64, 14, 14) -> transposed conv to (1, 28, 28) -> tanh."""
    return nn.Sequential(
        nn.Linear(noise_dim, 1024), nn.ReLU(), nn.BatchNorm1d(1024),
        nn.Linear(1024, 7 * 7 * 128), nn.ReLU(), nn.BatchNorm1d(7 * 7 * 128),
        nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.ReLU(), nn.BatchNorm2d(64),
        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh(),
        nn.Flatten())


def wgan_critic(batchnorm=False):
    """The InfoGAN discriminator up to its output, as a WGAN-GP critic: conv 64 4x4/2 (28 ->
    14), conv 128 4x4/2 (-> 7), [BatchNorm2d], Linear 6272 -> 1024 -> 1, LeakyReLU(0.01).

    ``batchnorm=False`` by default: Gulrajani et al. (2017) advise against batch norm in the
    critic, because the gradient penalty is defined per sample and batch norm couples the
    samples of a batch.  ``batchnorm=True`` gives the InfoGAN layer.
    """
    layers = [nn.Unflatten(1, (1, 28, 28)),
              nn.Conv2d(1, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.01),
              nn.Conv2d(64, 128, 4, stride=2, padding=1), nn.LeakyReLU(0.01)]
    if batchnorm:
        layers.append(nn.BatchNorm2d(128))
    layers += [nn.Flatten(), nn.Linear(7 * 7 * 128, 1024), nn.LeakyReLU(0.01), nn.Linear(1024, 1)]
    return nn.Sequential(*layers)


# -- losses -----------------------------------------------------------------------------------

def _ones_like(t):
    return Tensor(np.ones(t.shape, t.dtype))


def discriminator_loss(logits_real, logits_fake):
    """mean BCE(D(x), 1) + mean BCE(D(G(z)), 0), from logits (numerically stable)."""
    return (F.binary_cross_entropy_with_logits(logits_real, _ones_like(logits_real)) +
            F.binary_cross_entropy_with_logits(logits_fake, 0 * _ones_like(logits_fake)))


def generator_loss(logits_fake):
    """mean BCE(D(G(z)), 1): the non-saturating generator loss."""
    return F.binary_cross_entropy_with_logits(logits_fake, _ones_like(logits_fake))


def ls_discriminator_loss(scores_real, scores_fake):
    """Least squares GAN (Mao et al. 2017): 1/2 mean((D(x) - 1)^2) + 1/2 mean(D(G(z))^2)."""
    return 0.5 * ((scores_real - 1) ** 2).mean() + 0.5 * (scores_fake ** 2).mean()


def ls_generator_loss(scores_fake):
    """1/2 mean((D(G(z)) - 1)^2)."""
    return 0.5 * ((scores_fake - 1) ** 2).mean()


def gradient_penalty(critic, real, fake, eps):
    """mean over the batch of (||dD(x_hat)/dx_hat||_2 - 1)^2 with x_hat = eps*real + (1-eps)*fake.

    eps: (N, 1) in [0, 1].  The gradient is taken with create_graph=True, so the penalty can
    itself be backpropagated into the critic's weights (double backprop).
    """
    x_hat = Tensor(eps * real.data + (1 - eps) * fake.data, requires_grad=True)
    scores = critic(x_hat)
    (g,) = grad(scores.sum(), x_hat, create_graph=True)
    norms = (g * g).sum(axis=1).sqrt()
    return ((norms - 1) ** 2).mean()


def wgan_critic_loss(critic, real, fake, scores_real, scores_fake, eps, lam=10.0):
    """E[D(G(z))] - E[D(x)] + lambda * gradient penalty (Gulrajani et al. 2017)."""
    return scores_fake.mean() - scores_real.mean() + lam * gradient_penalty(critic, real, fake, eps)


def wgan_generator_loss(scores_fake):
    """-E[D(G(z))]."""
    return -scores_fake.mean()
