"""Result files: reading real trackers' outputs, refusing malformed files, writing layouts."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reasoningtrack import boxfiles as R
from reasoningtrack.evaluation.results import (
    ResultFormatError,
    ResultsMissingError,
    find_result_file,
    first_row_is_corners,
    read_boxes,
    read_boxes_many,
    read_times,
    result_path,
    write_boxes,
    write_result,
)

OTB_TRACKERS = ["ATOM", "CFNet", "DaSiamRPN", "MDNet", "Ocean", "Ocean-online", "SiamBAN", "SiamFC", "SiamRPN", "SiamRPN++"]
OTB_SEQUENCES = {"Crossing": 120, "Couple": 140, "Football1": 81}


def naive_read(path: Path) -> np.ndarray:
    """The obvious reference reader: split each line on any delimiter, float() each field."""
    rows = []
    for line in path.read_text().splitlines():
        fields = line.replace(",", " ").replace("\t", " ").replace(";", " ").split()
        if fields:
            rows.append([float(f) for f in fields])
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def extract_members(archive: Path, dest: Path, count: int) -> list[Path]:
    """Extract the first ``count`` .txt members of a tar.xz (streaming: stops early)."""
    out = []
    with tarfile.open(archive, "r:xz") as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".txt"):
                tar.extract(member, dest, filter="data")
                out.append(dest / member.name)
                if len(out) == count:
                    break
    return out


# ---------------------------------------------------------------------------- real OTB files


def test_real_otb_results_all_readable(shared_data):
    root = shared_data / "sequences" / "otb100_results"
    for tracker in OTB_TRACKERS:
        for seq, n_frames in OTB_SEQUENCES.items():
            path = find_result_file(root / tracker, seq)
            boxes = read_boxes(path)
            assert boxes.dtype == np.float64 and boxes.shape[1] == 4
            assert 74 <= len(boxes) <= n_frames, (tracker, seq, len(boxes))
            assert np.isfinite(boxes).all()
            np.testing.assert_array_equal(boxes, naive_read(path))


def test_lower_case_file_names_are_found(shared_data):
    root = shared_data / "sequences" / "otb100_results"
    assert find_result_file(root / "ATOM", "Crossing").name == "crossing.txt"
    assert find_result_file(root / "Ocean-online", "Football1").name == "football1.txt"
    assert find_result_file(root / "SiamRPN", "Crossing").name == "Crossing.txt"


def test_tab_separated_ground_truth(shared_data):
    gt = read_boxes(shared_data / "sequences" / "Crossing" / "groundtruth_rect.txt")
    assert gt.shape == (120, 4)
    np.testing.assert_array_equal(gt[0], [205, 151, 17, 50])
    assert len(read_boxes(shared_data / "sequences" / "Football1" / "groundtruth_rect.txt")) == 74


def test_siamrpn_corner_first_row(shared_data):
    root = shared_data / "sequences" / "otb100_results"
    path = root / "SiamRPN" / "Crossing.txt"
    as_is = read_boxes(path)
    np.testing.assert_array_equal(as_is[0], [204, 150, 221, 200])
    fixed = read_boxes(path, first_row="auto")
    np.testing.assert_array_equal(fixed[0], [204, 150, 17, 50])
    np.testing.assert_array_equal(fixed[1:], as_is[1:])
    for seq in OTB_SEQUENCES:
        assert first_row_is_corners(read_boxes(find_result_file(root / "SiamRPN", seq)))
    # no other tracker's first row is mistaken for corners (SiamBAN's 0.5 px shift included)
    for tracker in OTB_TRACKERS:
        if tracker == "SiamRPN":
            continue
        for seq in OTB_SEQUENCES:
            boxes = read_boxes(find_result_file(root / tracker, seq))
            np.testing.assert_array_equal(read_boxes(find_result_file(root / tracker, seq), first_row="auto"), boxes)
    with pytest.raises(ValueError, match="first_row"):
        read_boxes(path, first_row="corners")


# ---------------------------------------------------------------------------- real LaSOT files


@pytest.fixture(scope="module")
def lasot_atom(shared_data, tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("lasot_atom")
    with tarfile.open(shared_data / "lasot" / "raw_results" / "ATOM.tar.xz", "r:xz") as tar:
        tar.extractall(dest, filter="data")
    return dest / "LASOT" / "ATOM"


def test_real_lasot_atom_all_sequences(shared_data, lasot_atom):
    names = (shared_data / "lasot" / "testing_set.txt").read_text().split()
    assert len(names) == 280
    total = 0
    for name in names:
        boxes = read_boxes(find_result_file(lasot_atom, name))
        assert boxes.shape[1] == 4 and np.isfinite(boxes).all()
        total += len(boxes)
    assert total > 600_000
    for name in names[::40]:
        path = find_result_file(lasot_atom, name)
        np.testing.assert_array_equal(read_boxes(path), naive_read(path))


@pytest.mark.parametrize("tracker", ["SiamBAN", "C-RPN"])
def test_real_lasot_long_floats_exact(shared_data, tmp_path, tracker, monkeypatch):
    files = extract_members(shared_data / "lasot" / "raw_results" / f"{tracker}.tar.xz", tmp_path, 3)
    assert files
    for path in files:
        assert path.stat().st_size > R._FAST_READER_MIN_BYTES  # large files take a compiled reader
        reference = naive_read(path)
        for readers in [("arrow",), ("pandas",), ()]:  # every converter gives the same bits
            monkeypatch.setattr(R, "_FAST_READERS", readers)
            np.testing.assert_array_equal(read_boxes(path), reference)
        monkeypatch.undo()


# ---------------------------------------------------------------------------- tolerance


DELIMITER_FORMS = [
    "1,2,3,4\n5,6,7,8\n",
    "1,2,3,4\n5,6,7,8",  # no final newline
    "1\t2\t3\t4\n5\t6\t7\t8\n",
    "1 2 3 4\n5  6   7 8\n",
    "1;2;3;4\n5;6;7;8\n",
    "1,2\t3 4\n5, 6, 7, 8\n",  # mixture
    "1,2,3,4\r\n5,6,7,8\r\n",
    "\ufeff1,2,3,4\n5,6,7,8\n",  # byte-order mark
    "1,2,3,4,\n5,6,7,8,\n",  # trailing delimiter
    "1,2,3,4\n5,6,7,8\n\n\n  \n",  # blank trailing lines
    "  1, 2, 3, 4\n\t5,6,7,8 \n",
]
"""Each reads as [[1, 2, 3, 4], [5, 6, 7, 8]]."""


@pytest.mark.parametrize("text", DELIMITER_FORMS)
def test_delimiters(tmp_path, text):
    path = tmp_path / "r.txt"
    path.write_bytes(text.encode("utf-8"))
    np.testing.assert_array_equal(read_boxes(path), [[1, 2, 3, 4], [5, 6, 7, 8]])


def test_many_files_read_as_one_by_one(shared_data, tmp_path):
    """Every delimiter form above, real OTB results (SiamRPN's corner first rows included) and
    malformed files: the many-file reader gives the single-file reader's values and errors."""
    paths = []
    for i, text in enumerate(DELIMITER_FORMS):
        paths.append(tmp_path / f"form{i}.txt")
        paths[-1].write_bytes(text.encode("utf-8"))
    assert all(b.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]] for b in read_boxes_many(paths))
    root = shared_data / "sequences" / "otb100_results"
    real = [find_result_file(root / t, s) for t in ("SiamRPN", "ATOM", "CFNet") for s in OTB_SEQUENCES]
    for first_row in ("as-is", "auto"):
        for path, boxes in zip(real, read_boxes_many(real, first_row=first_row)):
            np.testing.assert_array_equal(boxes, read_boxes(path, first_row=first_row))
    bad = tmp_path / "bad.txt"
    bad.write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(ResultFormatError, match=r"bad.txt:2: expected x,y,w,h"):
        read_boxes_many([paths[0], bad])
    with pytest.raises(ResultsMissingError, match="result file not found"):
        read_boxes_many([paths[0], tmp_path / "none.txt"])
    with pytest.raises(ValueError, match="first_row"):
        read_boxes_many(paths, first_row="corners")


