"""Shared fixtures.  ``backend``: run a test once on each backend (reference and fast);
the op, kernel and gradcheck test modules use it for all their tests."""
import pytest

import tinygrad_cs
from tinygrad_cs import backends


@pytest.fixture(params=backends.BACKENDS)
def backend(request):
    before = backends.get_backend()
    tinygrad_cs.set_backend(request.param)
    yield request.param
    tinygrad_cs.set_backend(before)
