"""Result-file reading speed: all seven LaSOT trackers x 280 raw result files (4.8 M rows).

    python benchmarks/bench_results_io.py [--shared-data DIR] [--repeat 2]

Extracts the archives of ``shared/data/lasot/raw_results`` to a temporary folder, then times, in
one run on the same files: ``read_boxes`` (with each of its converters: pyarrow, pandas, numpy
only), ``numpy.loadtxt(delimiter=",")`` and a straightforward per-line Python reader
(``[float(v) for v in line.split(",")]``). Checks that every method gives identical arrays and
prints seconds (best of ``--repeat``) and the ratio to ``read_boxes``' default.
"""

from __future__ import annotations

import argparse
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

from reasoningtrack import boxfiles as R


def python_reader(path: Path) -> np.ndarray:
    rows = [[float(v) for v in line.split(",")] for line in path.read_text().splitlines() if line.strip()]
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def loadtxt_reader(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)


def with_readers(readers: tuple[str, ...]):
    def read(path: Path) -> np.ndarray:
        saved = R._FAST_READERS
        R._FAST_READERS = readers
        try:
            return R.read_boxes(path)
        finally:
            R._FAST_READERS = saved

    return read


def timed(reader, files: list[Path], repeat: int) -> tuple[float, list[np.ndarray]]:
    best, out = float("inf"), []
    for _ in range(repeat):
        start = time.perf_counter()
        out = [reader(f) for f in files]
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared-data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    archives = sorted((args.shared_data / "lasot" / "raw_results").glob("*.tar.xz"))
    if not archives:
        raise SystemExit(f"no LaSOT raw results under {args.shared_data / 'lasot' / 'raw_results'}")
    with tempfile.TemporaryDirectory() as tmp:
        for archive in archives:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
        files = sorted(Path(tmp).rglob("*.txt"))
        size = sum(f.stat().st_size for f in files) / 1e6
        # warm the page cache and the optional imports
        for f in files:
            f.read_bytes()
        R.read_boxes(max(files, key=lambda f: f.stat().st_size))
        methods = {
            "read_boxes (default)": R.read_boxes,
            "read_boxes, pandas": with_readers(("pandas",)),
            "read_boxes, numpy only": with_readers(()),
            "numpy.loadtxt": loadtxt_reader,
            "per-line Python": python_reader,
        }
        timings, reference = {}, None
        for name, reader in methods.items():
            seconds, arrays = timed(reader, files, args.repeat)
            if reference is None:
                reference = arrays
            else:
                same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(arrays, reference))
                if not same:
                    raise SystemExit(f"{name} gives other numbers than read_boxes")
            timings[name] = seconds
        rows = sum(len(a) for a in reference)
    base = timings["read_boxes (default)"]
    print(f"{len(files)} files, {rows} rows, {size:.0f} MB; best of {args.repeat}; identical arrays from every method")
    for name, seconds in timings.items():
        print(f"  {name:24s} {seconds:7.2f} s   {seconds / base:6.1f}x the time of read_boxes")


if __name__ == "__main__":
    main()