def test_nan_and_exponents(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("NaN,nan,NAN,1e2\n-0.5,1.5E-1,inf,4\n")
    boxes = read_boxes(path)
    assert np.isnan(boxes[0, :3]).all() and boxes[0, 3] == 100
    np.testing.assert_array_equal(boxes[1], [-0.5, 0.15, np.inf, 4])


def test_empty_file_is_zero_rows(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("\n\n")
    assert read_boxes(path).shape == (0, 4)


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("1,2,3,4\n1,2,3\n", 2, "got 3 fields"),
        ("1,2,3,4\n1,2,3,4\n1,2,3,4,5\n", 3, "got 5 fields"),
        ("1,2,3,4\n1,abc,3,4\n", 2, "not a number"),
        ("1,2,3,4\n1,,3,4\n", 2, "empty field"),
        ("1,2,3,4\n\n1,2,3,4\n", 2, "blank line"),
        ("\n1,2,3,4\n", 1, "blank line"),
        ("x,y,w,h\n1,2,3,4\n", 1, "not a number"),
        ("1 2 3 4\n1\t2\t3\n", 2, "got 3 fields"),
        (",1,2,3,4\n", 1, "empty field"),
        ("1,2,3,4\n1,2,3,1_0\n", 2, "not a number"),
        (",,,\n", 1, "empty field"),
        ("1,2,3,4\n;\n", 2, "empty field"),
        ("1,2,3,4\n1,2,3,0x10\n", 2, "not a number"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ResultFormatError, match=message) as info:
        read_boxes(path)
    assert f"{path}:{line}:" in str(info.value)


@pytest.mark.parametrize("defect, message", [("1,2,3", "got 3 fields"), ("1,2,3,4,5", "got 5 fields"), ("1,2,x,4", "not a number"), ("", "blank line")])
@pytest.mark.parametrize("readers", [("arrow",), ("pandas",), ()])
def test_malformed_large_file_names_line(tmp_path, defect, message, readers, monkeypatch):
    """A large comma file takes a compiled reader (or numpy); errors still end at the right line."""
    monkeypatch.setattr(R, "_FAST_READERS", readers)
    rows = [f"{i}.123456789012345,{i + 1}.5,{i + 2}.25,{i + 3}.0" for i in range(3000)]
    rows[1499] = defect
    if defect == "1,2,3":  # keep the total comma count right, so only the per-row check can tell
        rows[10] = rows[10] + ",7"
        message, line = "got 5 fields", 11
    else:
        line = 1500
    path = tmp_path / "big.txt"
    path.write_text("\n".join(rows) + "\n")
    assert path.stat().st_size > R._FAST_READER_MIN_BYTES
    with pytest.raises(ResultFormatError, match=message) as info:
        read_boxes(path)
    assert f"{path}:{line}:" in str(info.value)


def test_large_file_with_trailing_commas_and_spaces(tmp_path):
    values = np.arange(4000 * 4, dtype=np.float64).reshape(-1, 4) / 7
    path = tmp_path / "big.txt"
    path.write_text("\n".join(", ".join(map(repr, r)) + "," for r in values.tolist()))
    np.testing.assert_array_equal(read_boxes(path), values)


def test_missing_file(tmp_path):
    with pytest.raises(ResultsMissingError, match="not found"):
        read_boxes(tmp_path / "nope.txt")
    assert issubclass(ResultsMissingError, FileNotFoundError)


# ---------------------------------------------------------------------------- writing


def test_write_full_precision_and_format(tmp_path):
    boxes = np.array([[12, 3.5, 1 / 3, np.nan], [0.1 + 0.2, 1e-17, 123456789.123456789, 4]])
    path = write_boxes(tmp_path / "a" / "seq.txt", boxes)
    lines = path.read_text().splitlines()
    assert lines[0] == "12.0,3.5,0.3333333333333333,nan"
    assert lines[1].startswith("0.30000000000000004,1e-17,")
    np.testing.assert_array_equal(read_boxes(path), boxes)
    assert [p.name for p in path.parent.iterdir()] == ["seq.txt"]  # no temporary file left
    write_boxes(path, boxes[:1])  # overwriting is atomic too
    assert len(read_boxes(path)) == 1
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        write_boxes(path, np.zeros((3, 3)))


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(0, 30), st.just(4)), elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))
def test_write_read_round_trip(tmp_path_factory, boxes):
    path = write_boxes(tmp_path_factory.mktemp("rt") / "r.txt", boxes)
    np.testing.assert_array_equal(read_boxes(path), boxes)


