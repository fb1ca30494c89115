"""Fault injection for run integrity (issue 10, items 2-7 and 13): the real ``reasoningtrack``
command line in subprocesses, with the reasoner's server down, the dataset moved or swapped, the
output folder taken, result files cut, the run killed. Each test asserts the exit code, the
message, and that nothing finished was lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reasoningtrack.datasets.synthetic import WorldConfig, write_dataset

SEQUENCES = 3
FRAMES = 20
WORLD = WorldConfig(frames=FRAMES, width=160, height=120)
INTERVAL = 5  # reasoning on frames 5, 10, 15 of each sequence
ANSWERS = [  # what the OpenAI-compatible stub answers, call after call (the release's format)
    "<think>it turned</think><d>yes</d><answer>a square seen from the side</answer>",
    "<think>still so</think><d>yes</d><answer>a square seen from the side</answer>",
    "<think>as at first</think><d>no</d><answer>none</answer>",
]


def make_world(folder: Path, seed: int) -> Path:
    write_dataset(folder, sequences=SEQUENCES, seed=seed, config=WORLD, splits=("test",))
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    return make_world(tmp_path_factory.mktemp("world") / "data", seed=1)


def names_of(root: Path) -> list[str]:
    return (root / "test.txt").read_text().split()


def closed_port() -> int:
    """A port nothing listens on (bound once to find a free one, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench(root, out, *extra) -> list[str]:
    return ["benchmark", "--dataset", "synthetic", "--root", str(root), "--backbone", "kcf", "--interval", str(INTERVAL),
            "-o", str(out), *extra]


def openai_args(port: int) -> list[str]:
    return ["--reasoner", "openai", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "stub",
            "--reasoner-opt", "max_retries=0", "--reasoner-opt", "timeout=5"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def rows(path: Path) -> int:
    return len([line for line in path.read_text().splitlines() if line.strip()])


class _Chat(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server = self.server
        with server.lock:
            content = ANSWERS[server.hits % len(ANSWERS)]
            server.hits += 1
        body = json.dumps({
            "id": "c", "object": "chat.completion", "created": 0, "model": "stub",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_chat(port: int) -> ThreadingHTTPServer:
    """A minimal OpenAI-compatible chat-completions server on 127.0.0.1:port."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _Chat)
    server.hits, server.lock = 0, threading.Lock()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# -- item 2 and 13: reasoner failures never look successful; counts that do not overstate ---------


def test_reasoner_down_fails_the_benchmark_and_a_rerun_redoes_it(world, tmp_path, run_cli):
    names = names_of(world)[:2]
    port = closed_port()
    out = tmp_path / "run"
    args = bench(world, out, *openai_args(port), "--sequences", ",".join(names))
    code, _, err = run_cli(args)
    assert code == 1, err
    for name in names:
        assert f"failed {name}: the reasoner failed on 3 of 3 calls (3 error)" in err
    assert "cannot connect" in err and "rerun the same command" in err
    failures = json.loads((out / "failures.json").read_text())
    assert [(f["sequence"], f["reasoning_failures"]) for f in failures] == [(n, {"error": 3}) for n in names]
    assert not (out / "report.json").exists()  # no backbone-only numbers under the reasoner's name
    for name in names:  # what ran is kept for inspection, but it is not complete
        assert rows(out / "results" / f"{name}.txt") == FRAMES
        assert json.loads((out / "timings" / f"{name}.json").read_text())["errors"] == 3

    # Still down, but the user accepts it: the same sequences are kept, the failures counted.
    code, _, err = run_cli([*args, "--on-reasoner-error", "continue"])
    assert code == 0, err
    assert "2 already complete" in err and f"reasoning calls failed on 2 sequence(s) ({', '.join(names)})" in err
    reasoning = json.loads((out / "report.json").read_text())["reasoning"]
    assert reasoning["on_reasoner_error"] == "continue" and reasoning["errors"] == 6
    assert reasoning["sequences_with_failures"] == {n: {"error": 3, "timeout": 0, "unusable": 0, "calls": 3} for n in names}

    server = serve_chat(port)  # the server is up: the default mode redoes both
    try:
        code, _, err = run_cli(args)
    finally:
        server.shutdown()
    assert code == 0, err
    assert "2 run, 0 already complete" in err
    # Per sequence: updated, re-applied (same text again), reverted: 2 changes, not 3 "updates".
    assert "6 reasoning calls: 4 text changes (2 updates, 2 reverts), 2 re-applied the text in use, 0 failed" in err
    for name in names:
        events = [json.loads(line) for line in (out / "reasoning" / f"{name}.jsonl").read_text().splitlines()]
        assert [e["status"] for e in events] == ["updated", "reapplied", "reverted"]
        changed = [e["text_applied"] != e["text_before"] for e in events]
        assert changed == [True, False, True]
    report = json.loads((out / "report.json").read_text())
    reasoning = report["reasoning"]
    assert (reasoning["reasoning_calls"], reasoning["text_changes"], reasoning["updates"], reasoning["reverts"],
            reasoning["reapplied"], reasoning["errors"]) == (6, 4, 2, 2, 2, 0)
    assert reasoning["sequences_with_failures"] == {} and not (out / "failures.json").exists()


def test_track_exits_non_zero_when_every_reasoning_call_failed(world, tmp_path, run_cli):
    frames = world / "test" / names_of(world)[0] / "imgs"
    out = tmp_path / "track"
    code, _, err = run_cli(["track", frames, "--backbone", "kcf", "--interval", str(INTERVAL), "--no-video", "-o", out,
                            *openai_args(closed_port())])
    assert code == 1, err
    assert "reasoning failed on frame 5 (error)" in err
    assert "every reasoning call failed (3 of 3)" in err
    assert rows(out / "boxes.txt") == FRAMES  # the backbone's boxes are still written


# -- item 3 and item 5's last clause: absolute root, dataset fingerprint, short results --------


def test_relative_root_swapped_dataset_and_cut_results(world, tmp_path, run_cli):
    first, other = tmp_path / "a", tmp_path / "b"
    shutil.copytree(world, first / "data")
    make_world(other / "data", seed=2)
    out = tmp_path / "run"
    args = bench("data", out, "--reasoner", "none", "--no-eval")
    code, _, err = run_cli([*args, "--backbone-opt", "bogus=1"], cwd=first)  # a typo stops the run ...
    assert code == 2 and "bogus" in err
    code, _, err = run_cli(args, cwd=first)  # ... and never blocks the corrected command
    assert code == 0, err
    saved = (out / "config.yaml").read_text()
    assert f"root: {first / 'data'}" in saved and "dataset_fingerprint: sha256:" in saved

    names = names_of(world)
    (out / "results" / f"{names[0]}.txt").write_text("")  # an empty result file
    cut = out / "results" / f"{names[1]}.txt"
    cut.write_text("".join(cut.read_text().splitlines(keepends=True)[:5]))  # a cut one
    code, _, err = run_cli(args, cwd=first)
    assert code == 0, err
    assert f"2 run, {SEQUENCES - 2} already complete" in err
    assert rows(out / "results" / f"{names[0]}.txt") == FRAMES and rows(cut) == FRAMES
    before = snapshot(out)

    code, _, err = run_cli(args, cwd=other)  # the same relative --root from another folder
    assert code == 2 and "another configuration" in err and "'root'" in err and "Traceback" not in err
    assert snapshot(out) == before

    shutil.rmtree(first / "data")
    shutil.copytree(other / "data", first / "data")  # other data at the same absolute path
    code, _, err = run_cli(args, cwd=first)
    assert code == 2 and "holds results of other data" in err and "dataset fingerprint" in err
    assert snapshot(out) == before


# -- item 4: track -o DIR --------------------------------------------------------------------


def test_track_output_folder_is_replaced_only_by_a_complete_run(world, tmp_path, run_cli):
    sequence = world / "test" / names_of(world)[0]
    out = tmp_path / "out"
    track = ["track", sequence / "imgs", "--reasoner", "none", "--no-video", "-o", out]

    code, _, err = run_cli([*track, "--backbone", "crst"])
    assert code == 2 and "crst" in err and "Traceback" not in err
    assert not out.exists()  # nothing written before every component is built

    code, _, err = run_cli([*track, "--backbone", "kcf"])
    assert code == 0, err
    before = snapshot(out)
    assert set(before) == {"boxes.txt", "reasoning.jsonl", "config.yaml"}

    code, _, err = run_cli([*track, "--backbone", "kcf", "--text", "another text"])
    assert code == 2 and "is not empty" in err and "--overwrite" in err
    assert snapshot(out) == before

    broken = tmp_path / "broken"
    shutil.copytree(sequence, broken)
    (broken / "imgs" / "00012.png").write_bytes(b"not a png")  # fails part-way through the run
    code, _, err = run_cli(["track", broken / "imgs", "--reasoner", "none", "--no-video", "-o", out, "--backbone", "kcf",
                            "--overwrite"])
    assert code != 0 and "00012.png" in err and "Traceback" not in err
    assert snapshot(out) == before  # the old run is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "out"]  # no partial folder left

    slow = start(["track", sequence / "imgs", "--no-video", "-o", out, "--backbone", "kcf", "--overwrite", *SLOW])
    try:
        wait_for(lambda: any(p.name.startswith(".out.partial-") for p in tmp_path.iterdir()), 60, slow, "partial folder")
        slow.send_signal(signal.SIGTERM)  # interrupted part-way
        _, err = slow.communicate(timeout=30)
    finally:
        if slow.poll() is None:
            slow.kill()
    assert slow.returncode == 143 and "stopped by SIGTERM" in err and "is as it was" in err
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "out"]

    code, _, err = run_cli([*track, "--backbone", "kcf", "--text", "another text", "--overwrite"])
    assert code == 0, err
    assert "another text" in (out / "config.yaml").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "out"]


# -- item 6: signals; item 7: one folder, two processes ----------------------------------------


def start(args: list, cwd: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ, COLUMNS="200", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "reasoningtrack.cli", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def descendants(pid: int) -> set[int]:
    """Live (not zombie) processes below ``pid``, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("State", "").strip().startswith("Z"):
            continue
        parents[int(entry.name)] = int(fields.get("PPid", "0"))
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        return not Path(f"/proc/{pid}/status").read_text().split("State:")[1].strip().startswith("Z")
    except (OSError, IndexError):
        return False


def wait_for(predicate, timeout: float, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None:
            pytest.fail(f"the run ended (exit {process.returncode}) before {what}:\n{process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"no {what} within {timeout} s")
        time.sleep(0.05)


SLOW = ("--reasoner", "heuristic", "--reasoner-opt", "latency=0.15", "--interval", "2")  # 9 calls: ~1.4 s per sequence


def test_sigterm_and_sigkill_stop_every_worker_and_leave_a_resumable_folder(world, tmp_path, run_cli):
    out = tmp_path / "run"
    args = [*bench(world, out, "--workers", "2"), *SLOW]
    victim = start(args)
    try:
        workers: set[int] = set()
        wait_for(lambda: len(workers.update(descendants(victim.pid)) or workers) >= 3, 60, victim, "worker processes")
        wait_for(lambda: any((out / "results").glob("*.txt")), 60, victim, "finished sequence")
        workers |= descendants(victim.pid)
        victim.send_signal(signal.SIGTERM)
        _, err = victim.communicate(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    assert victim.returncode == 143, err
    assert "stopped by SIGTERM" in err and "rerun the same command to resume" in err
    deadline = time.monotonic() + 15
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if alive(p)], "worker processes outlived the run"
    assert not (out / ".lock").exists() and not list((out / ".claims").glob("*"))
    finished = {p.stem for p in (out / "results").glob("*.txt")}
    assert 1 <= len(finished) < SEQUENCES

    code, _, err = run_cli([*bench(world, out), *SLOW])  # resumes (in-process): what finished is kept, the rest is run
    assert code == 0, err
    assert f"{len(finished)} already complete" in err and (out / "report.json").exists()
    assert all(rows(out / "results" / f"{n}.txt") == FRAMES for n in names_of(world))

    killed = start([*bench(world, tmp_path / "killed", "--workers", "2"), *SLOW])
    try:
        workers = set()
        wait_for(lambda: len(workers.update(descendants(killed.pid)) or workers) >= 3, 60, killed, "worker processes")
        time.sleep(1.0)
        workers |= descendants(killed.pid)
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
    finally:
        if killed.poll() is None:
            killed.kill()
    deadline = time.monotonic() + 15
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if alive(p)], "worker processes outlived a parent killed with SIGKILL"


def test_second_process_is_refused_and_shared_processes_split_the_work(world, tmp_path, run_cli):
    out = tmp_path / "run"
    args = [*bench(world, out, "--no-eval"), *SLOW]
    holder = start(args)
    try:
        wait_for(lambda: (out / ".lock").is_file() and (out / ".lock").read_text().strip(), 60, holder, "lock")
        code, _, err = run_cli(args)
        assert code == 2 and f"is in use by pid {holder.pid} on host {socket.gethostname()}" in err
        assert "--shared" in err and "Traceback" not in err
        holder.send_signal(signal.SIGTERM)  # an inline run stops cleanly too
        _, err = holder.communicate(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert holder.returncode == 143, err
    assert not (out / ".lock").exists()

    shared = tmp_path / "shared"
    both = [start([*bench(world, shared), *SLOW, "--shared"]) for _ in range(2)]
    outputs = []
    for process in both:
        try:
            outputs.append(process.communicate(timeout=120)[1])
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, outputs[-1]
    ran = [int(text.split(" sequences: ")[1].split(" run,")[0]) for text in outputs]
    assert sum(ran) == SEQUENCES, outputs  # every sequence run exactly once between the two
    pids = {json.loads(p.read_text())["worker_pid"] for p in (shared / "timings").glob("*.json")}
    assert pids <= {p.pid for p in both} and len(list((shared / "timings").glob("*.json"))) == SEQUENCES
    assert all(rows(shared / "results" / f"{n}.txt") == FRAMES for n in names_of(world))
    assert not list((shared / ".claims").glob("*")) and not (shared / ".lock").exists()
    assert (shared / "report.json").is_file()  # the last of the two to end evaluated
