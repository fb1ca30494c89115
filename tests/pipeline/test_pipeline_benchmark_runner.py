"""`reasoningtrack benchmark` on a generated synthetic dataset: outputs, resume after a real
SIGKILL, failures, workers, shards, the Ray executor's error."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.config import ConfigError
from reasoningtrack.evaluation.results import read_boxes
from reasoningtrack.pipeline.runner import parse_shard, shard_names

from pipeline_fakes import SYNTHETIC_FRAMES as FRAMES
from pipeline_fakes import SYNTHETIC_SEQUENCES as SEQUENCES


def names_of(root: Path) -> list[str]:
    return (root / "test.txt").read_text().split()


def bench_args(root: Path, output: Path, *extra: str) -> list[str]:
    return ["benchmark", "--dataset", "synthetic", "--root", str(root), "--backbone", "kcf", "--reasoner", "heuristic",
            "--interval", "5", "--output", str(output), *extra]


def files_of(folder: Path) -> dict[str, bytes]:
    """Every output file but timings/ (wall-clock speed, documented as the one exception)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] != "timings"
    }


def test_benchmark_writes_results_logs_config_and_report(synthetic_root, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, bench_args(synthetic_root, out))
    assert result.exit_code == 0, result.output
    names = names_of(synthetic_root)
    for name in names:
        boxes = read_boxes(out / "results" / f"{name}.txt")
        assert boxes.shape == (FRAMES, 4)
        events = [json.loads(line) for line in (out / "reasoning" / f"{name}.jsonl").read_text().splitlines()]
        assert [e["frame"] for e in events] == list(range(5, FRAMES, 5))
        assert all("latency_s" not in e for e in events)  # reproducible logs
        assert json.loads((out / "timings" / f"{name}.json").read_text())["frames"] == FRAMES
    report = json.loads((out / "report.json").read_text())
    assert report["sequences"] == names and report["protocol"]
    overall = report["trackers"]["kcf+heuristic"]["overall"]
    assert set(overall) == {"PR", "NPR", "SR"} and 0 <= overall["SR"] <= 100
    assert not (out / "failures.json").exists()

    again = CliRunner().invoke(app, bench_args(synthetic_root, out))
    assert again.exit_code == 0 and f"{SEQUENCES} already complete" in again.output


def test_toolkit_naming_and_sequence_selection(synthetic_root, tmp_path):
    names = names_of(synthetic_root)
    out = tmp_path / "named"
    result = CliRunner().invoke(app, bench_args(synthetic_root, out, "--result-name", "ReasoningTrack", "--sequences", names[1]))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "results" / "ReasoningTrack_tracking_result").iterdir()) == [f"{names[1]}.txt"]
    assert json.loads((out / "report.json").read_text())["sequences"] == [names[1]]
    bad = CliRunner().invoke(app, bench_args(synthetic_root, tmp_path / "bad", "--sequences", "nope"))
    assert bad.exit_code == 2 and "nope" in bad.output


def test_another_configuration_is_refused_in_the_same_folder(synthetic_root, tmp_path):
    out = tmp_path / "run"
    names = names_of(synthetic_root)
    assert CliRunner().invoke(app, bench_args(synthetic_root, out, "--sequences", names[0], "--no-eval")).exit_code == 0
    result = CliRunner().invoke(app, bench_args(synthetic_root, out, "--sequences", names[0], "--interval", "7"))
    assert result.exit_code == 2 and "another configuration" in result.output


