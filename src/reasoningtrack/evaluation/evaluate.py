"""Evaluate trackers' raw results on a benchmark: load, score under a protocol, build a Report.

``evaluate_trackers`` is the Python API behind ``reasoningtrack evaluate`` (and what the
``benchmark`` command calls after a run). Loading is the slow part of any evaluator (7 trackers x
280 LaSOT sequences is 4.8 M text rows), so :func:`load_results` converts all of a tracker's
plain ``a,b,c,d`` files in one call: the files are joined and parsed at once by pandas' C reader
(which itself refuses a row with more, fewer or empty fields; a comma/newline count per file
catches the rest), or without pandas by numpy after an exact per-file structure check; the
result is split back by row counts. Any other file (tabs, spaces, a trailing blank line, a
malformed row) goes through :func:`results.read_boxes`, which accepts every delimiter and names
the bad line. Trackers are loaded and scored in threads: pandas and numpy release the GIL.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Mapping, Sequence as Seq

import numpy as np

from ..datasets.base import Dataset, Sequence
from .metrics import CurveTable, EvaluationError, SequenceCurves, batch_curves
from .protocols import Protocol, default_protocol, get_protocol
from .report import Report, TrackerReport
from .results import ResultsMissingError, find_result_file, read_boxes

__all__ = ["evaluate_trackers", "load_results", "parse_comma_files", "score_tracker"]

_COMMA, _NEWLINE = 44, 10
_ROW_PATTERN = np.frombuffer(b",,,\n", dtype=np.uint8)


def _pandas():
    try:
        import pandas as pd
    except ImportError:
        return None
    return pd


def _plain_rows(data: bytes) -> int:
    """Rows of a file made only of ``a,b,c,d\\n`` rows with non-empty fields, else -1 (exact
    structure check, used when the converter itself does not check fields: numpy)."""
    b = np.frombuffer(data, dtype=np.uint8)
    idx = np.flatnonzero((b == _COMMA) | (b == _NEWLINE))
    n = len(idx) // 4
    if n == 0 or len(idx) != 4 * n or idx[0] == 0:
        return -1
    if not (b[idx].reshape(n, 4) == _ROW_PATTERN).all():
        return -1
    if (np.diff(idx) < 2).any():  # an empty field or a blank line
        return -1
    return n


def _counted_rows(data: bytes) -> int:
    """Rows if the file has exactly three commas per newline, else -1. Enough with pandas, whose
    C reader (4 named columns, no NA for empty) raises on a row with more or fewer fields or an
    empty one; a blank line makes it return fewer rows than counted (then rejected)."""
    b = np.frombuffer(data, dtype=np.uint8)
    rows = int(np.count_nonzero(b == _NEWLINE))
    return rows if rows > 0 and int(np.count_nonzero(b == _COMMA)) == 3 * rows else -1


def _convert_block(block: bytes, rows: int) -> np.ndarray | None:
    """Rows ``a,b,c,d\\n`` to ``(rows, 4)`` float64, correctly rounded; None if any row is bad."""
    pd = _pandas()
    try:
        if pd is not None:
            frame = pd.read_csv(
                io.BytesIO(block),
                sep=",",
                header=None,
                names=[0, 1, 2, 3],
                index_col=False,
                dtype=np.float64,
                engine="c",
                keep_default_na=False,
                na_values=["nan", "NaN", "NAN", "-nan", "-NaN"],
            )
            if len(frame) != rows:
                return None
            # column by column into a Fortran-ordered array: no row interleaving copy, and the
            # metrics read boxes column-wise anyway
            values = np.empty((4, rows), dtype=np.float64)
            for j in range(4):
                values[j] = frame[j].to_numpy(dtype=np.float64)
            return values.T
        values = np.array(block[:-1].replace(b"\n", b",").split(b","), dtype=np.float64)
    except (ValueError, TypeError):  # pandas' ParserError is a ValueError
        return None
    return values.reshape(-1, 4) if values.size == 4 * rows else None


def parse_comma_files(blobs: Seq[bytes]) -> list[np.ndarray | None]:
    """Parse many files' bytes at once; None for a file that needs the tolerant reader."""
    out: list[np.ndarray | None] = [None] * len(blobs)
    plain: list[tuple[int, bytes, int]] = []
    count_rows = _counted_rows if _pandas() is not None else _plain_rows
    for i, data in enumerate(blobs):
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        if data and not data.endswith(b"\n"):
            data += b"\n"
        rows = count_rows(data) if data else -1
        if rows > 0:
            plain.append((i, data, rows))
    if not plain:
        return out
    values = _convert_block(b"".join(d for _, d, _ in plain), sum(r for _, _, r in plain))
    if values is None:  # some row is malformed: convert file by file to isolate it
        for i, data, rows in plain:
            out[i] = _convert_block(data, rows)
        return out
    start = 0
    for i, _, rows in plain:
        out[i] = values[start : start + rows]
        start += rows
    return out


