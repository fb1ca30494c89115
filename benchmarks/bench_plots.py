"""Plot drawing: ``plot_report(workers=1)`` (one process) vs the default workers (one per core).

    python benchmarks/bench_plots.py [--shared-data DIR] [--rounds 3] [--workers N]

The report is the LaSOT example's: seven trackers x 280 test sequences (``shared/data/lasot``,
extracted to a temporary folder and evaluated once, not timed), all figures (3 overall + 14
per-attribute = 17) in PNG and PDF. Rounds alternate the two paths, each into a fresh folder,
after one untimed warm-up of each (matplotlib's import and font cache). Prints the medians of the
wall time and of the CPU time (this process + its worker processes), the ratio, and checks that
both paths wrote the same files byte for byte. Wall time is what parallel drawing improves; on a
machine shared with other jobs it is noisy, so read the medians.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_evaluate import TRACKERS, default_shared_data, extract  # noqa: E402


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared-data", type=Path, default=default_shared_data())
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None, help="parallel path's processes (default: plot_report's)")
    args = ap.parse_args()

    from reasoningtrack.datasets import DATASETS
    from reasoningtrack.evaluation import evaluate_trackers
    from reasoningtrack.evaluation.plots import default_plot_workers, figure_specs, plot_report

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        print(f"extracting the LaSOT results of {len(TRACKERS)} trackers to {tmp} ...", flush=True)
        annos, results = extract(args.shared_data, tmp_path / "data", list(TRACKERS))
        report = evaluate_trackers(DATASETS.build("lasot", root=annos), {t: results / t for t in TRACKERS})
        n_figures = len(figure_specs(report))
        workers = args.workers or default_plot_workers(n_figures)
        paths = {"1 process": 1, f"{workers} workers": args.workers}
        for label, w in paths.items():  # warm-up: imports, font cache
            plot_report(report, tmp_path / f"warm-{w}", workers=w)
        samples: dict[str, list[tuple[float, float]]] = {k: [] for k in paths}
        for r in range(args.rounds):
            for label, w in paths.items():
                out = tmp_path / f"round{r}-{w}"
                cpu, start = _cpu(), time.perf_counter()
                written = plot_report(report, out, workers=w)
                wall, used = time.perf_counter() - start, _cpu() - cpu
                samples[label].append((wall, used))
                print(f"round {r + 1}: {label:11s} {wall:6.2f} s wall {used:6.2f} s CPU ({len(written)} files)", flush=True)
        first, second = (tmp_path / f"round0-{w}" for w in paths.values())
        names = sorted(p.name for p in first.iterdir())
        same = all(filecmp.cmp(first / n, second / n, shallow=False) for n in names)
        print(f"{n_figures} figures, {len(names)} files (PNG+PDF); byte-identical between the paths: {same}")
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in samples.items()}
        print(f"medians of {args.rounds} alternating rounds, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:")
        for label, (wall, cpu) in med.items():
            print(f"  {label:11s} {wall:6.2f} s wall {cpu:6.2f} s CPU")
        (w1, c1), (wn, cn) = med.values()
        print(f"  speed-up of the parallel path: {w1 / wn:.2f}x wall (CPU ratio {c1 / cn:.2f}x)")
        if not same:
            raise SystemExit("the two paths wrote different files")


if __name__ == "__main__":
    main()
