"""Evaluate trackers' raw results on a benchmark: load, score under a protocol, build a Report.

``evaluate_trackers`` is the Python API behind ``reasoningtrack evaluate`` (and what the
``benchmark`` command calls after a run). Loading is the slow part of any evaluator (7 trackers x
280 LaSOT sequences is 4.8 M text rows), so :func:`load_results` reads all of a tracker's files
with :func:`results.read_boxes_many`, which converts the plain ``a,b,c,d`` ones in one strict
converter call and leaves any other file to the tolerant single-file reader (which names a bad
line). Trackers are loaded and scored in threads: the converters and numpy release the GIL.
With a cache folder, a result file unchanged since it was last scored under the same protocol is
not read or scored again (:mod:`.scorecache`): the same numbers, from its stored counts.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence as Seq

import numpy as np

from ..datasets.base import Dataset, Sequence
from ..tablecache import default_cache_dir
from .adjustments import describe_adjustments, dropped_curves, non_finite_to_nan
from .metrics import CurveTable, EvaluationError, SequenceCurves, batch_curves
from .protocols import Protocol, default_protocol, get_protocol
from .report import Report, TrackerReport
from .results import ResultsAmbiguousError, ResultsMissingError, find_result_file, read_boxes_many
from .scorecache import ScoreCache, ScoredSequence, scoring_code_digest, truth_digest

__all__ = ["evaluate_trackers", "load_results", "resolve_results", "score_tracker"]


def resolve_results(results_dir: str | os.PathLike, names: Iterable[str]) -> tuple[dict[str, Path], list[str]]:
    """Each sequence's result file in a tracker's results folder (nothing is read), and the
    names with no file. Layouts are those :func:`results.find_result_file` knows (``<seq>.txt``
    in any letter case, ``<Tracker>_tracking_result/``, pytracking, GOT-10k)."""
    paths: dict[str, Path] = {}
    missing: list[str] = []
    root = Path(results_dir)
    if not root.is_dir():
        raise ResultsMissingError(f"results folder not found: {root}")
    listing = {p.name for p in root.iterdir()}
    lowered: dict[str, int] = {}
    for entry in listing:
        lowered[entry.lower()] = lowered.get(entry.lower(), 0) + 1
    for name in names:
        # the fast path only when no other file has the same name in another letter case
        if f"{name}.txt" in listing and lowered[f"{name}.txt".lower()] == 1:
            paths[name] = root / f"{name}.txt"
            continue
        try:
            paths[name] = find_result_file(root, name)
        except ResultsAmbiguousError:
            raise  # present twice is not missing: never skipped, always an error
        except ResultsMissingError:
            missing.append(name)
    return paths, missing


def load_results(
    results_dir: str | os.PathLike, names: Iterable[str], first_row: str = "as-is"
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Every sequence's boxes from a tracker's results folder, and the names with no file
    (:func:`resolve_results`). ``first_row="auto"`` converts a corner-format first row
    (SiamRPN's OTB files); the toolkits read rows as written.
    """
    paths, missing = resolve_results(results_dir, names)
    return dict(zip(paths, read_boxes_many(paths.values(), first_row=first_row))), missing


def score_tracker(
    sequences: Seq[Sequence],
    predictions: Mapping[str, np.ndarray],
    protocol: Protocol,
    tracker: str = "",
    shared: dict | None = None,
) -> tuple[dict[str, SequenceCurves], dict[str, str]]:
    """Curves of every sequence that the protocol scores, and the rejected ones with reasons.
    ``shared``: see :func:`metrics.batch_curves` (one dict per evaluation, shared by its trackers)."""
    items = [(s.name, predictions[s.name], s.ground_truth, s.absent) for s in sequences]
    try:
        return batch_curves(items, protocol, shared)
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


@dataclass
class _FolderWork:
    """One results folder in one evaluation: its files, what the cache had, what is left."""

    paths: Mapping[str, Path]
    scored: dict[str, ScoredSequence] = field(default_factory=dict)
    todo: list[Sequence] = field(default_factory=list)
    files: dict[str, tuple[str, os.stat_result]] = field(default_factory=dict)
    cache: ScoreCache | None = None


