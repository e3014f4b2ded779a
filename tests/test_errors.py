"""Bad input gives a clear error naming the op and the shapes."""
import numpy as np
import pytest

import tinygrad_cs.functional as F
from tinygrad_cs import Tensor


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"mul: shapes \(3,\) and \(2,\)"):
        Tensor(np.ones(3)) * Tensor(np.ones(2))


def test_matmul_error_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match="matmul"):
        Tensor(np.ones(3)) @ Tensor(2.0)


def test_reshape_and_axis_errors():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        Tensor(np.ones((2, 3))).reshape(4, 2)
    with pytest.raises(ValueError, match="sum: axis 2 is out of range"):
        Tensor(np.ones((2, 3))).sum(axis=2)
    with pytest.raises(ValueError, match="squeeze: axis 2 is out of range"):
        Tensor(np.ones((2, 3))).squeeze(2)


def test_loss_errors():
    with pytest.raises(ValueError, match="cross_entropy"):
        F.cross_entropy(Tensor(np.ones((2, 3))), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 2\]"):
        F.cross_entropy(Tensor(np.ones((2, 3))), np.array([0, 3]))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits"):
        F.binary_cross_entropy_with_logits(Tensor(np.ones((2, 1))), Tensor(np.ones(2)))
    with pytest.raises(ValueError, match="mse_loss"):
        F.mse_loss(Tensor(np.ones(3)), Tensor(np.ones(2)))


def test_concat_and_stack_errors():
    with pytest.raises(ValueError, match="concatenate"):
        F.cat([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 3)))], axis=1)
    with pytest.raises(ValueError, match="stack"):
        F.stack([Tensor(np.ones(2)), Tensor(np.ones(3))])
