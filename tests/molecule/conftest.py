"""Fixtures shared by the molecule family's tests."""

import pytest
import torch


@pytest.fixture
def one_torch_thread():
    """Pin torch to one thread for the test (reproducible timings on a shared 2-core machine), then restore it."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