def test_failures_are_recorded_reported_and_retried(synthetic_root, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(synthetic_root, root)
    names = names_of(root)
    broken = root / "test" / names[2] / "imgs" / "00007.png"
    original = broken.read_bytes()
    broken.write_bytes(b"not a png")
    out = tmp_path / "run"
    result = CliRunner().invoke(app, bench_args(root, out))
    assert result.exit_code == 1
    assert f"failed {names[2]}" in result.output and "00007.png" in result.output
    failures = json.loads((out / "failures.json").read_text())
    assert [f["sequence"] for f in failures] == [names[2]] and "00007.png" in failures[0]["error"]
    assert not (out / "results" / f"{names[2]}.txt").exists()
    assert all((out / "results" / f"{n}.txt").exists() for n in names if n != names[2])
    assert not (out / "report.json").exists()

    broken.write_bytes(original)
    retry = CliRunner().invoke(app, bench_args(root, out))
    assert retry.exit_code == 0, retry.output
    assert "1 run, 3 already complete" in retry.output
    assert not (out / "failures.json").exists() and (out / "report.json").exists()


def test_workers_and_shards_give_the_same_files(synthetic_root, tmp_path, monkeypatch):
    single = tmp_path / "single"
    assert CliRunner().invoke(app, bench_args(synthetic_root, single, "--no-eval")).exit_code == 0
    parallel = tmp_path / "parallel"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")  # two "GPUs": worker k is pinned to one of them
    result = CliRunner().invoke(app, bench_args(synthetic_root, parallel, "--no-eval", "--workers", "2"))
    assert result.exit_code == 0, result.output
    assert files_of(parallel) == files_of(single)
    timings = [json.loads(p.read_text()) for p in (parallel / "timings").glob("*.json")]
    assert len(timings) == SEQUENCES
    assert all(t["worker_pid"] != os.getpid() for t in timings)  # ran in worker processes
    pinned = {t["worker_pid"]: t["cuda_visible_devices"] for t in timings}
    assert set(pinned.values()) <= {"3", "5"} and len(set(pinned.values())) == len(pinned)

    sharded = tmp_path / "sharded"
    for shard in ("1/2", "0/2"):
        result = CliRunner().invoke(app, bench_args(synthetic_root, sharded, "--shard", shard))
        assert result.exit_code == 0, result.output
        assert not (sharded / "report.json").exists()  # shards never evaluate
    assert files_of(sharded) == files_of(single)


def test_shard_partition_is_fixed_and_complete():
    names = [f"s{i}" for i in range(7)]
    parts = [shard_names(names, parse_shard(f"{i}/3")) for i in range(3)]
    assert parts == [["s0", "s3", "s6"], ["s1", "s4"], ["s2", "s5"]]
    assert sorted(sum(parts, [])) == sorted(names)
    for bad in ("3/3", "1", "-1/2", "a/b", "0/0"):
        with pytest.raises(ConfigError):
            parse_shard(bad)


def test_ray_executor_without_ray_is_a_clear_error(synthetic_root, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail as if not installed
    result = CliRunner().invoke(app, bench_args(synthetic_root, tmp_path / "ray", "--executor", "ray"))
    assert result.exit_code == 2
    assert "pip install 'reasoningtrack[ray]'" in result.output


def _start(root: Path, output: Path) -> subprocess.Popen:
    command = [sys.executable, "-c", "from reasoningtrack.cli import main; main()",
               *bench_args(root, output, "--reasoner-opt", "latency=0.03", "--interval", "2")]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def test_resume_after_sigkill_gives_byte_identical_files(synthetic_root, tmp_path):
    """A real run is killed with SIGKILL after its first sequence and before its last; the
    restarted run ends with exactly the files of an uninterrupted run."""
    names = names_of(synthetic_root)
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    uninterrupted = _start(synthetic_root, reference)
    victim = _start(synthetic_root, killed)
    try:
        deadline = time.monotonic() + 60
        while not list((killed / "results").glob("*.txt")):
            assert victim.poll() is None, victim.stderr.read().decode()
            assert time.monotonic() < deadline, "no sequence finished within 60 s"
            time.sleep(0.02)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        assert victim.returncode == -signal.SIGKILL
        done_at_kill = {p.stem for p in (killed / "results").glob("*.txt")}
        assert 1 <= len(done_at_kill) < len(names), "the kill did not land part-way"
    finally:
        if victim.poll() is None:
            victim.kill()
    assert uninterrupted.wait(120) == 0, uninterrupted.stderr.read().decode()

    resumed = _start(synthetic_root, killed)
    assert resumed.wait(120) == 0, resumed.stderr.read().decode()
    expected, got = files_of(reference), files_of(killed)
    assert sorted(got) == sorted(expected)
    for path, data in expected.items():
        assert got[path] == data, f"{path} differs after the resume"
    assert {p.stem for p in (killed / "timings").glob("*.json")} == set(names)


def test_saved_config_reruns_the_benchmark(synthetic_root, tmp_path):
    names = names_of(synthetic_root)
    first = tmp_path / "first"
    args = bench_args(synthetic_root, first, "--sequences", names[0], "--no-eval", "--policy", "cascaded",
                      "--set", "schedule.triggers=interval,motion")
    assert CliRunner().invoke(app, args).exit_code == 0
    second = tmp_path / "second"
    result = CliRunner().invoke(app, ["benchmark", "--config", str(first / "config.yaml"), "--no-eval", "--output", str(second)])
    assert result.exit_code == 0, result.output
    assert files_of(second) == files_of(first)


def test_detect_gpus_follows_cuda_visible_devices(monkeypatch):
    from reasoningtrack.pipeline.runner import detect_gpus

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0, 2,")
    assert detect_gpus() == ["0", "2"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert detect_gpus() == []


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_bad_component_option_stops_the_run_with_its_message(synthetic_root, tmp_path, workers):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, bench_args(synthetic_root, out, "--tracker-opt", "bogus=1", "--workers", workers))
    assert result.exit_code == 2
    assert "bogus" in result.output and "Traceback" not in result.output
    assert not (out / "failures.json").exists()


def test_a_shared_run_counts_what_another_process_finished_meanwhile(synthetic_root, tmp_path):
    """The last of several --shared processes to end evaluates: a sequence found claimed by another
    process when this one reached it counts as complete once that process has finished it."""
    from reasoningtrack.pipeline.config import BenchmarkConfig
    from reasoningtrack.pipeline.locks import SequenceClaims, holder_info
    from reasoningtrack.pipeline.runner import BenchmarkRunner

    out, stash = tmp_path / "run", tmp_path / "stash"
    assert CliRunner().invoke(app, bench_args(synthetic_root, out, "--no-eval")).exit_code == 0
    names = names_of(synthetic_root)
    other, alone = names[0], names[1]
    for path in [p for p in out.rglob(f"{other}.*") if p.is_file()] + [p for p in out.rglob(f"{alone}.*") if p.is_file()]:
        target = stash / path.relative_to(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    claims = SequenceClaims(out)  # a live process of another machine holds both
    for name in (other, alone):
        claims.path(name).write_text(json.dumps({**holder_info(), "pid": 1, "node": "another-boot:1"}))

    def finish_other(outcome, done, total):  # ... and finishes `other` while this process still runs
        if outcome.name == other:
            for path in [p for p in stash.rglob(f"{other}.*") if p.is_file()]:
                path.rename(out / path.relative_to(stash))
            claims.path(other).unlink()

    runner = BenchmarkRunner(BenchmarkConfig.from_yaml(out / "config.yaml"), out, shared=True, evaluate=False)
    runner.on_outcome = finish_other
    outcomes = {o.name: o for o in runner.run()}
    assert outcomes[other].ok and outcomes[other].skipped and outcomes[other].elsewhere is None
    assert outcomes[alone].elsewhere and "pid 1" in outcomes[alone].elsewhere  # still running: not counted
    assert sum(o.skipped and not o.elsewhere for o in outcomes.values()) == SEQUENCES - 1
