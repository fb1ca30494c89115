"""Fixtures shared by the DUTrack tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def ref(shared_data):
    """The DUTrack reference fixture folder."""
    return shared_data / "dutrack-reference"


@pytest.fixture(scope="module")
def one_torch_thread():
    """On a shared 2-core machine one intra-op thread is several times faster for the tiny net;
    the previous setting is restored afterwards (the ``threads`` option changes it process-wide)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
