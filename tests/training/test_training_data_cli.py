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


def test_exported_instruction_is_the_release_text_for_all_997_samples(shared_data, tmp_path):
    """Rows without an instruction (taught samples) get the release's SFT instruction exactly."""
    from reasoningtrack.training.instructions import load_instruction
    from reasoningtrack.training.llamafactory import dataset_to_samples, read_llamafactory, samples_to_dataset

    files = sorted((shared_data / "reasoningtrack-release" / "sft").glob("*.json"))
    originals = [r for f in files for r in json.loads(f.read_text(encoding="utf-8"))]
    assert len(originals) == 997
    dataset = samples_to_dataset([s for f in files for s in read_llamafactory(f)], source="all")
    # As taught rows: no instruction column; the default export instruction is the release's.
    exported = dataset_to_samples(dataset.remove_columns("instruction"), instruction=load_instruction("release-sft"))
    with_d = [r["instruction"] for r in originals if "<d>" in r["instruction"]]
    assert len(with_d) == 797 and set(with_d) == {exported[0].instruction}
    assert all("{" not in s.instruction for s in exported)
    # With their own instruction column, both release variants come back byte for byte.
    kept = dataset_to_samples(dataset)
    assert [s.instruction for s in kept] == [r["instruction"] for r in originals]
    assert load_instruction("release-sft-no-d") in {r["instruction"] for r in originals}


def test_build_several_datasets_in_one_call_and_train_reads_them_all(tmp_path):
    worlds = []
    for seed in (0, 1):
        world = tmp_path / f"world{seed}"
        _run(["data", "synth", "--out", world, "-n", "1", "--frames", "30", "--size", "128x96", "--splits", "train", "--seed", seed])
        worlds += ["--dataset", "synthetic", "--root", world]
    out = tmp_path / "samples"
    result = _run(["data", "build", out, *worlds, "--backbone", "csrt", "--min-gap", "5", "--max-gap", "20",
                   "--pairs-per-sequence", "2", "--profile", "release"])
    assert (out / "synthetic-1" / "DONE").is_file() and (out / "synthetic-2" / "DONE").is_file()
    merged = load_samples(out)
    assert len(merged) == len(load_samples(out / "synthetic-1")) + len(load_samples(out / "synthetic-2"))
    assert len(set(merged["sample_id"])) == len(merged)
    # Full resolution kept (the release profile's data: max_pixels 0).
    assert all(im.size == (128, 96) for pair in merged["images"] for im in pair)
    assert "d=yes share unknown" in result.output
    bad = runner.invoke(app, ["data", "build", str(out), "--dataset", "synthetic", "--dataset", "synthetic", "--root", str(tmp_path)])
    assert bad.exit_code == 2 and "one --root per --dataset" in bad.output


def test_yes_share_is_reported_and_balanced():
    from reasoningtrack.training.samples import balance_yes_share, yes_share
    from reasoningtrack.training.toy import toy_samples

    samples = toy_samples(40, seed=3)
    share = yes_share(samples)
    want = sum(label == "yes" for label in samples["label_update"]) / 40
    assert share == want and 0 < share < 1
    balanced, report = balance_yes_share(samples, 0.7, seed=0)
    assert abs(yes_share(balanced) - 0.7) < 0.05 and report["rows"] == len(balanced)
    assert set(balanced["sample_id"]) <= set(samples["sample_id"])
