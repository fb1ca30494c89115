"""`compare` over benchmark folders and `evaluate-run` of a `track` output, on a real OTB video
(../shared/data/sequences/Crossing, 120 frames) tracked by OpenCV CSRT."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reasoningtrack.app import evaluate_run
from reasoningtrack.cli import app
from reasoningtrack.evaluation.results import read_boxes
from reasoningtrack.pipeline.config import BenchmarkConfig, TrackRunConfig
from reasoningtrack.pipeline.runner import BenchmarkRunner
from reasoningtrack.pipeline.session import track_to_folder
from reasoningtrack.reports.compare import compare_runs, evaluate_track_output


@pytest.fixture(scope="module")
def runs(shared_data, tmp_path_factory) -> dict[str, Path]:
    root = shared_data / "sequences"
    out = tmp_path_factory.mktemp("runs")
    folders = {}
    for name, reasoner in (("plain", "none"), ("reasoned", "heuristic")):
        config = BenchmarkConfig.from_dict({
            "dataset": "folder", "root": str(root), "sequences": ["Crossing"], "backbone": "csrt", "reasoner": reasoner,
            "pipeline": {"schedule": {"triggers": ["interval"], "interval": {"every": 20}}},
        })
        runner = BenchmarkRunner(config, out / name)
        assert all(o.ok for o in runner.run())
        evaluate_run(runner)
        folders[name] = out / name
    track = out / "track"
    track_to_folder(TrackRunConfig.from_dict({
        "input": str(root / "Crossing" / "img"), "box": [205, 151, 17, 50], "backbone": "csrt", "reasoner": "none", "video": False,
    }), track)
    folders["track"] = track
    return folders


def test_compare_scores_runs_together_with_the_differing_keys_as_columns(runs, tmp_path):
    comparison = compare_runs([runs["plain"], runs["reasoned"]])
    assert comparison.keys == ["reasoner"]
    rows = {r["run"]: r for r in comparison.rows()}
    assert rows["plain"]["reasoner"] == "none" and rows["reasoned"]["reasoner"] == "heuristic"
    assert rows["plain"]["calls"] == 0 and rows["reasoned"]["calls"] == 5  # frames 20, 40, ..., 100 of 120
    # CSRT ignores the text: the reasoner changes nothing in the boxes, so the scores are equal
    assert rows["plain"]["SR"] == rows["reasoned"]["SR"] > 30
    result = CliRunner().invoke(app, ["compare", str(runs["plain"]), str(runs["reasoned"]), "--csv", str(tmp_path / "c.csv")])
    assert result.exit_code == 0, result.output
    assert "lasot-matlab" in result.output
    table = list(csv.DictReader((tmp_path / "c.csv").open()))
    assert [r["reasoner"] for r in table] == ["none", "heuristic"]
    assert [r["run"] for r in table] == ["plain", "reasoned"] and float(table[0]["SR"]) == pytest.approx(rows["plain"]["SR"])


def test_compare_refuses_runs_of_other_data(runs, tmp_path, shared_data):
    result = CliRunner().invoke(app, ["compare", str(runs["plain"]), str(runs["track"])])
    assert result.exit_code == 2 and "is not a benchmark folder" in result.output


def test_evaluate_run_scores_a_track_output_like_the_benchmark(runs, tmp_path, shared_data):
    gt = shared_data / "sequences" / "Crossing" / "groundtruth_rect.txt"
    report = evaluate_track_output(runs["track"], gt)
    # the same backbone from the same first box: the same boxes as the benchmark run, the same score
    assert (read_boxes(runs["track"] / "boxes.txt") == read_boxes(runs["plain"] / "results" / "Crossing.txt")).all()
    benchmark = compare_runs([runs["plain"]]).report.trackers["plain"].per_sequence["Crossing"]
    assert report.trackers["track"].overall.SR == pytest.approx(benchmark.SR)
    # without --gt the ground truth beside the tracked input is found; bad input is one clear line
    result = CliRunner().invoke(app, ["evaluate-run", str(runs["track"]), "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert f"{benchmark.SR:.2f}" in result.output and (tmp_path / "r.json").is_file()
    short = tmp_path / "short.txt"
    short.write_text("\n".join(gt.read_text().splitlines()[:50]) + "\n")
    result = CliRunner().invoke(app, ["evaluate-run", str(runs["track"]), "--gt", str(short)])
    assert result.exit_code == 2 and "has 120 boxes but" in result.output and "50 rows" in result.output


def test_evaluate_accepts_benchmark_folders(runs, tmp_path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["evaluate", str(runs["plain"]), str(runs["reasoned"]), "--json", str(out)])
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())["trackers"]
    expected = compare_runs([runs["plain"], runs["reasoned"]]).report.trackers
    assert scores["plain"]["overall"]["SR"] == pytest.approx(expected["plain"].overall.SR)
    assert set(scores) == {"plain", "reasoned"}
    result = CliRunner().invoke(app, ["evaluate", str(runs["plain"]), "--dataset", "lasot"])
    assert result.exit_code == 2 and "not both" in result.output