@pytest.mark.parametrize(
    "layout, tracker, relative",
    [
        ("toolkit", None, "Seq-1.txt"),
        ("toolkit", "Ours", "Ours_tracking_result/Seq-1.txt"),
        ("pytracking", "dimp/dimp50", "dimp/dimp50/Seq-1.txt"),
        ("got10k", None, "Seq-1/Seq-1_001.txt"),
    ],
)
def test_layouts_written_and_found(tmp_path, layout, tracker, relative):
    boxes = np.array([[1.5, 2, 3, 4], [5, 6, 7, 8.25]])
    path = write_result(tmp_path, "Seq-1", boxes, layout=layout, tracker=tracker, times=[0.01, 0.02])
    assert path == tmp_path / relative == result_path(tmp_path, "Seq-1", layout, tracker)
    np.testing.assert_array_equal(read_boxes(path), boxes)
    np.testing.assert_array_equal(read_times(path.with_name("Seq-1_time.txt")), [0.01, 0.02])
    search_root = tmp_path / tracker if layout == "pytracking" else tmp_path
    assert find_result_file(search_root, "Seq-1") == path
    assert find_result_file(search_root, "seq-1") == path  # letter case differs


def test_layout_errors(tmp_path):
    with pytest.raises(ValueError, match="name/param"):
        write_result(tmp_path, "s", np.zeros((1, 4)), layout="pytracking", tracker="dimp")
    with pytest.raises(ValueError, match="unknown result layout"):
        write_result(tmp_path, "s", np.zeros((1, 4)), layout="vot")
    with pytest.raises(ValueError, match="2 times for 1 boxes"):
        write_result(tmp_path, "s", np.zeros((1, 4)), times=[1, 2])