class _Scoring:
    """Scores trackers' results on the evaluated sequences of one evaluation: what the ground
    truth alone decides is shared by all trackers, and (with a cache folder) unchanged result
    files are served from the :class:`~.scorecache.ScoreCache` instead of being read and scored."""

    def __init__(self, sequences: list[Sequence], protocol: Protocol, first_row: str, cache_dir):
        self.sequences, self.protocol, self.first_row = sequences, protocol, first_row
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.shared: dict = {}  # ground-truth-derived frame values, computed once for all trackers
        if self.cache_dir is not None:
            self.code = scoring_code_digest()
            self.truths = {s.name: truth_digest(s.ground_truth, s.absent) for s in sequences}

    def lookup(self, folder, paths: Mapping[str, Path]) -> "_FolderWork":
        """A results folder's evaluated sequences served from the cache, and those left to score
        (``paths``: its resolved files)."""
        work = _FolderWork(paths)
        if self.cache_dir is not None:
            work.cache = ScoreCache(self.cache_dir, folder, self.protocol, self.first_row, self.code)
        for s in self.sequences:
            if work.cache is not None:
                name = os.path.abspath(paths[s.name])
                try:
                    stat = os.stat(name)  # before reading: a later change can only cause a miss
                except OSError:
                    stat = None
                if stat is not None:
                    work.files[s.name] = (name, stat)
                    hit = work.cache.lookup(s.name, name, stat, self.truths[s.name])
                    if hit is not None:
                        work.scored[s.name] = hit
                        continue
            work.todo.append(s)
        return work

    def score_folder(self, tracker: str, work: "_FolderWork") -> dict[str, ScoredSequence]:
        """Every evaluated sequence of a results folder: :meth:`lookup`'s, and the rest read and
        scored now (and stored in the cache)."""
        out = dict(work.scored)
        if work.todo:
            read_at = time.time_ns()
            boxes = read_boxes_many([work.paths[s.name] for s in work.todo], first_row=self.first_row,
                                    cache_dir=self.cache_dir)
            fresh = self._score(tracker, work.todo, dict(zip((s.name for s in work.todo), boxes)))
            out.update(fresh)
            if work.cache is not None:
                for name, scored in fresh.items():
                    if name in work.files:
                        file, stat = work.files[name]
                        work.cache.store(name, file, stat, self.truths[name], scored, read_at)
                work.cache.save()
        return out

    def score_arrays(self, tracker: str, source: Mapping[str, np.ndarray]) -> dict[str, ScoredSequence]:
        """Every evaluated sequence of in-memory results (never cached)."""
        return self._score(tracker, self.sequences, {s.name: np.asarray(source[s.name], dtype=np.float64)
                                                     for s in self.sequences})

    def _score(self, tracker: str, sequences: list[Sequence], boxes: dict[str, np.ndarray]) -> dict[str, ScoredSequence]:
        infinite: dict[str, int] = {}
        for name in list(boxes):
            boxes[name], rows = non_finite_to_nan(boxes[name])
            if rows:
                infinite[name] = rows
        curves, rejected = score_tracker(sequences, boxes, self.protocol, tracker, self.shared)
        out: dict[str, ScoredSequence] = {}
        for s in sequences:
            if s.name in rejected:
                out[s.name] = ScoredSequence(None, rejected[s.name])
                continue
            notes = [f"inf: {infinite[s.name]} row(s) with an infinite value, treated as NaN"] if s.name in infinite else []
            notes += describe_adjustments(boxes[s.name], s.ground_truth, self.protocol)
            out[s.name] = ScoredSequence(curves[s.name], None, tuple(notes))
        return out


