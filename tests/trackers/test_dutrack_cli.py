"""`reasoningtrack track --tracker dutrack` reproduces the official traces end to end."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from reasoningtrack.cli import app

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("seq", ["Crossing", "synthetic"])
def test_track_command_reproduces_the_official_trace(shared_data, tmp_path, seq):
    ref = shared_data / "dutrack-reference"
    frames = shared_data / "sequences" / "Crossing" / "img" if seq == "Crossing" else ref / "synthetic_seq"
    result = CliRunner().invoke(app, [
        "track", str(frames), "--tracker", "dutrack",
        "--tracker-config", str(ref / "tiny_config.json"), "--checkpoint", str(ref / "tiny_state_dict.pt"),
        "--tracker-opt", f"vocab={ref / 'vocab-bert-base-uncased.txt'}", "--tracker-opt", "threads=1",
        "--text", "a red car driving on the road", "--reasoner", "static", "--output", str(tmp_path), "--no-video",
    ])
    assert result.exit_code == 0, result.output
    boxes = np.loadtxt(tmp_path / "boxes.txt", delimiter=",")
    expected = np.loadtxt(ref / f"tiny_trace_{seq}.txt", delimiter=",")
    assert boxes.shape == expected.shape
    np.testing.assert_allclose(boxes, expected, atol=1e-3, rtol=0)  # BOX_ATOL_PX, derived in test_dutrack_tracker.py


def test_track_command_reports_a_bad_checkpoint(shared_data, tmp_path):
    ref = shared_data / "dutrack-reference"
    broken = tmp_path / "broken.pth.tar"
    broken.write_bytes((ref / "tiny_state_dict.pt").read_bytes()[:1000])
    result = CliRunner().invoke(app, [
        "track", str(ref / "synthetic_seq"), "--tracker", "dutrack", "--tracker-config", str(ref / "tiny_config.json"),
        "--checkpoint", str(broken), "--tracker-opt", f"vocab={ref / 'vocab-bert-base-uncased.txt'}",
        "--text", "x", "--reasoner", "static", "--output", str(tmp_path / "out"), "--no-video",
    ])
    assert result.exit_code != 0
    assert "cannot read DUTrack checkpoint" in result.output and "broken.pth.tar" in result.output


def test_the_issue_command_finds_the_vocabulary_beside_the_checkpoint(shared_data, tmp_path):
    """The exact form users type (no vocab option): the vocabulary beside the checkpoint is used,
    offline, in a real process."""
    import os
    import subprocess
    import sys

    ref = shared_data / "dutrack-reference"
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "reasoningtrack.cli", "track", str(shared_data / "sequences" / "Crossing" / "img"),
           "--tracker", "dutrack", "--tracker-config", str(ref / "tiny_config.json"),
           "--checkpoint", str(ref / "tiny_state_dict.pt"), "--text", "a red car driving on the road",
           "--reasoner", "static", "--output", str(tmp_path), "--no-video"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    boxes = np.loadtxt(tmp_path / "boxes.txt", delimiter=",")
    expected = np.loadtxt(ref / "tiny_trace_Crossing.txt", delimiter=",")
    np.testing.assert_allclose(boxes, expected, atol=1e-3, rtol=0)  # BOX_ATOL_PX, see test_dutrack_tracker.py


def test_vocab_beside_prefers_the_requested_casing(tmp_path):
    from reasoningtrack.trackers.dutrack.tokenizer import vocab_beside

    ckpt = tmp_path / "model.pth.tar"
    assert vocab_beside(ckpt) is None
    (tmp_path / "vocab-bert-base-uncased.txt").write_text("[PAD]\n")
    (tmp_path / "vocab-bert-base-cased.txt").write_text("[PAD]\n")
    assert vocab_beside(ckpt).name == "vocab-bert-base-uncased.txt"
    assert vocab_beside(ckpt, lowercase=False).name == "vocab-bert-base-cased.txt"
    (tmp_path / "vocab.txt").write_text("[PAD]\n")
    assert vocab_beside(None, ckpt).name == "vocab.txt"
