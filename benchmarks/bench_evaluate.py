"""Evaluation speed: all seven LaSOT trackers x 280 test sequences, vectorised vs per-frame Python.

    python benchmarks/bench_evaluate.py [--shared-data DIR] [--protocol lasot-matlab] [--trackers ATOM,DiMP50]

Both sides start from text files and include parsing: the vectorised side loads the toolkit's
annotations with the LaSOT loader and every result file with ``evaluation.load_results``, then
scores with ``evaluate_trackers``; the straightforward side reads every file line by line with
``float`` and scores frame by frame (``evaluation.reference``), as a plain Python evaluator does.
Both average per-sequence curves with the same ``aggregate`` (280 rows; not the hot part), and the
script asserts that every sequence's counts and every reported number are identical.

The archives in ``shared/data/lasot`` are extracted to a temporary folder first (not timed).
DESIGN.md section 7 (2 cores): pytracking's analysis 9-11 s, got10k-toolkit 12-14 s,
pysot-toolkit 42-51 s, a plain per-frame loop 40-44 s; the goal is ~1 s and >= 50x.
"""

from __future__ import annotations

import argparse
import os
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

from reasoningtrack.datasets import DATASETS
from reasoningtrack.evaluation import aggregate, evaluate_trackers, get_protocol
from reasoningtrack.evaluation.reference import reference_read_boxes, reference_sequence_curves

TRACKERS = ("ATOM", "DiMP50", "SiamRPN++", "SiamBAN", "Ocean-online", "SiamDW", "C-RPN")


def default_shared_data() -> Path:
    env = os.environ.get("REASONINGTRACK_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


def extract(shared: Path, dest: Path, trackers: list[str]) -> tuple[Path, Path]:
    with tarfile.open(shared / "lasot" / "lasot_test_annos.tar.xz") as tar:
        tar.extractall(dest, filter="data")
    for t in trackers:
        with tarfile.open(shared / "lasot" / "raw_results" / f"{t}.tar.xz") as tar:
            tar.extractall(dest, filter="data")
    return dest / "lasot_test_annos", dest / "LASOT"


def vectorised(annos: Path, results: Path, trackers: list[str], protocol: str):
    dataset = DATASETS.build("lasot", root=annos)
    return evaluate_trackers(dataset, {t: results / t for t in trackers}, protocol)


def per_frame(annos: Path, results: Path, trackers: list[str], protocol: str, names: list[str]):
    p = get_protocol(protocol, "lasot")
    gts, absents = {}, {}
    for name in names:
        gts[name] = reference_read_boxes(annos / f"{name}.txt")
        absents[name] = [line.strip() == "1" for line in (annos / "absent" / f"{name}.txt").read_text().splitlines() if line.strip()]
    out = {}
    for t in trackers:
        curves = {}
        for name in names:
            pred = reference_read_boxes(results / t / f"{name}.txt")
            curves[name] = reference_sequence_curves(pred, gts[name], absents[name], p, name)
        out[t] = curves
    return out, p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared-data", type=Path, default=default_shared_data())
    ap.add_argument("--protocol", default="lasot-matlab")
    ap.add_argument("--trackers", default=",".join(TRACKERS), help="comma-separated subset of the seven")
    ap.add_argument("--repeats", type=int, default=3, help="vectorised runs (the best is reported)")
    args = ap.parse_args()
    trackers = [t for t in args.trackers.split(",") if t]

    with tempfile.TemporaryDirectory() as tmp:
        print(f"extracting {len(trackers)} trackers' results to {tmp} ...", flush=True)
        annos, results = extract(args.shared_data, Path(tmp), trackers)
        import pandas  # noqa: F401  (optional fast parser: import it outside the timing, as a long-running process would)

        fast_times, fast_cpu = [], []
        for _ in range(max(1, args.repeats)):
            start, cpu = time.perf_counter(), time.process_time()
            report = vectorised(annos, results, trackers, args.protocol)
            fast_times.append(time.perf_counter() - start)
            fast_cpu.append(time.process_time() - cpu)
        fast = min(fast_times)
        names = report.sequences
        frames = sum(len(reference_read_boxes(annos / f"{n}.txt")) for n in names)
        print(
            f"vectorised: {fast:.2f} s wall (best of {len(fast_times)}: {', '.join(f'{t:.2f}' for t in fast_times)}), "
            f"{min(fast_cpu):.2f} s CPU",
            flush=True,
        )

        start, cpu = time.perf_counter(), time.process_time()
        slow_curves, p = per_frame(annos, results, trackers, args.protocol, names)
        slow, slow_cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"per-frame Python: {slow:.2f} s wall, {slow_cpu:.2f} s CPU", flush=True)

        for t in trackers:
            fast_report = report.trackers[t]
            ref = aggregate(slow_curves[t], p)
            for name in names:
                # the vectorised report keeps only reported values per sequence: compare via curves
                got = aggregate([slow_curves[t][name]], p)
                assert got.as_dict() == fast_report.per_sequence[name].as_dict(), (t, name)
            assert ref.as_dict() == fast_report.overall.as_dict(), (t, ref.as_dict(), fast_report.overall.as_dict())
            assert np.array_equal(ref.success, fast_report.overall.success)
        print(f"identical numbers: {len(trackers)} trackers x {len(names)} sequences ({frames} frames each)")
        print(f"{'tracker':14s} {'SR':>7s} {'PR':>7s} {'NPR':>7s}")
        for t in report.ranked():
            o = t.overall
            print(f"{t.name:14s} {o.SR:7.2f} {o.PR:7.2f} {o.NPR:7.2f}")
        print(
            f"speed-up: {slow / fast:.1f}x wall (vectorised {fast:.2f} s vs per-frame {slow:.2f} s), "
            f"{slow_cpu / min(fast_cpu):.1f}x CPU time; protocol {args.protocol}, {os.cpu_count()} cores"
        )


if __name__ == "__main__":
    main()
