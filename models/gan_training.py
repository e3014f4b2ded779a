"""One training loop for every GAN variant, with exact resume.

Per iteration: ``n_critic`` discriminator steps (each on a new real batch and a fresh fake
batch), then one generator step.  Every random draw (the shuffling of each epoch, the noise
of each step, the interpolation weights of the gradient penalty) comes from a generator
seeded with ``(seed, purpose, iteration, ...)``.  So the state to save is just the weights,
the optimizer moments and the iteration counter, and a resumed run continues bit for bit
as if it had never stopped.
"""
from __future__ import annotations

import numpy as np

from layers import init
from layers.norm import BatchNorm1d, BatchNorm2d
from tinygrad_cs import Tensor, no_grad
from tinygrad_cs.functional import concatenate
from tinygrad_cs.io import load_npz, save_npz_atomic
from tinygrad_cs.optim import Adam

from . import gan
from .mnist import to_uint8

# purposes, mixed into every seed so that the streams never coincide
_SHUFFLE, _NOISE_D, _NOISE_G, _EPS, _FIXED = range(5)

VARIANTS = {
    "vanilla": dict(G=gan.generator, D=gan.discriminator, loss="bce", lr=1e-3, betas=(0.5, 0.999), n_critic=1),
    "lsgan": dict(G=gan.generator, D=gan.discriminator, loss="ls", lr=1e-3, betas=(0.5, 0.999), n_critic=1),
    "dcgan": dict(G=gan.dc_generator, D=gan.dc_discriminator, loss="bce", lr=1e-3, betas=(0.5, 0.999), n_critic=1),
    # Algorithm 1 of Gulrajani et al. (2017): 5 critic steps, Adam(1e-4, (0, 0.9)), lambda 10
    "wgan-gp": dict(G=gan.dc_generator, D=gan.wgan_critic, loss="wgan", lr=1e-4, betas=(0.0, 0.9), n_critic=5),
}