def test_find_result_file_misses_and_ambiguity(tmp_path):
    """A file present twice (two result folders, or names differing only in letter case) is
    ambiguous -- an error of its own, never "missing" (which --skip-missing would drop)."""
    from reasoningtrack.evaluation.evaluate import load_results
    from reasoningtrack.evaluation.results import ResultsAmbiguousError

    write_result(tmp_path, "a", np.zeros((1, 4)), tracker="T1")
    write_result(tmp_path, "a", np.zeros((1, 4)), tracker="T2")
    with pytest.raises(ResultsAmbiguousError, match=r"'?a'?: ambiguous result files in 2 result folders .*T1_tracking_result, T2_tracking_result"):
        find_result_file(tmp_path, "a")
    with pytest.raises(ResultsMissingError) as info:  # in neither folder: missing, every place named
        find_result_file(tmp_path, "b")
    assert not isinstance(info.value, ResultsAmbiguousError)
    message = str(info.value)
    assert "2 such folders" in message and "b_001.txt" in message and "'b'" in message
    assert find_result_file(tmp_path / "T2_tracking_result", "a").parent.name == "T2_tracking_result"
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "Crossing.txt").write_text("1,2,3,4\n")
    assert find_result_file(tmp_path / "x", "CROSSING").name == "Crossing.txt"  # one file, any case
    (tmp_path / "x" / "crossing.txt").write_text("1,2,3,4\n")
    for name in ("Crossing", "CROSSING"):
        with pytest.raises(ResultsAmbiguousError, match="differing only in letter case: .*Crossing.txt, .*crossing.txt"):
            find_result_file(tmp_path / "x", name)
    # the evaluator's fast path sees it too, and does not count it as missing
    with pytest.raises(ResultsAmbiguousError, match="letter case"):
        load_results(tmp_path / "x", ["Crossing"])
    with pytest.raises(ResultsMissingError, match="results folder not found"):
        find_result_file(tmp_path / "none", "a")


# ---------------------------------------------------------------------------- properties

_GAPS = [",", "\t", " ", ";", ", ", " , ", "  ", "\t,"]


@settings(max_examples=20, deadline=None)
@given(
    boxes=arrays(np.float64, st.tuples(st.integers(1, 40), st.just(4)), elements=st.floats(-1e6, 1e6, width=64)),
    gaps=st.lists(st.sampled_from(_GAPS), min_size=3, max_size=3),
    newline=st.sampled_from(["\n", "\r\n"]),
    trailing=st.sampled_from(["", "\n", "\n\n \n"]),
    size_hint=st.booleans(),
)
def test_any_delimiter_mix_reads_back(tmp_path_factory, boxes, gaps, newline, trailing, size_hint):
    rows = boxes if not size_hint else np.repeat(boxes, 120, axis=0)  # large: compiled readers
    lines = ["".join(repr(v) + gap for v, gap in zip(r, gaps)) + repr(r[3]) for r in rows.tolist()]
    path = tmp_path_factory.mktemp("mix") / "r.txt"
    path.write_bytes((newline.join(lines) + newline + trailing).encode())
    np.testing.assert_array_equal(read_boxes(path), rows)


