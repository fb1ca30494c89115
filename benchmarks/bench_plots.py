"""Plot drawing: a fresh figure per spec (the previous path) vs reused figures (``plot_report``).

    python benchmarks/bench_plots.py [--shared-data DIR] [--rounds 3] [--workers N] [--cli]

The report is the LaSOT example's: seven trackers x 280 test sequences (``shared/data/lasot``,
extracted to a temporary folder and evaluated once, not timed), all figures (3 overall + 14
per-attribute = 17) in PNG and PDF. Paths, each into a fresh folder, alternating within every
round after one untimed warm-up of each (imports, font cache):

- ``fresh 1``: ``render_figure`` per spec in this process (a new figure per spec: the
  straightforward reference the tests compare with);
- ``fresh N``: the same in N forked processes (what ``plot_report`` did before reuse);
- ``reuse 1``: ``plot_report(workers=1)``: one figure per layout, its frame kept as pixels;
- ``reuse N``: ``plot_report()``'s default (N worker processes, each sent the next figure when
  it is done with one).

Prints the medians of the wall time and of the CPU time (this process + its children), the
ratios, and checks that every path wrote the same files byte for byte. With ``--cli`` it also
times the README's whole command in fresh processes (warm parsed-table cache): ``evaluate ...
--plots DIR`` against the same command without ``--plots``. On a machine shared with other
jobs wall times are noisy: read the medians and the load average printed with them.
"""

from __future__ import annotations

import argparse
import filecmp
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
from bench_evaluate_cli import timed  # noqa: E402


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _fresh(specs, out: Path, workers: int) -> list[Path]:
    """A new figure per spec, in ``workers`` forked processes (1: here)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from reasoningtrack.evaluation.plots import render_figure

    out.mkdir(parents=True, exist_ok=True)
    if workers == 1:
        return [p for spec in specs for p in render_figure(spec, out)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return [p for paths in pool.map(render_figure, specs, [out] * len(specs)) for p in paths]


def _report(samples: dict[str, list[tuple[float, float]]], rounds: int) -> dict[str, tuple[float, float]]:
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in samples.items()}
    print(f"medians of {rounds} alternating rounds, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:")
    for label, (wall, cpu) in med.items():
        print(f"  {label:16s} {wall:6.2f} s wall {cpu:6.2f} s CPU")
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared-data", type=Path, default=default_shared_data())
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None, help="processes of the parallel paths (default: plot_report's)")
    ap.add_argument("--cli", action="store_true", help="also time `evaluate ... --plots` end to end in fresh processes")
    args = ap.parse_args()

    from reasoningtrack.datasets import DATASETS
    from reasoningtrack.evaluation import evaluate_trackers
    from reasoningtrack.evaluation.plots import default_plot_workers, figure_specs, plot_report

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        print(f"extracting the LaSOT results of {len(TRACKERS)} trackers to {tmp} ...", flush=True)
        annos, results = extract(args.shared_data, tmp_path / "data", list(TRACKERS))
        report = evaluate_trackers(DATASETS.build("lasot", root=annos), {t: results / t for t in TRACKERS})
        specs = figure_specs(report)
        n = args.workers or default_plot_workers(len(specs))
        paths = {
            "fresh 1": lambda out: _fresh(specs, out, 1),
            f"fresh {n}": lambda out: _fresh(specs, out, n),
            "reuse 1": lambda out: plot_report(report, out, workers=1),
            f"reuse {n}": lambda out: plot_report(report, out, workers=n),
        }
        for label, draw in paths.items():  # warm-up: imports, font cache
            draw(tmp_path / f"warm-{label}")
        samples: dict[str, list[tuple[float, float]]] = {k: [] for k in paths}
        for r in range(args.rounds):
            for label, draw in paths.items():
                out = tmp_path / f"round{r}-{label}"
                cpu, start = _cpu(), time.perf_counter()
                written = draw(out)
                wall, used = time.perf_counter() - start, _cpu() - cpu
                samples[label].append((wall, used))
                print(f"round {r + 1}: {label:8s} {wall:6.2f} s wall {used:6.2f} s CPU ({len(written)} files)", flush=True)
        first = tmp_path / f"round0-{next(iter(paths))}"
        names = sorted(p.name for p in first.iterdir())
        same = all(
            filecmp.cmp(first / name, tmp_path / f"round{r}-{label}" / name, shallow=False)
            and sorted(p.name for p in (tmp_path / f"round{r}-{label}").iterdir()) == names
            for r in range(args.rounds) for label in paths for name in names
        )
        print(f"{len(specs)} figures, {len(names)} files (PNG+PDF); byte-identical across all paths and rounds: {same}")
        med = _report(samples, args.rounds)
        base = med[f"fresh {n}"]
        for label, (wall, cpu) in med.items():
            print(f"  {label:16s} {base[0] / wall:5.2f}x wall {base[1] / cpu:5.2f}x CPU vs fresh {n} (the previous default)")
        if not same:
            raise SystemExit("the paths wrote different files")
        if args.cli:
            _time_cli(tmp_path, annos, results, args.rounds)


def _time_cli(tmp_path: Path, annos: Path, results: Path, rounds: int) -> None:
    env = {**os.environ, "REASONINGTRACK_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "120"}
    cli = [sys.executable, "-m", "reasoningtrack.cli", "evaluate", "--dataset", "lasot", "--root", str(annos)]
    for t in TRACKERS:
        cli += ["--results", f"{t}={results / t}"]
    subprocess.run(cli, env=env, check=True, stdout=subprocess.DEVNULL)  # fills the cache
    commands = {"evaluate": cli, "evaluate --plots": cli + ["--plots", str(tmp_path / "cli-plots")]}
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    for r in range(rounds):
        for label, cmd in commands.items():
            wall, cpu = timed(cmd, env)
            samples[label].append((wall, cpu))
            print(f"round {r + 1}: {label:16s} {wall:6.2f} s wall {cpu:6.2f} s CPU", flush=True)
    med = _report(samples, rounds)
    (w0, c0), (w1, c1) = med.values()
    print(f"  --plots adds {w1 - w0:.2f} s wall, {c1 - c0:.2f} s CPU to the command")


if __name__ == "__main__":
    main()