class GANTrainer:
    def __init__(self, variant, images, batch_size=128, noise_dim=gan.NOISE_DIM, seed=0,
                 lr=None, betas=None, n_critic=None, lam=10.0, critic_batchnorm=False):
        if variant not in VARIANTS:
            raise ValueError(f"GANTrainer: unknown variant {variant!r}; choose one of "
                             f"{', '.join(VARIANTS)}.")
        images = np.asarray(images)
        if images.ndim != 2 or images.shape[1] != 784 or images.dtype != np.float32:
            raise ValueError(f"GANTrainer: expected images as float32 (N, 784) in [-1, 1], got "
                             f"shape {images.shape} dtype {images.dtype}; use "
                             "models.mnist.to_float(x).reshape(-1, 784).")
        if len(images) < batch_size:
            raise ValueError(f"GANTrainer: {len(images)} images are fewer than one batch of "
                             f"{batch_size}.")
        spec = VARIANTS[variant]
        self.variant, self.loss_kind = variant, spec["loss"]
        self.images, self.batch_size, self.noise_dim, self.seed = images, batch_size, noise_dim, seed
        self.n_critic = n_critic or spec["n_critic"]
        self.lam = lam
        init.manual_seed(seed)
        self.G = spec["G"](noise_dim)
        self.D = spec["D"](critic_batchnorm) if variant == "wgan-gp" else spec["D"]()
        # Without batch norm, D scores each image on its own, so the real and the fake batch
        # can go through D as one batch (see scores); batch norm would mix their statistics.
        self.one_pass = not any(isinstance(m, (BatchNorm1d, BatchNorm2d)) for m in self.D.modules())
        self.opt_G = Adam(self.G.parameters(), lr=lr or spec["lr"], betas=betas or spec["betas"])
        self.opt_D = Adam(self.D.parameters(), lr=lr or spec["lr"], betas=betas or spec["betas"])
        self.iteration = 0
        self.history = {"d_loss": [], "g_loss": []}
        self.batches_per_epoch = len(images) // batch_size  # the last partial batch is dropped
        self.fixed_noise = gan.sample_noise(64, noise_dim, seed=[seed, _FIXED])
        self._perm_epoch, self._perm = None, None

    # -- data and noise ----------------------------------------------------------------------
    def real_batch(self, k):
        """The k-th real batch since the start of training (epoch k // batches_per_epoch)."""
        epoch, j = divmod(k, self.batches_per_epoch)
        if self._perm_epoch != epoch:
            self._perm = np.random.default_rng([self.seed, _SHUFFLE, epoch]).permutation(len(self.images))
            self._perm_epoch = epoch
        return Tensor(self.images[self._perm[j * self.batch_size:(j + 1) * self.batch_size]])

    def noise(self, purpose, *key):
        return gan.sample_noise(self.batch_size, self.noise_dim, seed=[self.seed, purpose, *key])

    @property
    def epoch(self) -> float:
        return self.iteration * self.n_critic / self.batches_per_epoch

    # -- one iteration ---------------------------------------------------------------------------
    def scores(self, real, fake):
        """D's scores of the real and of the fake batch.  With ``one_pass``, one forward
        pass over both batches stacked: the same numbers as two passes (up to rounding), in
        bigger matrix products and half the op calls; DCGAN steps ~2% faster."""
        if not self.one_pass:
            return self.D(real), self.D(fake)
        scores = self.D(concatenate([real, fake]))
        return scores[:len(real)], scores[len(real):]

    def d_loss(self, real, fake, t, k):
        scores_real, scores_fake = self.scores(real, fake)
        if self.loss_kind == "bce":
            return gan.discriminator_loss(scores_real, scores_fake)
        if self.loss_kind == "ls":
            return gan.ls_discriminator_loss(scores_real, scores_fake)
        eps = np.random.default_rng([self.seed, _EPS, t, k]).uniform(size=(self.batch_size, 1))
        return gan.wgan_critic_loss(self.D, real, fake, scores_real, scores_fake,
                                    eps.astype(np.float32), self.lam)

    def g_loss(self, scores_fake):
        if self.loss_kind == "bce":
            return gan.generator_loss(scores_fake)
        if self.loss_kind == "ls":
            return gan.ls_generator_loss(scores_fake)
        return gan.wgan_generator_loss(scores_fake)

    def step(self):
        t = self.iteration
        self.G.train()
        self.D.train()
        for k in range(self.n_critic):
            real = self.real_batch(t * self.n_critic + k)
            with no_grad():  # the fake batch is a constant for the discriminator step
                fake = self.G(self.noise(_NOISE_D, t, k))
            loss_d = self.d_loss(real, fake, t, k)
            self.opt_D.zero_grad()
            loss_d.backward()
            self.opt_D.step()
        self.D.requires_grad_(False)  # the generator step needs no gradient for D's weights
        loss_g = self.g_loss(self.D(self.G(self.noise(_NOISE_G, t))))
        self.opt_G.zero_grad()
        loss_g.backward()
        self.opt_G.step()
        self.D.requires_grad_(True)
        self.iteration += 1
        self.history["d_loss"].append(loss_d.item())
        self.history["g_loss"].append(loss_g.item())
        return loss_d.item(), loss_g.item()

    @no_grad()
    def samples(self, noise=None) -> np.ndarray:
        """Generated digits (N, 28, 28) uint8 from ``noise`` (default: the fixed 64), with the
        generator in eval mode (batch norm uses its running statistics)."""
        self.G.eval()
        x = self.G(self.fixed_noise if noise is None else noise).data
        self.G.train()
        return to_uint8(x)

    # -- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict:
        sd = {"iteration": np.asarray(self.iteration), "variant": np.asarray(self.variant),
              "seed": np.asarray(self.seed), "batch_size": np.asarray(self.batch_size),
              "d_loss": np.asarray(self.history["d_loss"], np.float64),
              "g_loss": np.asarray(self.history["g_loss"], np.float64)}
        for prefix, obj in (("G.", self.G), ("D.", self.D), ("opt_G.", self.opt_G), ("opt_D.", self.opt_D)):
            sd.update({prefix + k: v for k, v in obj.state_dict().items()})
        return sd

    def load_state_dict(self, sd, source="the checkpoint"):
        """Restore a ``state_dict()``; ``source`` names where it came from (a file) in
        messages.  Every field is checked (``check_checkpoint``) before anything changes."""
        check_checkpoint(sd, source)
        if str(sd["variant"]) != self.variant or int(sd["seed"]) != self.seed:
            raise ValueError(f"GANTrainer: {source} is for variant {sd['variant']} seed "
                             f"{sd['seed']}, not {self.variant} seed {self.seed}.")
        # (older checkpoints do not record the batch size)
        if "batch_size" in sd and int(sd["batch_size"]) != self.batch_size:
            raise ValueError(f"GANTrainer: {source} was trained with batch size "
                             f"{int(sd['batch_size'])}, not {self.batch_size}; resuming with "
                             "another would change the data order.")
        part = lambda prefix: {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}  # noqa: E731
        self.G.load_state_dict(part("G."))
        self.D.load_state_dict(part("D."))
        self.opt_G.load_state_dict(part("opt_G."))
        self.opt_D.load_state_dict(part("opt_D."))
        self.iteration = int(sd["iteration"])
        self.history = {"d_loss": list(sd["d_loss"]), "g_loss": list(sd["g_loss"])}

    def save(self, path):
        save_npz_atomic(path, self.state_dict())

    def load(self, path):
        self.load_state_dict(load_npz(path, what="GAN checkpoint"),
                             source=f"the checkpoint {str(path)!r}")


