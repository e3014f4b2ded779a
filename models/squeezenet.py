"""SqueezeNet 1.1 (Iandola et al., 2016), exactly as torchvision defines it.

features (13 modules, indices as in torchvision's state dict):
  0 conv 3->64 3x3 stride 2, 1 ReLU, 2 maxpool 3/2 ceil,
  3 Fire(64,16,64,64), 4 Fire(128,16,64,64), 5 maxpool,
  6 Fire(128,32,128,128), 7 Fire(256,32,128,128), 8 maxpool,
  9 Fire(256,48,192,192), 10 Fire(384,48,192,192), 11 Fire(384,64,256,256), 12 Fire(512,64,256,256)
classifier: Dropout, conv 512->1000 1x1, ReLU, global average pool  ->  (N, 1000) logits.

A Fire module squeezes the channels with a 1x1 conv, then expands with a 1x1 and a 3x3
conv side by side and concatenates the two on the channel axis.
"""
from __future__ import annotations

import numpy as np

import layers as nn
import tinygrad_cs.functional as F
from tinygrad_cs import Tensor, no_grad
from tinygrad_cs.io import load_npz, save_npz_atomic

from .data import cache_dir, find_file, locate
from .pth import load_pth_state_dict

# torchvision's checkpoint (URL and hash in models.data.SOURCES), and the same weights
# converted once to .npz in the cache, so that later runs read no pickle
TORCHVISION_PTH = "squeezenet/squeezenet1_1-b8a52dc0.pth"
TORCHVISION_NPZ = "squeezenet/squeezenet1_1-b8a52dc0.npz"

WEIGHTS = {  # name -> (file in a data directory, what it holds); hashes in models.data.SOURCES
    "torchvision": ("squeezenet/squeezenet1_1.npz",
                    "torchvision's exact feature weights (no classifier)"),
    "onnxzoo": ("squeezenet/squeezenet1_1_onnxzoo.npz",
                "a complete SqueezeNet 1.1 from the ONNX model zoo (another training run)"),
}


class Fire(nn.Module):
    """x (N, C, H, W) -> (N, e1 + e3, H, W)."""

    def __init__(self, in_channels, squeeze, expand1x1, expand3x3):
        super().__init__()
        self.squeeze = nn.Conv2d(in_channels, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, 3, padding=1)

    def forward(self, x):
        s = self.squeeze(x).relu()
        return F.cat([self.expand1x1(s).relu(), self.expand3x3(s).relu()], axis=1)

    def extra_repr(self):
        return (f"{self.squeeze.in_channels}, squeeze={self.squeeze.out_channels}, "
                f"expand={self.expand1x1.out_channels}+{self.expand3x3.out_channels}")


class SqueezeNet(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        pool = lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True)  # noqa: E731
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 3, stride=2), nn.ReLU(), pool(),
            Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), pool(),
            Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), pool(),
            Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256), Fire(512, 64, 256, 256))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(512, num_classes, 1),
                                        nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.has_classifier = True

    def forward(self, x):
        """x: (N, 3, H, W) normalised images -> (N, num_classes) logits."""
        _check_images(x)
        if not self.has_classifier:
            raise RuntimeError(
                "SqueezeNet: this model was loaded from features-only weights (torchvision's "
                "feature weights have no classifier). Load complete weights, e.g. "
                "load_squeezenet('torchvision-pth') or load_squeezenet('onnxzoo'), to classify.")
        return self.classifier(self.features(x)).flatten(1)

    def extract_features(self, x, upto=None):
        """The 13 outputs of ``features``, in order (index 0..12), for x (N, 3, H, W);
        with ``upto``, only outputs 0..upto (style transfer needs no deeper layer)."""
        _check_images(x)
        feats = []
        for layer in self.features[:None if upto is None else upto + 1]:
            x = layer(x)
            feats.append(x)
        return feats

    def export_npz(self, path):
        """Save the weights as .npz (atomically), without the untrained classifier of a
        features-only model."""
        sd = self.state_dict()
        if not self.has_classifier:
            sd = {k: v for k, v in sd.items() if k.startswith("features.")}
        save_npz_atomic(path, sd)


