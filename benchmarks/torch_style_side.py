"""PyTorch CPU time per style-transfer iteration on the same network, images and losses.
Usage (run by bench_style_transfer.py): python torch_style_side.py WEIGHTS.npz INPUTS.npz"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
F = torch.nn.functional
weights = np.load(sys.argv[1])
inputs = np.load(sys.argv[2])


class Fire(nn.Module):
    def __init__(self, i, s, e1, e3):
        super().__init__()
        self.squeeze, self.expand1x1, self.expand3x3 = nn.Conv2d(i, s, 1), nn.Conv2d(s, e1, 1), nn.Conv2d(s, e3, 3, padding=1)

    def forward(self, x):
        s = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.expand1x1(s)), F.relu(self.expand3x3(s))], 1)


pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
features = nn.Sequential(nn.Conv2d(3, 64, 3, 2), nn.ReLU(), pool(), Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), pool(),
                         Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), pool(), Fire(256, 48, 192, 192),
                         Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256))
features.load_state_dict({k[len("features."):]: torch.from_numpy(v) for k, v in weights.items()})
for p in features.parameters():
    p.requires_grad_(False)


def feats(x, upto=7):
    out = []
    for layer in features[:upto + 1]:
        x = layer(x)
        out.append(x)
    return out


def gram(f):
    n, c, h, w = f.shape
    f = f.view(n, c, h * w)
    return f @ f.transpose(1, 2) / (h * w * c)


content, style = torch.from_numpy(inputs["content"]), torch.from_numpy(inputs["style"])
layers, sw, cw, tw = [1, 4, 6, 7], [300000, 1000, 15, 3], 6e-2, 2e-2
target_c = feats(content)[3].clone()
sf = feats(style)
targets = [gram(sf[i]) for i in layers]
img = content.clone().requires_grad_()
opt = torch.optim.Adam([img], lr=3.0)


def step():
    img.data.clamp_(-1.5, 1.5)
    opt.zero_grad()
    f = feats(img)
    loss = cw * ((f[3] - target_c) ** 2).sum()
    for i, t, w in zip(layers, targets, sw):
        loss = loss + w * ((gram(f[i]) - t) ** 2).sum()
    loss = loss + tw * (((img[:, :, 1:] - img[:, :, :-1]) ** 2).sum() + ((img[:, :, :, 1:] - img[:, :, :, :-1]) ** 2).sum())
    loss.backward()
    opt.step()


for _ in range(3):
    step()
n = int(os.environ.get("BENCH_ITERS", "30"))
t0 = time.perf_counter()
for _ in range(n):
    step()
print(json.dumps({"ms_per_iter": (time.perf_counter() - t0) / n * 1000}))
