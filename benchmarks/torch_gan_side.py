"""PyTorch CPU time of one GAN iteration (one D step + one G step, batch 128) for each
variant, with the same networks as models/gan.py.  Run by bench_gan.py; prints JSON."""
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import timeit  # noqa: E402

torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
F = torch.nn.functional
B, Z = 128, 96


def mlp_G():
    return nn.Sequential(nn.Linear(Z, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 784), nn.Tanh())


def mlp_D():
    return nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.01), nn.Linear(256, 256), nn.LeakyReLU(0.01), nn.Linear(256, 1))


def dc_G():
    return nn.Sequential(nn.Linear(Z, 1024), nn.ReLU(), nn.BatchNorm1d(1024), nn.Linear(1024, 6272), nn.ReLU(),
                         nn.BatchNorm1d(6272), nn.Unflatten(1, (128, 7, 7)), nn.ConvTranspose2d(128, 64, 4, 2, 1),
                         nn.ReLU(), nn.BatchNorm2d(64), nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(), nn.Flatten())


def dc_D():
    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 32, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 5), nn.LeakyReLU(0.01), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(1024, 1024), nn.LeakyReLU(0.01), nn.Linear(1024, 1))


def critic():
    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.01),
                         nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.01), nn.Flatten(),
                         nn.Linear(6272, 1024), nn.LeakyReLU(0.01), nn.Linear(1024, 1))


def bce(x, t):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, t))


def iteration_fn(G, D, kind, lr, betas):
    oG, oD = torch.optim.Adam(G.parameters(), lr, betas), torch.optim.Adam(D.parameters(), lr, betas)
    real = torch.rand(B, 784) * 2 - 1

    def it():
        oD.zero_grad()
        fake = G(torch.rand(B, Z) * 2 - 1).detach()
        sr, sf = D(torch.cat([real, fake])).split(B)  # as our trainer does: one pass (no batch norm in D)
        if kind == "bce":
            ld = bce(sr, 1) + bce(sf, 0)
        elif kind == "ls":
            ld = 0.5 * ((sr - 1) ** 2).mean() + 0.5 * (sf ** 2).mean()
        else:
            eps = torch.rand(B, 1)
            xh = (eps * real + (1 - eps) * fake).requires_grad_()
            g, = torch.autograd.grad(D(xh).sum(), xh, create_graph=True)
            ld = sf.mean() - sr.mean() + 10 * ((g.norm(dim=1) - 1) ** 2).mean()
        ld.backward()
        oD.step()
        oG.zero_grad()
        D.requires_grad_(False)  # as our trainer does: no gradient for D's weights here
        s = D(G(torch.rand(B, Z) * 2 - 1))
        lg = bce(s, 1) if kind == "bce" else (0.5 * ((s - 1) ** 2).mean() if kind == "ls" else -s.mean())
        lg.backward()
        D.requires_grad_(True)
        oG.step()
    return it


cases = {"vanilla": (mlp_G, mlp_D, "bce", 1e-3, (0.5, 0.999)), "lsgan": (mlp_G, mlp_D, "ls", 1e-3, (0.5, 0.999)),
         "dcgan": (dc_G, dc_D, "bce", 1e-3, (0.5, 0.999)), "wgan-gp": (dc_G, critic, "wgan", 1e-4, (0.0, 0.9))}
print(json.dumps({name: timeit(iteration_fn(g(), d(), k, lr, b), repeat=5)
                  for name, (g, d, k, lr, b) in cases.items()}))
