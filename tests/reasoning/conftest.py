"""Fixtures of the VLM reasoner tests: one tiny offline Qwen2.5-VL checkpoint per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory) -> Path:
    """Built through the real CLI command (`reasoningtrack dev tiny-vlm DIR`), once per session."""
    from reasoningtrack.cli import app

    out = tmp_path_factory.mktemp("tiny-qwen") / "model"
    result = CliRunner().invoke(app, ["dev", "tiny-vlm", str(out), "--seed", "0"])
    assert result.exit_code == 0, result.output
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    return out


@pytest.fixture(scope="session")
def sample_pair(shared_data) -> tuple[np.ndarray, np.ndarray, str]:
    """The release's real TNLLT frame pair (640x360) and its description."""
    import json

    folder = shared_data / "reasoningtrack-release" / "sample0001"
    description = json.loads((folder / "data.json").read_text(encoding="utf-8"))["language_description"]
    frames = [np.asarray(Image.open(folder / name).convert("RGB")) for name in ("img1.jpg", "img2.jpg")]
    return frames[0], frames[1], description
