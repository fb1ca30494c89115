"""`reasoningtrack evaluate` end to end, from fresh processes: cold, warm cache, and a per-frame loop.

    python benchmarks/bench_evaluate_cli.py [--shared-data DIR] [--rounds 3] [--trackers ATOM,DiMP50,...]
                                            [--no-per-frame]

Seven trackers x 280 LaSOT test sequences (the archives in ``shared/data/lasot``, extracted to a
temporary folder first, not timed). Each round runs, in this order and each in a new process:

- ``cold``: ``reasoningtrack evaluate ... --no-cache --json`` (parses and scores every text file);
- ``warm``: the same command with the cache (``REASONINGTRACK_CACHE_DIR`` in the temporary
  folder, filled by one untimed run before the rounds): parsed ground truths, and each unchanged
  result file's scores (``evaluation/scorecache.py``);
- ``one-changed``: the warm command after the first tracker's 280 result files got a new
  modification time (as after re-running that tracker): those are parsed and scored again, the
  other trackers' come from the cache;
- ``per-frame``: a process that reads every file line by line with ``float`` and scores frame by
  frame in Python (``benchmarks/bench_evaluate.py``'s loop, ``evaluation.reference``), then
  writes the same numbers.

Times are the wall clock and the CPU time (user + system of the child, ``RUSAGE_CHILDREN``) of
each process, imports included. The script prints the medians over the rounds, the ratios, and
asserts that every tracker's overall and per-sequence PR/NPR/SR are identical in all three. On a
machine shared with other jobs the wall times are noise; CPU time is the fairer figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_evaluate import TRACKERS, default_shared_data, extract  # noqa: E402


def per_frame_main(annos: Path, results: Path, trackers: list[str], out: Path) -> None:
    """The per-frame Python evaluator (child process): writes {tracker: {overall, per_sequence}}."""
    from bench_evaluate import per_frame

    from reasoningtrack.evaluation import aggregate

    names = [line.strip() for line in (annos.parent / "names.txt").read_text().splitlines() if line.strip()]
    curves, p = per_frame(annos, results, trackers, "lasot-matlab", names)
    payload = {
        t: {
            "overall": aggregate(curves[t], p).as_dict(),
            "per_sequence": {n: aggregate([curves[t][n]], p).as_dict() for n in names},
        }
        for t in trackers
    }
    out.write_text(json.dumps(payload))


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def numbers(path: Path) -> dict:
    data = json.loads(path.read_text())
    trackers = data.get("trackers", data)
    return {t: {"overall": v["overall"], "per_sequence": v["per_sequence"]} for t, v in trackers.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared-data", type=Path, default=default_shared_data())
    ap.add_argument("--trackers", default=",".join(TRACKERS), help="comma-separated subset of the seven")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-per-frame", action="store_true", help="skip the per-frame loop (slow: ~40 s per round)")
    args = ap.parse_args()
    trackers = [t for t in args.trackers.split(",") if t]

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        print(f"extracting {len(trackers)} trackers' results to {tmp} ...", flush=True)
        annos, results = extract(args.shared_data, tmp_path / "data", trackers)
        env = {**os.environ, "REASONINGTRACK_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "120"}
        cli = [sys.executable, "-m", "reasoningtrack.cli", "evaluate", "--dataset", "lasot", "--root", str(annos)]
        for t in trackers:
            cli += ["--results", f"{t}={results / t}"]
        commands = {
            "cold": cli + ["--no-cache", "--json", str(tmp_path / "cold.json")],
            "warm": cli + ["--json", str(tmp_path / "warm.json")],
            "one-changed": cli + ["--json", str(tmp_path / "one-changed.json")],
        }
        changed = sorted((results / trackers[0]).rglob("*.txt"))
        subprocess.run(commands["warm"], env=env, check=True, stdout=subprocess.DEVNULL)  # fills the cache
        names = list(numbers(tmp_path / "warm.json")[trackers[0]]["per_sequence"])
        (annos.parent / "names.txt").write_text("\n".join(names) + "\n")
        if not args.no_per_frame:
            commands["per-frame"] = [
                sys.executable, str(Path(__file__).resolve()), "--per-frame-child", str(annos), str(results),
                ",".join(trackers), str(tmp_path / "per-frame.json"),
            ]
        samples: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
        for r in range(args.rounds):
            for kind, cmd in commands.items():
                if kind == "one-changed":  # a new time, out of the cache's racy window
                    stamp = time.time_ns() - 60 * 10**9 + r * 10**6
                    for f in changed:
                        os.utime(f, ns=(stamp, stamp))
                wall, cpu = timed(cmd, env)
                samples[kind].append((wall, cpu))
                print(f"round {r + 1}: {kind:9s} {wall:7.2f} s wall {cpu:7.2f} s CPU", flush=True)

        reference = numbers(tmp_path / "warm.json")
        for kind in commands:
            got = numbers(tmp_path / f"{kind}.json")
            assert got == reference, f"{kind}: numbers differ from the warm run"
        print(f"identical numbers (overall and per sequence, PR/NPR/SR): {' = '.join(commands)}; "
              f"{len(trackers)} trackers x {len(names)} sequences")
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in samples.items()}
        print(f"medians of {args.rounds} alternating rounds, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:")
        for kind, (wall, cpu) in med.items():
            print(f"  {kind:9s} {wall:7.2f} s wall {cpu:7.2f} s CPU")
        if "per-frame" in med:
            for kind in ("cold", "warm", "one-changed"):
                print(f"  per-frame / {kind}: {med['per-frame'][0] / med[kind][0]:6.1f}x wall "
                      f"{med['per-frame'][1] / med[kind][1]:6.1f}x CPU")
        for kind in ("cold", "one-changed"):
            print(f"  {kind} / warm: {med[kind][0] / med['warm'][0]:.2f}x wall {med[kind][1] / med['warm'][1]:.2f}x CPU")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--per-frame-child":
        per_frame_main(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4].split(","), Path(sys.argv[5]))
    else:
        main()
