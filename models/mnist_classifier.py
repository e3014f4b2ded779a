"""A small CNN for MNIST digits (over 99% test accuracy after 4 epochs).

conv 5x5 1->32, ReLU, maxpool 2  ->  conv 5x5 32->64, ReLU, maxpool 2  ->  flatten 64*7*7
->  Linear 3136->128, ReLU  ->  Dropout(0.3)  ->  Linear 128->10 (logits).

It is also the scorer for GAN samples: ``features`` gives the 128-d penultimate activations
(for a Fréchet distance), ``predict_proba`` the class probabilities (for the classifier score).
"""
import numpy as np

import layers as nn
import tinygrad_cs.functional as F
from tinygrad_cs import Tensor, no_grad
from tinygrad_cs.progress import progress

from .mnist import batches, to_float


class MNISTClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU())
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        """x: (N, 1, 28, 28) float32 in [0, 1]  ->  logits (N, 10)."""
        if x.ndim != 4 or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"MNISTClassifier: expected images of shape (N, 1, 28, 28), got "
                             f"{x.shape}.")
        return self.head(self.dropout(self.features(x)))


def _images(x_uint8_or_float):
    """uint8 (N, 28, 28) or float (N, 784)/(N, 1, 28, 28) in [0, 1] -> (N, 1, 28, 28) float32."""
    x = np.asarray(x_uint8_or_float)
    x = to_float(x, 0.0, 1.0) if x.dtype == np.uint8 else x.astype(np.float32)
    return x.reshape(-1, 1, 28, 28)


@no_grad()
def predict_proba(model, x, batch_size=500):
    model.eval()
    out = [F.softmax(model(Tensor(_images(x[i:i + batch_size]))), axis=1).data
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out)


@no_grad()
def features(model, x, batch_size=500):
    model.eval()
    return np.concatenate([model.features(Tensor(_images(x[i:i + batch_size]))).data
                           for i in range(0, len(x), batch_size)])


def accuracy(model, x, y, batch_size=500) -> float:
    return float((predict_proba(model, x, batch_size).argmax(1) == y).mean())


def train_epoch(model, optimizer, x, y, batch_size=128, seed=0, desc="train", quiet=False):
    """One pass over (x, y) in shuffled minibatches.  Returns the list of batch losses."""
    model.train()
    losses, correct, seen = [], 0, 0
    n_batches = (len(x) + batch_size - 1) // batch_size
    bar = progress(batches(x, y, batch_size, seed=seed), total=n_batches, desc=desc,
                   disable=quiet)
    for xb, yb in bar:
        logits = model(Tensor(_images(xb)))
        loss = F.cross_entropy(logits, yb.astype(np.int64))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        correct += int((logits.data.argmax(1) == yb).sum())
        seen += len(yb)
        bar.set(loss=float(np.mean(losses[-50:])), acc=correct / seen)
    return losses