def _tracker_report(tracker: str, sequences: list[Sequence], scored: Mapping[str, ScoredSequence], proto: Protocol,
                    attribute_names: tuple[str, ...]) -> TrackerReport:
    """A tracker's report from its scored sequences (benchmark order)."""
    kept = [s for s in sequences if scored[s.name].curves is not None]
    table = CurveTable.stack([scored[s.name].curves for s in kept], proto)
    adjusted: dict[str, list[str]] = {}
    for s in kept:
        result = scored[s.name]
        notes = list(result.notes)
        dropped = dropped_curves(result.curves, proto)
        if dropped and not any(n.startswith("empty result file") for n in notes):
            notes.append(f"all-zero {'/'.join(dropped)} curve left out of the {'/'.join(dropped)} mean")
        if notes:
            adjusted[s.name] = notes
    per_attribute = {}
    for attr in attribute_names:
        rows = np.array([i for i, s in enumerate(kept) if s.attributes.get(attr)], dtype=np.intp)
        if len(rows):
            per_attribute[attr] = table.scores(proto, rows)
    return TrackerReport(
        name=tracker,
        overall=table.scores(proto),
        per_sequence=dict(zip((s.name for s in kept), table.row_scores(proto))),
        per_attribute=per_attribute,
        rejected={s.name: scored[s.name].rejected for s in sequences if scored[s.name].rejected is not None},
        adjusted=adjusted,
    )


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
    strict: bool = False,
    cache_dir: str | os.PathLike | None = "default",
) -> Report:
    """Score trackers on a benchmark and return a :class:`Report` (values in percent).

    ``results`` maps a tracker's display name to its results folder or to ``{seq: (N, 4) boxes}``.
    ``protocol`` defaults to the benchmark's official one (``DEFAULT_PROTOCOLS``). A sequence
    missing from any tracker's results raises :class:`ResultsMissingError` unless
    ``skip_missing``: then it is dropped for every tracker (so all are compared on the same
    sequences) and listed in ``Report.skipped``. Sequences a protocol refuses (P/S: NaN or
    negative sizes) are listed per tracker in ``TrackerReport.rejected``; sequences the protocol
    changed before scoring (empty, cut, padded, rows carried forward, +-inf read as NaN, all-zero
    curves left out of the mean) in ``TrackerReport.adjusted`` (see :mod:`.adjustments`).
    ``strict=True`` makes any skipped, rejected or adjusted sequence an :class:`EvaluationError`.
    ``cache_dir``: where unchanged result files' scores are kept (:mod:`.scorecache`; ``"default"``
    is the parsed-table cache's folder from the environment, None scores everything afresh).
    """
    if not results:
        raise EvaluationError("no tracker results given")
    sequences, bench, attribute_names = _sequences_of(dataset_or_sequences)
    bench = benchmark or bench
    proto = default_protocol(bench) if protocol is None else get_protocol(protocol, bench)
    names = [s.name for s in sequences]

    # Where each tracker's results are (nothing is read yet): missing files decide the sequences.
    located: dict[str, tuple[dict[str, Path], list[str]]] = {}
    for tracker, source in results.items():
        if isinstance(source, Mapping):
            located[tracker] = ({}, [n for n in names if n not in source])
        else:
            located[tracker] = resolve_results(source, names)
    missing = {t: lost for t, (_, lost) in located.items()}

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

    cache_dir = default_cache_dir() if cache_dir == "default" else cache_dir
    if all(isinstance(source, Mapping) for source in results.values()):
        cache_dir = None  # in-memory results are never cached: no ground truth to hash
    scoring = _Scoring(evaluated, proto, first_row, cache_dir)

    # The cache first (cheap, Python-bound: no threads), then what is left to read and score.
    work = {t: scoring.lookup(source, located[t][0]) for t, source in results.items() if not isinstance(source, Mapping)}

    def score(tracker: str) -> dict[str, ScoredSequence]:
        source = results[tracker]
        if isinstance(source, Mapping):
            return scoring.score_arrays(tracker, source)
        return scoring.score_folder(tracker, work[tracker])

    # Trackers with files to read are scored in threads: parsing (the C readers) and the numpy
    # work release the GIL, so a 2-core machine scores two trackers at once.
    busy = [t for t in results if t not in work or work[t].todo]
    scored = {t: score(t) for t in results if t not in busy or len(busy) == 1}
    if len(busy) > 1:
        with ThreadPoolExecutor(max_workers=_workers(len(busy))) as pool:
            scored.update(zip(busy, pool.map(score, busy)))
    trackers = {t: _tracker_report(t, evaluated, scored[t], proto, attribute_names) for t in results}
    report = Report(
        benchmark=bench,
        protocol=proto,
        trackers=trackers,
        sequences=[s.name for s in evaluated],
        skipped=skipped,
    )
    if strict and report.notes():
        raise EvaluationError("strict: the protocol would drop, cut, pad or repair results -- "
                              + "; ".join(report.notes()))
    return report
