"""The parsed-table cache: same arrays as parsing, re-reads what changed, never caches errors."""

from __future__ import annotations

import os
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from reasoningtrack import tablecache
from reasoningtrack.boxfiles import ResultFormatError, read_boxes, read_boxes_many
from reasoningtrack.tablecache import load_tables


def _age(path: Path, seconds: float = 60.0) -> None:
    """Move a file's modification time into the past (out of the racy window)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


class CountingParser:
    def __init__(self):
        self.calls: list[list[str]] = []

    def __call__(self, paths):
        self.calls.append([p.name for p in paths])
        return [np.loadtxt(p, delimiter=",", ndmin=2) for p in paths]


@pytest.fixture
def files(tmp_path):
    out = []
    for i in range(3):
        p = tmp_path / f"seq{i}.txt"
        p.write_text("".join(f"{i + k},{k}.5,10,{20 + i}\n" for k in range(5)))
        _age(p)
        out.append(p)
    return out


def test_second_read_comes_from_the_cache_with_identical_arrays(files, tmp_path):
    cache = tmp_path / "cache"
    parse = CountingParser()
    first = load_tables(files, parse, kind="t", cache_dir=cache)
    second = load_tables(files, parse, kind="t", cache_dir=cache)
    assert parse.calls == [["seq0.txt", "seq1.txt", "seq2.txt"]]
    for a, b in zip(first, second):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
        assert b.flags.writeable  # owned by the caller, like a parsed array


def test_cached_arrays_are_private_copies(files, tmp_path):
    """Bundles are mapped copy-on-write: writing into a served array changes neither the bundle
    on disk nor the arrays of a later call."""
    cache = tmp_path / "cache"
    parse = CountingParser()
    load_tables(files, parse, kind="t", cache_dir=cache)
    bundle = next(cache.glob("*.tables"))
    before = bundle.read_bytes()
    served = load_tables(files, parse, kind="t", cache_dir=cache)
    served[0][:] = -1.0
    assert bundle.read_bytes() == before
    again = load_tables(files, parse, kind="t", cache_dir=cache)
    assert again[0].tobytes() == parse(files[:1])[0].tobytes()
    assert len(parse.calls) == 2  # the first load and the check above, nothing re-parsed


def test_a_changed_file_is_read_again(files, tmp_path):
    cache = tmp_path / "cache"
    parse = CountingParser()
    load_tables(files, parse, kind="t", cache_dir=cache)
    # Same size, other bytes, other modification time: must be re-read.
    text = files[1].read_text().replace("10,", "11,")
    files[1].write_text(text)
    _age(files[1], 30)
    out = load_tables(files, parse, kind="t", cache_dir=cache)
    assert parse.calls[-1] == ["seq1.txt"]
    assert out[1][0, 2] == 11.0
    # Appended rows change the size.
    with open(files[2], "a") as fh:
        fh.write("9,9,9,9\n")
    _age(files[2], 20)
    out = load_tables(files, parse, kind="t", cache_dir=cache)
    assert parse.calls[-1] == ["seq2.txt"] and len(out[2]) == 6
    load_tables(files, parse, kind="t", cache_dir=cache)
    assert len(parse.calls) == 3  # all cached again


def test_a_just_written_file_is_never_cached(files, tmp_path):
    """Racy window: a second write in the same timestamp tick could keep size and time."""
    cache = tmp_path / "cache"
    files[0].write_text("1,2,3,4\n")  # modified now
    parse = CountingParser()
    load_tables(files, parse, kind="t", cache_dir=cache)
    load_tables(files, parse, kind="t", cache_dir=cache)
    assert parse.calls == [["seq0.txt", "seq1.txt", "seq2.txt"], ["seq0.txt"]]


def test_kinds_and_file_lists_do_not_mix(files, tmp_path):
    cache = tmp_path / "cache"
    parse = CountingParser()
    load_tables(files, parse, kind="a", cache_dir=cache)
    load_tables(files, parse, kind="b", cache_dir=cache)
    load_tables(files[:2], parse, kind="a", cache_dir=cache)
    assert len(parse.calls) == 3


def test_corrupt_or_foreign_bundles_are_ignored_and_rebuilt(files, tmp_path):
    cache = tmp_path / "cache"
    parse = CountingParser()
    expected = load_tables(files, parse, kind="t", cache_dir=cache)
    (bundle,) = cache.glob("*.tables")
    blob = bundle.read_bytes()
    for damaged in (blob[: len(blob) // 2], b"garbage", blob[:8] + b"\xff" * 8 + blob[16:]):
        bundle.write_bytes(damaged)
        out = load_tables(files, parse, kind="t", cache_dir=cache)
        assert all(a.tobytes() == b.tobytes() for a, b in zip(out, expected))
    assert len(parse.calls) == 4


def test_errors_are_never_cached(tmp_path):
    cache = tmp_path / "cache"
    bad = tmp_path / "bad.txt"
    bad.write_text("1,2,3,4\n5,6,x,8\n")
    _age(bad)
    for _ in range(2):
        with pytest.raises(ResultFormatError, match="bad.txt:2"):
            read_boxes_many([bad], cache_dir=cache)
    with pytest.raises(FileNotFoundError):
        read_boxes_many([tmp_path / "missing.txt"], cache_dir=cache)


def test_disabled_cache_parses_every_time(files, tmp_path, monkeypatch):
    parse = CountingParser()
    load_tables(files, parse, kind="t", cache_dir=None)
    load_tables(files, parse, kind="t", cache_dir=None)
    monkeypatch.setenv("REASONINGTRACK_CACHE_DIR", "off")
    assert tablecache.default_cache_dir() is None
    load_tables(files, parse, kind="t")
    assert len(parse.calls) == 3


def test_an_unwritable_cache_folder_only_costs_speed(files, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    parse = CountingParser()
    out = load_tables(files, parse, kind="t", cache_dir=blocker / "cache")
    assert len(out) == 3 and len(parse.calls) == 1


def test_concurrent_writers_leave_a_valid_bundle(files, tmp_path):
    cache = tmp_path / "cache"
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work():
        try:
            barrier.wait()
            for _ in range(5):
                # A fresh parse each round (kind rotates) plus the shared kind "t".
                out = load_tables(files, CountingParser(), kind="t", cache_dir=cache)
                assert out[2][0, 0] == 2.0
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    parse = CountingParser()
    load_tables(files, parse, kind="t", cache_dir=cache)
    assert parse.calls == []  # the last writer's bundle is complete
    assert not list(cache.glob("*.tmp"))


def test_real_result_files_round_trip_bit_for_bit(shared_data, tmp_path):
    """LaSOT raw results (long floats and integers) through the cache equal the parser's."""
    dest = tmp_path / "raw"
    for tracker in ("ATOM", "SiamRPN++"):
        with tarfile.open(shared_data / "lasot" / "raw_results" / f"{tracker}.tar.xz") as tar:
            members = [m for m in tar.getmembers() if m.isfile()][:12]
            tar.extractall(dest, members=members, filter="data")
    paths = sorted(dest.rglob("*.txt"))
    for p in paths:
        _age(p)
    cache = tmp_path / "cache"
    direct = [read_boxes(p) for p in paths]
    cold = read_boxes_many(paths, cache_dir=cache)
    warm = read_boxes_many(paths, cache_dir=cache)
    assert len(direct) == 24
    for d, c, w in zip(direct, cold, warm):
        assert d.tobytes() == np.ascontiguousarray(c).tobytes() == np.ascontiguousarray(w).tobytes()
        assert c.flags.f_contiguous == w.flags.f_contiguous  # memory order kept (metrics read columns)
