"""Fixtures of the VLM reasoner tests (the tiny Qwen2.5-VL checkpoint, ``tiny_qwen_dir``, is in
tests/conftest.py: the pipeline tests use it too)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session")
def sample_pair(shared_data) -> tuple[np.ndarray, np.ndarray, str]:
    """The release's real TNLLT frame pair (640x360) and its description."""
    import json

    folder = shared_data / "reasoningtrack-release" / "sample0001"
    description = json.loads((folder / "data.json").read_text(encoding="utf-8"))["language_description"]
    frames = [np.asarray(Image.open(folder / name).convert("RGB")) for name in ("img1.jpg", "img2.jpg")]
    return frames[0], frames[1], description
