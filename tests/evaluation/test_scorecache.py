"""The scored-sequence cache: the same report as scoring afresh, re-scores exactly what changed
(result file, ground truth, protocol, scoring code), never stores racy files or errors."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from reasoningtrack.datasets.base import Sequence
from reasoningtrack.evaluation import evaluate as evaluate_module
from reasoningtrack.evaluation import evaluate_trackers
from reasoningtrack.evaluation.metrics import EvaluationError, LengthMismatchError
from reasoningtrack.evaluation.protocols import get_protocol
from reasoningtrack.evaluation.scorecache import ScoreCache, scoring_code_digest
from reasoningtrack.tablecache import read_bundle

N_SEQUENCES = 12


def _age(path: Path, seconds: float = 60.0) -> None:
    """Move a file's modification time out of the racy window (as an old result file is)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


def _write(path: Path, boxes: np.ndarray, age: bool = True) -> None:
    path.write_text("".join(",".join(repr(float(v)) for v in row) + "\n" for row in boxes))
    if age:
        _age(path)


@pytest.fixture
def sequences(lasot_sequences) -> list[Sequence]:
    return lasot_sequences[:N_SEQUENCES]


@pytest.fixture
def results(tmp_path, lasot_raw, sequences) -> dict[str, Path]:
    """Two trackers' real LaSOT results, one of them with files the protocols adjust or reject:
    an infinite value, NaN rows, a longer file, an empty file."""
    out = {}
    for tracker in ("ATOM", "DiMP50"):
        folder = tmp_path / "results" / tracker
        folder.mkdir(parents=True)
        for s in sequences:
            shutil.copy(lasot_raw / tracker / f"{s.name}.txt", folder / f"{s.name}.txt")
            _age(folder / f"{s.name}.txt")
        out[tracker] = folder
    odd = out["DiMP50"]
    names = [s.name for s in sequences]
    boxes = np.loadtxt(odd / f"{names[0]}.txt", delimiter=",")
    boxes[5, 2] = np.inf
    boxes[7:9] = np.nan
    _write(odd / f"{names[0]}.txt", boxes)
    longer = np.loadtxt(odd / f"{names[1]}.txt", delimiter=",")
    _write(odd / f"{names[1]}.txt", np.concatenate([longer, longer[-10:]]))
    (odd / f"{names[2]}.txt").write_text("")
    _age(odd / f"{names[2]}.txt")
    return out


def _same(a, b) -> None:
    assert a.to_dict() == b.to_dict()
    for name, tracker in a.trackers.items():
        other = b.trackers[name]
        for x, y in zip((tracker.overall.success, tracker.overall.precision, tracker.overall.norm_precision),
                        (other.overall.success, other.overall.precision, other.overall.norm_precision)):
            assert np.array_equal(x, y)


class ReadSpy:
    """Counts the result files read (through the real reader)."""

    def __init__(self, monkeypatch):
        self.files: list[str] = []
        real = evaluate_module.read_boxes_many

        def spy(paths, *args, **kwargs):
            paths = list(paths)
            self.files += [Path(p).name for p in paths]
            return real(paths, *args, **kwargs)

        monkeypatch.setattr(evaluate_module, "read_boxes_many", spy)


@pytest.mark.parametrize("protocol, bench", [("lasot-matlab", "lasot"), ("pytracking", "tnl2k")])
def test_cached_report_equals_a_fresh_one_and_reads_nothing(protocol, bench, sequences, results, tmp_path,
                                                            monkeypatch):
    """LaSOT's toolkit (empty file: zero curve, dropped) and pytracking's rules for other datasets
    (NaN rows: the sequence is rejected; the empty file is padded)."""
    cache = tmp_path / "cache"
    fresh = evaluate_trackers(sequences, results, protocol, benchmark=bench, cache_dir=None)
    first = evaluate_trackers(sequences, results, protocol, benchmark=bench, cache_dir=cache)
    spy = ReadSpy(monkeypatch)
    second = evaluate_trackers(sequences, results, protocol, benchmark=bench, cache_dir=cache)
    assert spy.files == []  # every result file served from the cache
    _same(fresh, first)
    _same(fresh, second)
    # the odd files really were adjusted or rejected, and that survives the cache
    dimp = second.trackers["DiMP50"]
    assert dimp.adjusted or dimp.rejected
    assert dimp.adjusted == fresh.trackers["DiMP50"].adjusted and dimp.rejected == fresh.trackers["DiMP50"].rejected


