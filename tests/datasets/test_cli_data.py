"""`reasoningtrack data synth|list|info`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.datasets import DATASETS


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli") / "world"
    result = CliRunner().invoke(app, ["data", "synth", "--out", str(root), "--sequences", "2", "--seed", "4", "--frames", "24", "--size", "200x160"])
    assert result.exit_code == 0, result.output
    assert "test: 2 sequences, 48 frames" in result.output and "sequences with CC" in result.output
    return root


def test_synth_writes_both_splits(synth_root):
    for split in ("train", "test"):
        ds = DATASETS.build("synthetic", root=synth_root, split=split)
        assert len(ds) == 2
        seq = ds.load(ds.sequence_names()[0])
        assert len(seq.frames) == 24 and seq.read_frame(0).shape == (160, 200, 3)


def test_synth_resumes_and_refuses_other_parameters(synth_root):
    runner = CliRunner()
    again = runner.invoke(app, ["data", "synth", "--out", str(synth_root), "--sequences", "2", "--seed", "4", "--frames", "24", "--size", "200x160"])
    assert again.exit_code == 0, again.output
    other = runner.invoke(app, ["data", "synth", "--out", str(synth_root), "--sequences", "2", "--seed", "5", "--frames", "24", "--size", "200x160"])
    assert other.exit_code == 1 and "other parameters" in other.output


@pytest.mark.parametrize("args, message", [(["--size", "320"], "WIDTHxHEIGHT"), (["--size", "60x60"], "at least 96x96"), (["--splits", "val"], "train,test")])
def test_synth_bad_options(tmp_path, args, message):
    result = CliRunner().invoke(app, ["data", "synth", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code == 2 and message in result.output


def test_info_counts_and_mismatches(synth_root, tmp_path):
    result = CliRunner().invoke(app, ["data", "info", "--dataset", "synthetic", "--root", str(synth_root), "--per-sequence"], terminal_width=200)
    assert result.exit_code == 0, result.output
    ds = DATASETS.build("synthetic", root=synth_root, split="test")
    absent = sum(int(s.absent.sum()) for s in ds)
    assert "│ sequences            │ 2" in result.output and "│ frames on disk       │ 48" in result.output
    assert f"│ absent frames        │ {absent} " in result.output
    assert "synth-test-0001" in result.output and "DIS" in result.output
    # a ground truth shorter than the video is reported, a broken sequence is an error
    gt = synth_root / "test" / "synth-test-0000" / "groundtruth.txt"
    original = gt.read_text()
    try:
        gt.write_text("".join(original.splitlines(keepends=True)[:20]))
        short = CliRunner().invoke(app, ["data", "info", "-d", "synthetic", "--root", str(synth_root)], terminal_width=200)
        assert short.exit_code == 0 and "synth-test-0000: 20 ground-truth rows for 24 frames" in short.output
        assert "24 absent flags for 20 ground-truth rows" in short.output
        gt.write_text("1,2,3\n")
        broken = CliRunner().invoke(app, ["data", "info", "-d", "synthetic", "--root", str(synth_root)], terminal_width=300)
        assert broken.exit_code == 1 and "groundtruth.txt:1" in broken.output
    finally:
        gt.write_text(original)


def test_info_on_real_otb_folders(shared_data):
    result = CliRunner().invoke(app, ["data", "info", "-d", "folder", "--root", str(shared_data / "sequences")], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "│ sequences            │ 3" in result.output and "│ frames on disk       │ 341" in result.output
    assert "│ ground-truth rows    │ 334" in result.output
    assert "Football1: 74 ground-truth rows for 81 frames" in result.output
    assert "not sequences (no ground-truth file): otb100_results" in result.output


def test_info_unknown_dataset_and_list(tmp_path):
    result = CliRunner().invoke(app, ["data", "info", "--dataset", "nope", "--root", str(tmp_path)])
    assert result.exit_code == 1 and "unknown dataset 'nope'" in result.output
    listing = CliRunner().invoke(app, ["data", "list"], terminal_width=200)
    assert listing.exit_code == 0
    for name in ("tnllt", "synthetic", "got10k", "folder", "lasot"):
        assert name in listing.output


@pytest.mark.parametrize("command", ["synth", "list", "info"])
def test_help(command):
    result = CliRunner().invoke(app, ["data", command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
