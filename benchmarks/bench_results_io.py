"""Result-file reading speed: all seven LaSOT trackers x 280 raw result files (4.8 M rows).

    python benchmarks/bench_results_io.py [--shared-data DIR] [--repeat 2]

Extracts the archives of ``shared/data/lasot/raw_results`` to a temporary folder, then times, in
one run on the same files: ``read_boxes`` (with each of its converters: pyarrow, pandas, numpy
only), ``numpy.loadtxt(delimiter=",")`` and a straightforward per-line Python reader
(``[float(v) for v in line.split(",")]``); also ``read_boxes_many`` (what ``evaluate`` runs: one
tracker's files joined into one block and converted in one call, parsed-table cache off) and, when
installed, polars' CSV reader (``polars.read_csv``, not a dependency: its import alone is ~0.5 s,
printed). Checks that every method gives identical arrays and prints seconds (best of
``--repeat``) and the ratio to ``read_boxes``' default. Last, the converters alone on what
``read_boxes_many`` hands them (each tracker's files joined into one block): pyarrow, pandas,
polars, best of ``--repeat``, identical arrays.
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


def polars_reader():
    import polars as pl

    schema = {f"c{i}": pl.Float64 for i in range(4)}

    def read(path: Path) -> np.ndarray:
        frame = pl.read_csv(path, has_header=False, new_columns=list(schema), schema_overrides=schema)
        return frame.to_numpy().astype(np.float64, copy=False).reshape(-1, 4)

    return read


def batched(files: list[Path]):
    """``read_boxes_many`` per tracker folder (as evaluate reads them), no cache."""
    folders: dict[Path, list[int]] = {}
    for i, f in enumerate(files):
        folders.setdefault(f.parent, []).append(i)
    out: list[np.ndarray | None] = [None] * len(files)
    for indices in folders.values():
        for i, array in zip(indices, R.read_boxes_many([files[i] for i in indices], cache_dir=None)):
            out[i] = array
    return out


def block_converters() -> dict:
    """Each library's CSV reader on one in-memory block of ``x,y,w,h`` rows (float64)."""
    import io

    out = {}
    try:
        import pyarrow as pa
        import pyarrow.csv as pc

        def arrow(block: bytes) -> np.ndarray:
            table = pc.read_csv(pa.BufferReader(block), read_options=pc.ReadOptions(autogenerate_column_names=True),
                                convert_options=pc.ConvertOptions(column_types={f"f{i}": pa.float64() for i in range(4)}))
            return np.column_stack([table.column(i).to_numpy() for i in range(4)])

        out["pyarrow.csv.read_csv"] = arrow
    except ImportError:
        pass
    try:
        import pandas as pd

        out["pandas.read_csv (C engine)"] = lambda block: pd.read_csv(
            io.BytesIO(block), header=None, dtype=np.float64, engine="c").to_numpy()
    except ImportError:
        pass
    try:
        import polars as pl

        schema = {f"c{i}": pl.Float64 for i in range(4)}
        out["polars.read_csv"] = lambda block: pl.read_csv(
            io.BytesIO(block), has_header=False, new_columns=list(schema), schema_overrides=schema).to_numpy()
    except ImportError:
        pass
    return out


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
        try:
            start = time.perf_counter()
            methods["polars.read_csv"] = polars_reader()
            print(f"polars: import {time.perf_counter() - start:.2f} s (not timed below)")
        except ImportError:
            print("polars: not installed, skipped")
        timings, reference = {}, None
        batch = {"read_boxes_many (evaluate)": batched}
        for name, reader in {**methods, **batch}.items():
            if name in batch:
                best = float("inf")
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    arrays = reader(files)
                    best = min(best, time.perf_counter() - start)
                seconds = best
            else:
                seconds, arrays = timed(reader, files, args.repeat)
            if reference is None:
                reference = arrays
            else:
                same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(arrays, reference))
                if not same:
                    raise SystemExit(f"{name} gives other numbers than read_boxes")
            timings[name] = seconds
        rows = sum(len(a) for a in reference)
        blocks = {}
        for f in files:
            data = f.read_bytes()
            blocks.setdefault(f.parent, []).append(data if data.endswith(b"\n") else data + b"\n")
        joined = [b"".join(parts) for parts in blocks.values()]
        block_timings = {}
        for name, convert in block_converters().items():
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                arrays = [convert(b) for b in joined]
                best = min(best, time.perf_counter() - start)
            if not np.array_equal(np.concatenate(arrays), np.concatenate(reference)):
                raise SystemExit(f"{name} gives other numbers than read_boxes")
            block_timings[name] = best
    base = timings["read_boxes (default)"]
    print(f"{len(files)} files, {rows} rows, {size:.0f} MB; best of {args.repeat}; identical arrays from every method")
    for name, seconds in timings.items():
        print(f"  {name:26s} {seconds:7.2f} s   {seconds / base:6.1f}x the time of read_boxes")
    if block_timings:
        first = next(iter(block_timings.values()))
        print(f"converters alone, one block per tracker ({len(joined)} blocks), identical arrays:")
        for name, seconds in block_timings.items():
            print(f"  {name:26s} {seconds:7.2f} s   {seconds / first:6.2f}x the first")


if __name__ == "__main__":
    main()
