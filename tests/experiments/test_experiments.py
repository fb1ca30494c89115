"""Experiments: grid expansion and names, resume of a half-finished experiment, a failed variant
reported and rerun, and a shipped experiment run end to end with the toy backbone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.config import ConfigError
from reasoningtrack.datasets.synthetic import WorldConfig, write_dataset
from reasoningtrack.experiments import Experiment, expand, load_experiment, shipped_experiments, variant_name
from reasoningtrack.experiments.run import ExperimentRunner


def _experiment(grid=None, variants=None, base=None) -> Experiment:
    base = base or {"dataset": "synthetic", "root": "/nowhere", "backbone": "toy", "reasoner": "heuristic"}
    return Experiment("test.yaml", base, grid or {}, variants or [])


def test_grid_expands_every_combination_in_file_order_with_readable_names():
    variants = expand(_experiment(grid={"pipeline.schedule.interval.every": [10, 100], "reasoner": ["none", "heuristic"]}))
    assert [v.name for v in variants] == [
        "every-10_reasoner-none", "every-10_reasoner-heuristic", "every-100_reasoner-none", "every-100_reasoner-heuristic",
    ]
    last = variants[-1]
    assert last.overrides == {"pipeline.schedule.interval.every": 100, "reasoner": "heuristic"}
    assert last.config["pipeline"]["schedule"]["interval"]["every"] == 100
    assert last.config["reasoner"] == "heuristic" and last.config["backbone"] == "toy"
    # keys are validated: the untouched defaults are filled in by BenchmarkConfig
    assert last.config["pipeline"]["policy"]["kind"] == "initial"


def test_names_use_longer_suffixes_when_short_ones_collide_and_slugify_values():
    keys = ["pipeline.schedule.interval.every", "pipeline.schedule.motion.check_every", "pipeline.policy.kind"]
    name = variant_name({keys[0]: 10, keys[1]: 5, keys[2]: "dynamic+static"}, keys)
    assert name == "every-10_check_every-5_kind-dynamic+static"
    assert variant_name({"a.every": 1, "b.every": 2}) == "a-every-1_b-every-2"
    assert variant_name({"pipeline.schedule.triggers": ["interval", "motion"]}) == "triggers-interval+motion"
    assert variant_name({"video": True}) == "video-on"


def test_bad_experiments_fail_before_running_naming_the_variant_and_key(tmp_path):
    with pytest.raises(ConfigError, match=r"variant 'reasoner-heuristic_nonsense-1': pipeline: unknown option.*nonsense"):
        expand(_experiment(grid={"reasoner": ["heuristic"], "pipeline.nonsense": [1]}))
    with pytest.raises(ConfigError, match="same name"):
        expand(_experiment(variants=[{"name": "a", "set": {"reasoner": "none"}}, {"name": "a", "set": {"reasoner": "static"}}]))
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: {}\ngrid: {reasoner: heuristic}\n")
    with pytest.raises(ConfigError, match="non-empty list"):
        load_experiment(bad)
    with pytest.raises(ConfigError, match="shipped experiments: .*u-sweep"):
        load_experiment(tmp_path / "missing.yaml")


def test_shipped_experiments_load_and_expand():
    shipped = shipped_experiments()
    assert {"u-sweep", "policies", "reasoner", "schedules", "quickstart"} <= set(shipped)
    for name in shipped:
        variants = expand(load_experiment(name, {"root": "/data"}))
        assert len(variants) >= 2 and all(v.config["root"] == "/data" for v in variants)
    sweep = [v.overrides["pipeline.schedule.interval.every"] for v in expand(load_experiment("u-sweep"))]
    assert sweep == [1, 10, 50, 100, 200, 500, 10000]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("world")
    write_dataset(root, sequences=2, seed=1, config=WorldConfig(frames=30, width=96, height=96), splits=("test",))
    return root


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "timings" not in p.parts and p.name != "summary.json" and ".claims" not in p.parts}


def test_half_finished_experiment_resumes_to_the_same_bytes(world, tmp_path):
    spec = _experiment(base={"dataset": "synthetic", "root": str(world), "backbone": "toy"},
                       grid={"reasoner": ["none", "heuristic"]})
    full = tmp_path / "full"
    assert [o.status for o in ExperimentRunner(spec, full).run()] == ["done", "done"]
    half = tmp_path / "half"
    shutil.copytree(full, half)
    # killed during the second variant: its evaluation and one sequence's results never written
    (half / "variants" / "reasoner-heuristic" / "report.json").unlink()
    victim = sorted((half / "variants" / "reasoner-heuristic" / "results").glob("*.txt"))[0]
    victim.unlink()
    runner = ExperimentRunner(spec, half)
    assert [o.status for o in runner.run()] == ["skipped", "done"]
    assert victim.is_file()
    assert _files(half / "variants") == _files(full / "variants")
    # a variant of the same name with another configuration never reuses those results
    other = _experiment(base={"dataset": "synthetic", "root": str(world), "backbone": "kcf"}, grid={"reasoner": ["none"]})
    with pytest.raises(ConfigError, match="another configuration"):
        ExperimentRunner(other, half).run()


def test_failed_variant_is_reported_non_zero_and_rerun_next_time(world, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(world, broken)
    frame = sorted((broken / "test").glob("*/imgs/*.png"))[3]
    good = frame.read_bytes()
    frame.write_bytes(good[:40])  # a truncated PNG
    spec = tmp_path / "exp.yaml"
    spec.write_text(yaml.safe_dump({
        "base": {"dataset": "synthetic", "backbone": "toy", "reasoner": "none"},
        "variants": [{"name": "good", "set": {"root": str(world)}}, {"name": "bad", "set": {"root": str(broken)}}],
    }))
    out = tmp_path / "exp"
    cli = CliRunner()
    first = cli.invoke(app, ["experiment", str(spec), "-o", str(out), "--no-report"])
    assert first.exit_code == 1, first.output
    assert "variant bad failed" in first.output and "rerun the same command" in first.output
    rows = {r["name"]: r for r in json.loads((out / "summary.json").read_text())["variants"]}
    assert rows["good"]["status"] == "done" and rows["good"]["metrics"]["SR"] > 0
    assert rows["bad"]["status"] == "failed" and "1 sequence(s) failed" in rows["bad"]["error"]
    assert rows["bad"]["metrics"] is None
    good_results = (out / "variants" / "good" / "results").stat().st_mtime_ns
    frame.write_bytes(good)  # repaired
    second = cli.invoke(app, ["experiment", str(spec), "-o", str(out), "--no-report"])
    assert second.exit_code == 0, second.output
    rows = {r["name"]: r for r in json.loads((out / "summary.json").read_text())["variants"]}
    assert rows["bad"]["status"] == "done"
    # same frames, same tracker: the repaired variant scores exactly like the good one
    assert rows["bad"]["metrics"] == rows["good"]["metrics"]
    assert (out / "variants" / "good" / "results").stat().st_mtime_ns == good_results
    csv_lines = (out / "summary.csv").read_text().splitlines()
    assert csv_lines[0].startswith("name,root,status,SR,PR,NPR") and len(csv_lines) == 3