def test_a_changed_result_file_is_rescored_and_only_it(sequences, results, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    evaluate_trackers(sequences, results, benchmark="lasot", cache_dir=cache)
    target = results["ATOM"] / f"{sequences[4].name}.txt"
    boxes = np.loadtxt(target, delimiter=",")
    boxes[:, 0] += 30.0  # a worse tracker
    _write(target, boxes)
    spy = ReadSpy(monkeypatch)
    again = evaluate_trackers(sequences, results, benchmark="lasot", cache_dir=cache)
    assert spy.files == [target.name]
    _same(again, evaluate_trackers(sequences, results, benchmark="lasot", cache_dir=None))


def test_same_size_and_other_bytes_with_a_new_time_is_rescored(sequences, results, tmp_path):
    """A same-length edit (one digit of a box) changes the numbers; the modification time tells it."""
    cache = tmp_path / "cache"
    name = sequences[3].name
    before = evaluate_trackers(sequences, results, benchmark="lasot", cache_dir=cache)
    target = results["ATOM"] / f"{name}.txt"
    lines = target.read_text().splitlines(keepends=True)
    row = next(i for i in range(10, len(lines)) if lines[i][0] in "12345678")
    lines[row] = "9" + lines[row][1:]  # x moves by hundreds of pixels: that frame fails
    size = target.stat().st_size
    target.write_text("".join(lines))
    assert target.stat().st_size == size
    _age(target, 30.0)  # another time than the scored file's, out of the racy window
    after = evaluate_trackers(sequences, results, benchmark="lasot", cache_dir=cache)
    _same(after, evaluate_trackers(sequences, results, benchmark="lasot", cache_dir=None))
    assert after.trackers["ATOM"].per_sequence[name].SR < before.trackers["ATOM"].per_sequence[name].SR


def test_changed_ground_truth_is_rescored(sequences, results, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    evaluate_trackers(sequences, results, benchmark="lasot", cache_dir=cache)
    moved = list(sequences)
    gt = moved[0].ground_truth.copy()
    gt[:, 1] += 12.0
    moved[0] = dataclasses.replace(moved[0], ground_truth=gt)
    spy = ReadSpy(monkeypatch)
    again = evaluate_trackers(moved, results, benchmark="lasot", cache_dir=cache)
    assert sorted(spy.files) == [f"{moved[0].name}.txt"] * 2  # both trackers' file of that sequence
    _same(again, evaluate_trackers(moved, results, benchmark="lasot", cache_dir=None))


def test_protocols_and_code_have_their_own_bundles(results, tmp_path):
    lasot, pytracking = get_protocol("lasot-matlab", "lasot"), get_protocol("pytracking", "lasot")
    code = scoring_code_digest()
    paths = {
        ScoreCache(tmp_path, results["ATOM"], lasot, "as-is", code).path,
        ScoreCache(tmp_path, results["ATOM"], pytracking, "as-is", code).path,
        ScoreCache(tmp_path, results["ATOM"], lasot, "auto", code).path,
        ScoreCache(tmp_path, results["ATOM"], lasot, "as-is", "another scoring code").path,
        ScoreCache(tmp_path, results["DiMP50"], lasot, "as-is", code).path,
    }
    assert len(paths) == 5


def test_scoring_code_digest_follows_the_source(monkeypatch, tmp_path):
    """The digest hashes the scoring modules' bytes: an edited module gives another digest."""
    from reasoningtrack.evaluation import scorecache

    package = Path(scorecache.__file__).resolve().parent.parent
    copy = tmp_path / "pkg"
    for rel in scorecache._SCORING_MODULES:
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(package / rel, copy / rel)
    real = scoring_code_digest()
    monkeypatch.setattr(scorecache, "__file__", str(copy / "evaluation" / "scorecache.py"))
    assert scorecache.scoring_code_digest() == real  # the same bytes elsewhere: the same digest
    (copy / "evaluation" / "metrics.py").write_text((package / "evaluation" / "metrics.py").read_text() + "\n# edited\n")
    assert scorecache.scoring_code_digest() != real


def test_racy_files_are_scored_but_not_stored(sequences, results, tmp_path):
    cache = tmp_path / "cache"
    young = results["ATOM"] / f"{sequences[0].name}.txt"
    _write(young, np.loadtxt(young, delimiter=","), age=False)
    evaluate_trackers(sequences, results, benchmark="lasot", cache_dir=cache)
    proto = get_protocol("lasot-matlab", "lasot")
    bundle = read_bundle(ScoreCache(cache, results["ATOM"], proto, "as-is", scoring_code_digest()).path)
    assert sequences[0].name not in bundle and sequences[1].name in bundle


def test_errors_are_never_cached(sequences, results, tmp_path):
    cache = tmp_path / "cache"
    long_gt = sequences[5]
    target = results["ATOM"] / f"{long_gt.name}.txt"
    _write(target, np.loadtxt(target, delimiter=",")[:-3])  # shorter: an error under lasot-matlab
    for _ in range(2):
        with pytest.raises((LengthMismatchError, EvaluationError)):
            evaluate_trackers(sequences, {"ATOM": results["ATOM"]}, "got10k", benchmark="lasot", cache_dir=cache)


def test_a_damaged_bundle_is_ignored_and_rebuilt(sequences, results, tmp_path):
    cache = tmp_path / "cache"
    fresh = evaluate_trackers(sequences, results, benchmark="lasot", cache_dir=cache)
    for bundle in cache.glob("*.tables"):
        bundle.write_bytes(bundle.read_bytes()[: len(bundle.read_bytes()) // 2])
    _same(fresh, evaluate_trackers(sequences, results, benchmark="lasot", cache_dir=cache))
    _same(fresh, evaluate_trackers(sequences, results, benchmark="lasot", cache_dir=cache))
