"""GAN networks, losses, the gradient penalty (double backprop), training and resume."""
import numpy as np
import pytest

import layers as nn
from layers import init
from models import gan
from models.gan_training import GANTrainer
from tinygrad_cs import Tensor, gradcheck

rng = np.random.default_rng(0)


def linear_count(i, o):
    return i * o + o


def test_shapes_and_parameter_counts():
    init.manual_seed(0)
    z = gan.sample_noise(5, 96, seed=1)
    assert z.shape == (5, 96) and z.dtype == np.float32 and -1 <= z.data.min() and z.data.max() <= 1
    np.testing.assert_array_equal(z.data, gan.sample_noise(5, 96, seed=1).data)
    G, D = gan.generator(), gan.discriminator()
    assert G(z).shape == (5, 784) and D(G(z)).shape == (5, 1)
    assert G.num_parameters() == linear_count(96, 1024) + linear_count(1024, 1024) + linear_count(1024, 784)
    assert D.num_parameters() == linear_count(784, 256) + linear_count(256, 256) + linear_count(256, 1)
    dG, dD = gan.dc_generator(), gan.dc_discriminator()
    assert dG(z).shape == (5, 784) and dD(dG(z)).shape == (5, 1)
    assert dD.num_parameters() == (32 * 25 + 32) + (64 * 32 * 25 + 64) + linear_count(1024, 1024) + linear_count(1024, 1)
    assert dG.num_parameters() == (linear_count(96, 1024) + 2 * 1024 + linear_count(1024, 6272) + 2 * 6272
                                   + (128 * 64 * 16 + 64) + 2 * 64 + (64 * 16 + 1))
    for bn in (False, True):
        c = gan.wgan_critic(bn)
        assert c(dG(z)).shape == (5, 1)
        assert c.num_parameters() == ((64 * 16 + 64) + (128 * 64 * 16 + 128) + linear_count(6272, 1024)
                                      + linear_count(1024, 1) + (2 * 128 if bn else 0))
    assert isinstance(gan.wgan_critic(True)[5], nn.BatchNorm2d)


def test_losses_match_numpy_formulas():
    lr, lf = rng.standard_normal((6, 1)), rng.standard_normal((6, 1))
    bce = lambda x, t: np.mean(-t * np.log(1 / (1 + np.exp(-x))) - (1 - t) * np.log(1 - 1 / (1 + np.exp(-x))))  # noqa
    assert gan.discriminator_loss(Tensor(lr), Tensor(lf)).item() == pytest.approx(bce(lr, 1) + bce(lf, 0))
    assert gan.generator_loss(Tensor(lf)).item() == pytest.approx(bce(lf, 1))
    assert gan.ls_discriminator_loss(Tensor(lr), Tensor(lf)).item() == pytest.approx(
        0.5 * np.mean((lr - 1) ** 2) + 0.5 * np.mean(lf ** 2))
    assert gan.ls_generator_loss(Tensor(lf)).item() == pytest.approx(0.5 * np.mean((lf - 1) ** 2))
    assert gan.wgan_generator_loss(Tensor(lf)).item() == pytest.approx(-lf.mean())


def tiny_critic():
    init.manual_seed(2)
    return nn.Sequential(nn.Linear(4, 5), nn.LeakyReLU(0.2), nn.Linear(5, 1)).to(np.float64)


def test_gradient_penalty_value_and_gradcheck():
    critic = tiny_critic()
    real, fake = Tensor(rng.standard_normal((3, 4))), Tensor(rng.standard_normal((3, 4)))
    eps = rng.uniform(size=(3, 1))
    # direct formula: for this critic, d score / d x = w1^T diag(slope) w2
    w1, b1 = critic[0].weight.data, critic[0].bias.data
    w2 = critic[2].weight.data
    x_hat = eps * real.data + (1 - eps) * fake.data
    pre = x_hat @ w1.T + b1
    slope = np.where(pre > 0, 1.0, 0.2)
    grads = (slope * w2[0]) @ w1
    expected = np.mean((np.linalg.norm(grads, axis=1) - 1) ** 2)
    assert gan.gradient_penalty(critic, real, fake, eps).item() == pytest.approx(expected)
    # the penalty as a function of the critic's weights, checked by finite differences
    def penalty(w1, b1, w2, b2):
        return gan.gradient_penalty(lambda x: (x @ w1.T + b1).leaky_relu(0.2) @ w2.T + b2,
                                    real, fake, eps)

    ws = [Tensor(p.data.copy(), requires_grad=True) for p in critic.parameters()]
    # the biases move no slope (leaky ReLU is piecewise linear), so the penalty ignores them
    assert gradcheck(penalty, ws, allow_unused=[False, True, False, True])


