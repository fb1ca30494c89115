"""`reasoningtrack track` end to end on a real OTB sequence with CSRT (no model weights)."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.evaluation.metrics import aggregate, sequence_curves
from reasoningtrack.evaluation.protocols import get_protocol
from reasoningtrack.evaluation.results import read_boxes
from reasoningtrack.pipeline.config import TrackRunConfig

EVENT_KEYS = {"frame", "input_text", "think", "decision", "answer", "text_applied", "latency_s", "error", "status", "applied_from"}


@pytest.fixture(scope="module")
def crossing_run(shared_data, tmp_path_factory):
    """One CLI run on Crossing: no --box (taken from groundtruth_rect.txt row 1)."""
    out = tmp_path_factory.mktemp("crossing")
    images = shared_data / "sequences" / "Crossing" / "img"
    result = CliRunner().invoke(
        app,
        ["track", str(images), "--text", "a person crossing the road", "--backbone", "csrt", "--reasoner", "heuristic",
         "--interval", "30", "--policy", "dynamic+static", "--output", str(out)],
    )
    assert result.exit_code == 0, result.output
    return out, result.output, shared_data / "sequences" / "Crossing"


def test_track_writes_all_four_outputs(crossing_run):
    out, output, sequence = crossing_run
    boxes = read_boxes(out / "boxes.txt")
    gt = read_boxes(sequence / "groundtruth_rect.txt")
    assert boxes.shape == (120, 4)
    np.testing.assert_array_equal(boxes[0], gt[0])  # the init box, taken from the ground truth
    assert (out / "boxes.txt").read_text().splitlines()[0] == "205.0,151.0,17.0,50.0"

    events = [json.loads(line) for line in (out / "reasoning.jsonl").read_text().splitlines()]
    assert [e["frame"] for e in events] == [30, 60, 90]
    for event in events:
        assert EVENT_KEYS <= set(event)
        assert event["input_text"] == "a person crossing the road"
        assert event["decision"] in ("yes", "no") and event["error"] is None
        assert event["latency_s"] >= 0

    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["box"] == [205.0, 151.0, 17.0, 50.0] and config["backbone"] == "csrt"
    assert config["pipeline"]["schedule"]["interval"]["every"] == 30
    assert config["pipeline"]["policy"]["kind"] == "dynamic+static"

    with av.open(str(out / "video.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 120 and frames[0].shape == (240, 360, 3)
    assert "120 frames" in output and "3 reasoning calls" in output


def test_track_with_csrt_reaches_a_good_success_auc(crossing_run):
    out, _, sequence = crossing_run
    protocol = get_protocol("lasot-matlab")
    curves = sequence_curves(read_boxes(out / "boxes.txt"), read_boxes(sequence / "groundtruth_rect.txt"), None, protocol, "Crossing")
    scores = aggregate({"Crossing": curves}, protocol)
    # measured 77.1 (SR) and 100.0 (PR) with CSRT on this sequence
    assert scores.SR > 70.0
    assert scores.PR > 95.0


def test_config_yaml_reruns_the_same_track(crossing_run, tmp_path):
    out, _, _ = crossing_run
    loaded = TrackRunConfig.from_yaml(out / "config.yaml")
    assert loaded.text == "a person crossing the road"
    again = tmp_path / "again"
    result = CliRunner().invoke(app, ["track", "--config", str(out / "config.yaml"), "--no-video", "--output", str(again)])
    assert result.exit_code == 0, result.output
    assert (again / "boxes.txt").read_bytes() == (out / "boxes.txt").read_bytes()
    first = [json.loads(line) for line in (out / "reasoning.jsonl").read_text().splitlines()]
    second = [json.loads(line) for line in (again / "reasoning.jsonl").read_text().splitlines()]
    for a, b in zip(first, second, strict=True):
        a.pop("latency_s"), b.pop("latency_s")
        assert a == b
    assert not (again / "video.mp4").exists()
    assert yaml.safe_load((again / "config.yaml").read_text())["video"] is False


def test_track_options_reach_the_config(shared_data, tmp_path):
    images = shared_data / "sequences" / "Couple" / "img"
    result = CliRunner().invoke(
        app,
        ["track", str(images), "--box", "51,47,25,62", "--text", "a couple walking", "--tracker", "kcf",
         "--reasoner", "heuristic", "--reasoner-opt", "latency=0.0", "--schedule", "motion,confidence", "--async",
         "--set", "schedule.motion.check_every=5", "--set", "template.mark=both", "--no-video", "--output", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    config = TrackRunConfig.from_yaml(tmp_path / "config.yaml")
    assert config.box == [51.0, 47.0, 25.0, 62.0]
    assert config.pipeline.schedule.triggers == ["motion", "confidence"]
    assert config.pipeline.schedule.motion.check_every == 5
    assert config.pipeline.template.mark == "both" and config.pipeline.mode == "async"
    assert config.reasoner_options == {"latency": 0.0}
    assert len(read_boxes(tmp_path / "boxes.txt")) == 140


@pytest.mark.parametrize(
    "args, message",
    [
        (["--box", "1,2,3"], "expected four numbers"),
        (["--box", "1,2,3,4", "--tracker", "no-such-tracker"], "unknown backbone"),
        (["--box", "1,2,3,4", "--set", "policy.kind=sometimes"], "policy.kind"),
        (["--box", "1,2,3,4", "--tracker-opt", "bogus=1"], "bogus"),
    ],
)
def test_track_bad_input_is_a_clear_error(shared_data, tmp_path, args, message):
    images = shared_data / "sequences" / "Crossing" / "img"
    result = CliRunner().invoke(app, ["track", str(images), "--text", "x", *args, "--output", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_track_without_box_or_groundtruth_is_a_clear_error(tmp_path):
    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i:04d}.jpg"), np.zeros((32, 32, 3), np.uint8))
    result = CliRunner().invoke(app, ["track", str(folder), "--text", "x", "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no --box given" in result.output


def test_track_a_synthetic_sequence_folder_without_box_or_text(synthetic_root, tmp_path):
    name = (synthetic_root / "test.txt").read_text().split()[0]
    folder = synthetic_root / "test" / name
    result = CliRunner().invoke(app, ["track", str(folder / "imgs"), "--tracker", "kcf", "--reasoner", "heuristic",
                                      "--interval", "10", "--no-video", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    config = TrackRunConfig.from_yaml(tmp_path / "config.yaml")
    assert config.text == (folder / "language.txt").read_text().strip()  # read from beside the frames
    np.testing.assert_array_equal(read_boxes(tmp_path / "boxes.txt")[0], read_boxes(folder / "groundtruth.txt")[0])
    assert len(read_boxes(tmp_path / "boxes.txt")) == len(list((folder / "imgs").iterdir()))


@pytest.mark.parametrize("command", ["track", "benchmark"])
def test_output_below_a_file_is_a_clear_error(shared_data, synthetic_root, tmp_path, command):
    """-o FILE/sub: the folder can never be made; one line naming the file, nothing written."""
    (tmp_path / "taken").write_text("a file\n")
    output = tmp_path / "taken" / "run"
    if command == "track":
        args = ["track", str(shared_data / "sequences" / "Crossing" / "img"), "--text", "x", "--output", str(output)]
    else:
        args = ["benchmark", "--dataset", "synthetic", "--root", str(synthetic_root), "--output", str(output)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'taken'} is a file, not a folder" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_overwrite_never_deletes_files_a_track_run_did_not_write(shared_data, tmp_path):
    """--overwrite replaces the whole folder, so one holding anything else (-o . in a project
    folder) is refused and left untouched; a folder of run files alone may be replaced."""
    out = tmp_path / "project"
    (out / "notes").mkdir(parents=True)
    (out / "notes" / "thesis.tex").write_text("keep me\n")
    (out / "boxes.txt").write_text("1,2,3,4\n")
    images = shared_data / "sequences" / "Crossing" / "img"
    result = CliRunner().invoke(app, ["track", str(images), "--text", "x", "--overwrite", "--output", str(out)])
    assert result.exit_code == 2, result.output
    assert "holds files a track run did not write (notes/)" in " ".join(result.output.split())
    assert (out / "notes" / "thesis.tex").read_text() == "keep me\n" and (out / "boxes.txt").read_text() == "1,2,3,4\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]