def _check_images(x):
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"SqueezeNet: expected normalised images of shape (N, 3, H, W), got "
                         f"{x.shape}. Use models.images.preprocess to prepare an image.")
    if x.shape[2] < 15 or x.shape[3] < 15:
        raise ValueError(f"SqueezeNet: images of {x.shape[2]}x{x.shape[3]} pixels are too small "
                         "for three stride-2 poolings; use at least 15x15.")


def load_squeezenet(weights="torchvision", data_dir=None, frozen=True) -> SqueezeNet:
    """A SqueezeNet 1.1 with pretrained weights, in eval mode.

    weights:
      "torchvision"      torchvision's weights: the data directory's features-only
                         squeezenet/squeezenet1_1.npz if there is one, else the complete
                         checkpoint below (what style transfer needs either way);
      "torchvision-pth"  torchvision's complete checkpoint (with the classifier), downloaded
                         once with a hash check and converted to .npz in the cache;
      "onnxzoo"          a complete model from the ONNX model zoo (data directory only);
      or a path to a ``.npz``/``.pth`` state dict (complete or features-only).
    frozen: no gradients for the weights (what feature extraction and style transfer want).
    """
    model = SqueezeNet()
    if weights == "torchvision" and locate([WEIGHTS["torchvision"][0]], data_dir) is None:
        weights = "torchvision-pth"
    if weights in WEIGHTS:
        path = find_file(WEIGHTS[weights][0], data_dir)
    elif weights == "torchvision-pth":
        path = torchvision_checkpoint(data_dir)
    elif str(weights).endswith((".npz", ".pth", ".pt")):
        path = weights
    else:
        raise ValueError(f"load_squeezenet: weights={weights!r} is neither a known name "
                         f"({', '.join([*WEIGHTS, 'torchvision-pth'])}) nor a .npz/.pth/.pt "
                         "file path.")
    load_weights(model, _load_file(path))
    model.eval()
    if frozen:
        model.requires_grad_(False)
    return model


def classifier_weights(data_dir=None) -> str:
    """The weights to classify with: the data directory's complete ONNX-zoo model if it has
    one (it needs no download), else torchvision's checkpoint."""
    return "onnxzoo" if locate([WEIGHTS["onnxzoo"][0]], data_dir) else "torchvision-pth"


def torchvision_checkpoint(data_dir=None):
    """The path of torchvision's complete weights as .npz.  The first call downloads the
    .pth (see models.data.find_file), reads it without torch, checks every key and shape,
    and saves the arrays as .npz in the cache (atomically); later calls just return it."""
    npz = locate([TORCHVISION_NPZ], data_dir)
    if npz is not None:
        return npz
    state = load_pth_state_dict(find_file(TORCHVISION_PTH, data_dir))
    load_weights(SqueezeNet(), state)  # a wrong file fails here, before anything is cached
    npz = cache_dir() / TORCHVISION_NPZ
    save_npz_atomic(npz, state)
    return npz


def _load_file(path):
    path = str(path)
    if path.endswith(".pth") or path.endswith(".pt"):
        return load_pth_state_dict(path)
    return load_npz(path, what="SqueezeNet weights file")


def load_weights(model: SqueezeNet, state: dict):
    """Load a complete or features-only state dict, checking every key and shape."""
    has_classifier = any(k.startswith("classifier.") for k in state)
    if has_classifier:
        model.load_state_dict(state)
    else:
        own = {k: v for k, v in model.state_dict().items() if k.startswith("features.")}
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if missing or unexpected:
            raise ValueError("SqueezeNet weights: " + "; ".join(
                ([f"missing keys: {', '.join(missing)}"] if missing else [])
                + ([f"unexpected keys: {', '.join(unexpected)}"] if unexpected else []))
                + ". Expected torchvision's squeezenet1_1 key names.")
        model.load_state_dict(state, strict=False)
    model.has_classifier = has_classifier
    return model


@no_grad()
def classify(model, images, top=5):
    """images (N, 3, H, W) normalised -> list of [(class index, probability)] per image."""
    probs = F.softmax(model(images if isinstance(images, Tensor) else Tensor(images)), axis=1).data
    order = np.argsort(-probs, axis=1)[:, :top]
    return [[(int(k), float(p[k])) for k in row] for p, row in zip(probs, order)]