def test_gradient_penalty_reaches_the_critic_weights_through_conv_layers():
    init.manual_seed(3)
    critic = gan.wgan_critic(batchnorm=True)
    real, fake = Tensor(rng.uniform(-1, 1, (4, 784)).astype(np.float32)), Tensor(rng.uniform(-1, 1, (4, 784)).astype(np.float32))
    gp = gan.gradient_penalty(critic, real, fake, rng.uniform(size=(4, 1)).astype(np.float32))
    gp.backward()
    # every weight gets a gradient; biases do not all: with piecewise-linear activations the
    # input gradient does not depend on a bias (almost everywhere), so theirs is exactly zero
    for name, p in critic.named_parameters():
        if name.endswith("weight"):
            assert p.grad is not None and np.abs(p.grad.data).max() > 0, name


def test_training_steps_lower_d_loss_on_a_tiny_batch():
    x = rng.uniform(-1, 1, (32, 784)).astype(np.float32)
    for variant in ("vanilla", "lsgan"):
        tr = GANTrainer(variant, x, batch_size=32, seed=0)
        losses = []
        for _ in range(6):
            # only discriminator steps, so D's loss has a fixed target
            real = tr.real_batch(0)
            fake = tr.G(tr.noise(1, 0, 0)).detach()
            loss = tr.d_loss(real, fake, 0, 0)
            tr.opt_D.zero_grad()
            loss.backward()
            tr.opt_D.step()
            losses.append(loss.item())
        assert losses[-1] < losses[0], variant


@pytest.mark.parametrize("variant, batchnorm", [("vanilla", False), ("lsgan", False),
                                               ("dcgan", False), ("wgan-gp", False),
                                               ("wgan-gp", True)])
def test_one_pass_over_real_and_fake_gives_the_two_pass_loss_and_gradients(variant, batchnorm):
    x = rng.uniform(-1, 1, (16, 784)).astype(np.float32)
    tr = GANTrainer(variant, x, batch_size=8, seed=3, critic_batchnorm=batchnorm)
    assert tr.one_pass == (not batchnorm)  # batch norm would mix real and fake statistics
    real, fake = tr.real_batch(0), tr.G(tr.noise(1, 0, 0)).detach()
    results = []
    for one_pass in (False, True):
        tr.one_pass = one_pass
        tr.opt_D.zero_grad()
        loss = tr.d_loss(real, fake, 0, 0)
        loss.backward()
        results.append((loss.item(), [p.grad.data.copy() for p in tr.D.parameters()]))
    (loss2, grads2), (loss1, grads1) = results
    if batchnorm:  # why the trainer keeps two passes here: one pass changes the loss
        assert not np.isclose(loss1, loss2, rtol=1e-3)
        return
    assert np.isclose(loss1, loss2, rtol=1e-5, atol=1e-6)
    for g1, g2 in zip(grads1, grads2):
        np.testing.assert_allclose(g1, g2, rtol=1e-4, atol=1e-5 * np.abs(g2).max())


@pytest.mark.parametrize("variant", ["vanilla", "dcgan", "wgan-gp"])
def test_resume_is_bit_for_bit(tmp_path, variant):
    x = rng.uniform(-1, 1, (24, 784)).astype(np.float32)
    straight = GANTrainer(variant, x, batch_size=8, seed=5)
    for _ in range(4):
        straight.step()
    first = GANTrainer(variant, x, batch_size=8, seed=5)
    for _ in range(2):
        first.step()
    first.save(tmp_path / "ckpt.npz")
    resumed = GANTrainer(variant, x, batch_size=8, seed=5)
    resumed.load(tmp_path / "ckpt.npz")
    for _ in range(2):
        resumed.step()
    assert resumed.history == straight.history
    for (k, a), (_, b) in zip(straight.G.state_dict().items(), resumed.G.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    for (k, a), (_, b) in zip(straight.D.state_dict().items(), resumed.D.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    np.testing.assert_array_equal(straight.samples(), resumed.samples())


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"expected images as float32 \(N, 784\)"):
        GANTrainer("vanilla", np.zeros((200, 28, 28), np.float32))
    with pytest.raises(ValueError, match="unknown variant"):
        GANTrainer("bigan", np.zeros((200, 784), np.float32))
    with pytest.raises(ValueError, match="Linear: expected input with last dimension 784"):
        gan.discriminator()(Tensor(np.zeros((2, 28), np.float32)))
    tr = GANTrainer("vanilla", np.zeros((16, 784), np.float32), batch_size=8, seed=1)
    other = GANTrainer("lsgan", np.zeros((16, 784), np.float32), batch_size=8, seed=1)
    with pytest.raises(ValueError, match="checkpoint is for variant lsgan"):
        tr.load_state_dict(other.state_dict())