def load_results(
    results_dir: str | os.PathLike, names: Iterable[str], first_row: str = "as-is"
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Every sequence's boxes from a tracker's results folder, and the names with no file.

    Layouts are those :func:`results.find_result_file` knows (``<seq>.txt`` in any letter case,
    ``<Tracker>_tracking_result/``, pytracking, GOT-10k). ``first_row="auto"`` converts a
    corner-format first row (SiamRPN's OTB files); the toolkits read rows as written.
    """
    paths: dict[str, Path] = {}
    missing: list[str] = []
    root = Path(results_dir)
    if not root.is_dir():
        raise ResultsMissingError(f"results folder not found: {root}")
    listing = {p.name for p in root.iterdir()}
    for name in names:
        if f"{name}.txt" in listing:
            paths[name] = root / f"{name}.txt"
            continue
        try:
            paths[name] = find_result_file(root, name)
        except ResultsMissingError:
            missing.append(name)
    blobs = [paths[n].read_bytes() for n in paths]
    parsed = parse_comma_files(blobs) if first_row == "as-is" else [None] * len(blobs)
    boxes: dict[str, np.ndarray] = {}
    for (name, path), values in zip(paths.items(), parsed):
        boxes[name] = values if values is not None else read_boxes(path, first_row=first_row)
    return boxes, missing


def score_tracker(
    sequences: Seq[Sequence], predictions: Mapping[str, np.ndarray], protocol: Protocol, tracker: str = ""
) -> tuple[dict[str, SequenceCurves], dict[str, str]]:
    """Curves of every sequence that the protocol scores, and the rejected ones with reasons."""
    items = [(s.name, predictions[s.name], s.ground_truth, s.absent) for s in sequences]
    try:
        return batch_curves(items, protocol)
    except EvaluationError as exc:
        raise type(exc)(f"{tracker}: {exc}") from None


def _sequences_of(dataset_or_sequences) -> tuple[list[Sequence], str, tuple[str, ...]]:
    if isinstance(dataset_or_sequences, Dataset):
        ds = dataset_or_sequences
        return list(ds), ds.name, tuple(ds.attribute_names)
    seqs = list(dataset_or_sequences)
    if not seqs or not all(isinstance(s, Sequence) for s in seqs):
        raise EvaluationError("evaluate_trackers needs a Dataset or a non-empty list of Sequence objects")
    bench = seqs[0].dataset or "custom"
    attrs: list[str] = []
    for s in seqs:
        attrs += [a for a in s.attributes if a not in attrs]
    return seqs, bench, tuple(attrs)


def _workers(n_jobs: int) -> int:
    return max(1, min(n_jobs, os.cpu_count() or 1, 4))


def evaluate_trackers(
    dataset_or_sequences: Dataset | Iterable[Sequence],
    results: Mapping[str, str | os.PathLike | Mapping[str, np.ndarray]],
    protocol: str | Protocol | None = None,
    *,
    skip_missing: bool = False,
    first_row: str = "as-is",
    benchmark: str | None = None,
) -> Report:
    """Score trackers on a benchmark and return a :class:`Report` (values in percent).

    ``results`` maps a tracker's display name to its results folder or to ``{seq: (N, 4) boxes}``.
    ``protocol`` defaults to the benchmark's official one (``DEFAULT_PROTOCOLS``). A sequence
    missing from any tracker's results raises :class:`ResultsMissingError` unless
    ``skip_missing``: then it is dropped for every tracker (so all are compared on the same
    sequences) and listed in ``Report.skipped``. Sequences a protocol refuses (P/S: NaN or
    negative sizes) are listed per tracker in ``TrackerReport.rejected``.
    """
    if not results:
        raise EvaluationError("no tracker results given")
    sequences, bench, attribute_names = _sequences_of(dataset_or_sequences)
    bench = benchmark or bench
    proto = default_protocol(bench) if protocol is None else get_protocol(protocol, bench)
    names = [s.name for s in sequences]

    def load(item):
        tracker, source = item
        if isinstance(source, Mapping):
            boxes = {n: np.asarray(source[n], dtype=np.float64) for n in names if n in source}
            return boxes, [n for n in names if n not in source]
        return load_results(source, names, first_row=first_row)

    # Trackers are loaded and scored in threads: parsing (pandas' C reader) and the numpy work
    # release the GIL, so a 2-core machine parses two trackers at once.
    with ThreadPoolExecutor(max_workers=_workers(len(results))) as pool:
        loaded = list(pool.map(load, results.items()))
    predictions = {t: boxes for t, (boxes, _) in zip(results, loaded)}
    missing = {t: lost for t, (_, lost) in zip(results, loaded)}

    skipped: dict[str, list[str]] = {}
    for tracker, lost in missing.items():
        for n in lost:
            skipped.setdefault(n, []).append(tracker)
    if skipped and not skip_missing:
        lines = [
            f"{tracker}: {len(lost)} of {len(names)} sequences have no result file (e.g. {', '.join(lost[:3])})"
            for tracker, lost in missing.items()
            if lost
        ]
        raise ResultsMissingError("missing results -- " + "; ".join(lines) + " (use skip_missing / --skip-missing)")
    evaluated = [s for s in sequences if s.name not in skipped]
    if not evaluated:
        raise EvaluationError("no sequence left to evaluate: every sequence is missing from some tracker's results")

    def score(tracker: str) -> TrackerReport:
        curves, rejected = score_tracker(evaluated, predictions[tracker], proto, tracker)
        scored = [s for s in evaluated if s.name in curves]
        table = CurveTable.stack([curves[s.name] for s in scored], proto)
        per_attribute = {}
        for attr in attribute_names:
            rows = np.array([i for i, s in enumerate(scored) if s.attributes.get(attr)], dtype=np.intp)
            if len(rows):
                per_attribute[attr] = table.scores(proto, rows)
        return TrackerReport(
            name=tracker,
            overall=table.scores(proto),
            per_sequence=dict(zip((s.name for s in scored), table.row_scores(proto))),
            per_attribute=per_attribute,
            rejected=rejected,
        )

    with ThreadPoolExecutor(max_workers=_workers(len(results))) as pool:
        trackers = dict(zip(results, pool.map(score, results)))
    return Report(
        benchmark=bench,
        protocol=proto,
        trackers=trackers,
        sequences=[s.name for s in evaluated],
        skipped=skipped,
    )
