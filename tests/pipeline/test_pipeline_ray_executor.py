"""`benchmark --executor ray` on a real local Ray instance (loopback, 2 CPUs, started once for the
module): the same files as the local executor, resume, a killed worker retried, the shared
reasoner actor."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.config import ConfigError
from reasoningtrack.pipeline.config import BenchmarkConfig
from reasoningtrack.pipeline.ray_executor import TASK_NAME, RayOptions
from reasoningtrack.pipeline.runner import BenchmarkRunner

from pipeline_fakes import SYNTHETIC_SEQUENCES as SEQUENCES

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # a Ray instance takes 5-20 s to start here


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray instance for the module (about 5-20 s to start here)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def bench_args(root: Path, output: Path, *extra: str) -> list[str]:
    return ["benchmark", "--dataset", "synthetic", "--root", str(root), "--backbone", "kcf", "--reasoner", "heuristic",
            "--interval", "5", "--output", str(output), "--no-eval", *extra]


def files_of(folder: Path) -> dict[str, bytes]:
    """Every output file but timings/ (wall-clock speed, documented as the one exception)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] != "timings"
    }


@pytest.fixture(scope="module")
def local_run(synthetic_root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "run"
    result = CliRunner().invoke(app, bench_args(synthetic_root, out))
    assert result.exit_code == 0, result.output
    return out


def test_ray_writes_the_local_executors_bytes_and_resumes(synthetic_root, local_run, tmp_path):
    out = tmp_path / "ray"
    result = CliRunner().invoke(app, bench_args(synthetic_root, out, "--executor", "ray"))
    assert result.exit_code == 0, result.output
    assert files_of(out) == files_of(local_run)
    timings = [json.loads(p.read_text()) for p in (out / "timings").glob("*.json")]
    assert len(timings) == SEQUENCES and all(t["worker_pid"] != psutil.Process().pid for t in timings)  # in Ray workers

    # Resume: a sequence whose result is missing is run again, the others are skipped.
    first = sorted((out / "results").glob("*.txt"))[0]
    first.unlink()
    again = CliRunner().invoke(app, bench_args(synthetic_root, out, "--executor", "ray"))
    assert again.exit_code == 0, again.output
    assert f"1 run, {SEQUENCES - 1} already complete" in again.output
    assert files_of(out) == files_of(local_run)


def _kill_first_task_worker(stop: threading.Event, killed: list[int]) -> None:
    """SIGKILL the first Ray worker seen running a sequence task (what the OOM killer does)."""
    while not stop.is_set() and not killed:
        for process in psutil.process_iter(["pid", "cmdline"]):
            cmdline = " ".join(process.info["cmdline"] or [])
            if cmdline.startswith(f"ray::{TASK_NAME}"):
                try:
                    process.kill()
                except psutil.Error:
                    continue
                killed.append(process.info["pid"])
                return
        time.sleep(0.01)


def test_a_killed_worker_is_retried_and_the_run_completes(synthetic_root, local_run, tmp_path):
    config = BenchmarkConfig.from_yaml(local_run / "config.yaml")  # what the CLI ran locally
    seen = []
    runner = BenchmarkRunner(config, tmp_path / "ray", executor="ray", evaluate=False, ray=RayOptions(max_retries=2),
                             on_outcome=lambda outcome, done, total: seen.append((outcome.name, done, total)))
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_first_task_worker, args=(stop, killed), daemon=True)
    killer.start()
    try:
        outcomes = runner.run()
    finally:
        stop.set()
        killer.join()
    assert killed, "no Ray worker was seen running a sequence task"
    assert all(o.ok for o in outcomes) and not runner.failures
    assert [done for _, done, _ in seen] == list(range(1, SEQUENCES + 1))  # progress per finished task
    assert files_of(tmp_path / "ray") == files_of(local_run)
    pids = {json.loads(p.read_text())["worker_pid"] for p in (tmp_path / "ray" / "timings").glob("*.json")}
    assert killed[0] not in pids  # the killed attempt wrote nothing; its retry did


def test_shared_reasoner_actor_gives_the_same_files(synthetic_root, local_run, tmp_path):
    out = tmp_path / "shared"
    result = CliRunner().invoke(app, bench_args(synthetic_root, out, "--executor", "ray", "--shared-reasoner", "--max-wait", "0.01"))
    assert result.exit_code == 0, result.output
    assert files_of(out) == files_of(local_run)


def test_a_bad_reasoner_option_stops_the_ray_run_with_its_message(synthetic_root, tmp_path):
    result = CliRunner().invoke(app, bench_args(synthetic_root, tmp_path / "bad", "--executor", "ray", "--reasoner-opt", "nonsense=1"))
    assert result.exit_code == 2 and "nonsense" in result.output
    shared = CliRunner().invoke(app, bench_args(synthetic_root, tmp_path / "bad2", "--executor", "ray", "--shared-reasoner",
                                                "--reasoner-opt", "nonsense=1"))
    assert shared.exit_code == 2 and "nonsense" in shared.output
    with pytest.raises(ConfigError, match="max_retries"):
        RayOptions(max_retries=-1)