@settings(max_examples=30, deadline=None)
@given(
    n_rows=st.integers(2, 3000),
    data=st.data(),
)
def test_a_dropped_or_extra_field_is_reported_at_its_line(tmp_path_factory, n_rows, data):
    bad = data.draw(st.integers(0, n_rows - 1))
    extra = data.draw(st.booleans())
    gap = data.draw(st.sampled_from([",", "\t", " "]))
    rows = [gap.join(f"{i + k}.25" for k in range(4)) for i in range(n_rows)]
    rows[bad] = rows[bad] + gap + "7.5" if extra else gap.join(rows[bad].split(gap)[:3])
    path = tmp_path_factory.mktemp("bad") / "r.txt"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(ResultFormatError, match=f"got {5 if extra else 3} fields") as info:
        read_boxes(path)
    assert f"{path}:{bad + 1}:" in str(info.value)


def test_concurrent_writers_never_expose_a_partial_file(tmp_path):
    """Threads rewriting one file while another reads it: every read is one complete version."""
    import threading

    path = tmp_path / "seq.txt"
    versions = [np.full((500, 4), float(k)) for k in range(4)]
    write_boxes(path, versions[0])
    stop = threading.Event()
    errors: list[Exception] = []

    def writer(k):
        try:
            while not stop.is_set():
                write_boxes(path, versions[k])
        except Exception as err:  # recorded: a failure in a thread must fail the test
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(1, 4)]
    for t in threads:
        t.start()
    try:
        for _ in range(200):
            boxes = read_boxes(path)
            if boxes.shape != (500, 4) or len(np.unique(boxes)) != 1:
                errors.append(AssertionError(f"partial or mixed file: {boxes.shape}"))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    assert [p.name for p in tmp_path.iterdir()] == ["seq.txt"]


@settings(max_examples=60, deadline=None)
@given(
    box=st.tuples(st.floats(0, 1000), st.floats(0, 1000), st.floats(2, 500), st.floats(2, 500)),
    change=st.tuples(st.floats(-20, 20), st.floats(-20, 20), st.floats(0.7, 1.4), st.floats(0.7, 1.4)),
)
def test_corner_rule_never_fires_on_consistent_xywh(box, change):
    """A true x,y,w,h first row followed by a similar-sized box is never taken for corners;
    the same box written as corners always is."""
    x, y, w, h = box
    second = [x + change[0], y + change[1], w * change[2], h * change[3]]
    assert not first_row_is_corners(np.array([box, second]))
    # written as corners, it is found unless its corner numbers also pass for a similar size
    as_is_close = 1 / 1.5 <= (x + w) / second[2] <= 1.5 and 1 / 1.5 <= (y + h) / second[3] <= 1.5
    assert first_row_is_corners(np.array([[x, y, x + w, y + h], second])) == (not as_is_close)


def test_arrow_reader_is_exact_and_does_not_import_pandas(tmp_path):
    """The cold evaluate path reads with pyarrow without importing pandas (0.6 s CPU in a fresh
    process; pyarrow's own to_numpy would import it), giving numpy's correctly rounded values."""
    pytest.importorskip("pyarrow")
    import subprocess
    import sys

    rng = np.random.default_rng(3)
    values = rng.random((20000, 4)) * 1000
    values[::2] = np.round(values[::2], 2)  # short decimals and full 17-digit ones
    path = tmp_path / "big.txt"
    path.write_text("".join(",".join(repr(float(v)) for v in row) + "\n" for row in values))
    code = (
        "import sys, numpy as np; from reasoningtrack import boxfiles as R\n"
        f"a = R.read_boxes_many([{str(path)!r}], cache_dir=None)[0]\n"
        "print('pandas' in sys.modules); np.save(sys.argv[1], a)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a.npy")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert np.array_equal(np.load(tmp_path / "a.npy"), values)  # repr round-trips: exact values