def check_checkpoint(sd, source="the checkpoint"):
    """Raise a ValueError naming ``source`` and the key if a GAN checkpoint's bookkeeping
    fields are missing or impossible (a tampered or foreign file): ``iteration`` and
    ``seed`` must be integers >= 0, ``batch_size`` (if present) >= 1, ``variant`` a known
    name, and ``d_loss``/``g_loss`` one loss per iteration done.  Needs no trainer, so a
    program can check a checkpoint before it loads any data."""
    missing = [k for k in ("variant", "seed", "iteration", "d_loss", "g_loss") if k not in sd]
    if missing:
        raise ValueError(f"GANTrainer: {source} is not a GAN checkpoint (no {', '.join(missing)} "
                         "in it); resume from the checkpoint.npz that demos/gan.py wrote.")

    def bad(key, expected):
        value = np.asarray(sd[key])
        shown = repr(value.item()) if value.ndim == 0 else f"an array of shape {value.shape}"
        return ValueError(f"GANTrainer: {source} is damaged or was edited: {key!r} is {shown} "
                          f"(dtype {value.dtype}), expected {expected}. Resume from an intact "
                          "checkpoint, or start the run again.")

    for key, low in (("iteration", 0), ("seed", 0), ("batch_size", 1)):
        if key not in sd:
            continue  # (older checkpoints do not record the batch size)
        value = np.asarray(sd[key])
        if value.ndim != 0 or not np.issubdtype(value.dtype, np.integer) or value < low:
            raise bad(key, f"a single integer >= {low}")
    variant = np.asarray(sd["variant"])
    if variant.ndim != 0 or variant.dtype.kind != "U" or str(variant) not in VARIANTS:
        raise bad("variant", f"one of {', '.join(VARIANTS)}")
    for key in ("d_loss", "g_loss"):  # the history holds one loss per iteration done
        losses = np.asarray(sd[key])
        if losses.ndim != 1 or losses.dtype.kind != "f" or len(losses) != int(sd["iteration"]):
            raise bad(key, f"{int(sd['iteration'])} losses (one per iteration) as floats")
