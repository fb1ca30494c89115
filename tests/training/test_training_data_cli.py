"""`reasoningtrack data build|teach|import-release|export-release` end to end on generated and real data."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.reasoning.parser import parse
from reasoningtrack.training.samples import load_samples

runner = CliRunner()


def _run(args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def test_build_on_the_synthetic_world_with_csrt_then_teach_then_export(tmp_path):
    world = tmp_path / "world"
    _run(["data", "synth", "--out", world, "-n", "2", "--frames", "40", "--size", "160x120", "--splits", "train"])
    samples_dir = tmp_path / "samples"
    _run(["data", "build", samples_dir, "--dataset", "synthetic", "--root", world, "--backbone", "csrt",
          "--min-gap", "10", "--max-gap", "30", "--pairs-per-sequence", "2", "--seed", "3"])
    samples = load_samples(samples_dir)
    assert 1 <= len(samples) <= 4
    assert all(0.0 <= v <= 1.0 for v in samples["iou_old"])
    assert all(len(images) == 2 for images in samples["images"])
    assert (samples_dir / "sample_config.yaml").is_file()
    # Same command again: nothing to do, same samples.
    _run(["data", "build", samples_dir, "--dataset", "synthetic", "--root", world, "--backbone", "csrt",
          "--min-gap", "10", "--max-gap", "30", "--pairs-per-sequence", "2", "--seed", "3"])
    assert load_samples(samples_dir)["sample_id"] == samples["sample_id"]

    taught_dir = tmp_path / "taught"
    result = _run(["data", "teach", samples_dir, taught_dir, "--reasoner", "static", "--backbone", "csrt"])
    taught = load_samples(taught_dir)
    assert len(taught) == len(samples)  # the static reasoner always answers in the strict format
    assert all(parse(t).strict_ok for t in taught["completion_text"])
    # Static keeps the text: the same backbone run gives the same IoU, and "no" agrees with it.
    assert taught["iou_new"] == pytest.approx(taught["iou_old"]) and all(taught["agrees"])
    assert "agreement" in result.output

    out_json = tmp_path / "export.json"
    _run(["data", "export-release", taught_dir, out_json, "--image-dir", tmp_path / "frames"])
    records = json.loads(out_json.read_text())
    assert len(records) == len(taught)
    assert records[0]["input"].startswith("<image><image>") and records[0]["output"] == taught["completion_text"][0]
    assert all((tmp_path / "frames").joinpath(f"sample{i + 1:04d}", "img1.jpg").is_file() for i in range(len(records)))


def test_import_then_export_release_is_identical(shared_data, tmp_path):
    source = shared_data / "reasoningtrack-release" / "sft" / "sft_dataset_OTB.json"
    _run(["data", "import-release", source, "--out", tmp_path / "imported", "--image-root", tmp_path])
    _run(["data", "export-release", tmp_path / "imported", tmp_path / "again.json"])
    assert (tmp_path / "again.json").read_bytes() == source.read_bytes()
