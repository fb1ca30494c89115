"""Fixtures of the pipeline tests (the fakes themselves are in pipeline_fakes.py)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline_fakes import SYNTHETIC_FRAMES, SYNTHETIC_SEQUENCES

from reasoningtrack.datasets.synthetic import WorldConfig, write_dataset


@pytest.fixture
def still_boxes():
    def make(count, box=(10.0, 10.0, 20.0, 20.0)):
        return np.tile(np.asarray(box, dtype=np.float64), (count, 1))

    return make


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory):
    """A small synthetic world (test split) made by the data engineer's generator."""
    root = tmp_path_factory.mktemp("synthetic")
    write_dataset(root, sequences=SYNTHETIC_SEQUENCES, seed=3, config=WorldConfig(frames=SYNTHETIC_FRAMES), splits=("test",))
    return root
