"""Box files (results and ground truth, one ``x,y,w,h`` row per frame) and other numeric tables:
parse and write them. Result-folder layouts and lookup live in :mod:`reasoningtrack.evaluation.results`.

Reading is tolerant of what real result files contain: comma, tab, space or semicolon
delimiters (mixed within one file, e.g. OTB's ``205\\t151\\t17\\t50`` next to ``1,2,3,4``), ``\\r\\n``
line ends, a UTF-8 byte-order mark, a trailing delimiter, blank trailing lines, ``NaN``/``nan``.
It refuses, with the file and line, what would silently shift frames or columns: a row that is
not exactly four numbers, an empty field (``1,,2,3``), a blank line before or between rows.

Reading is fast because evaluating 7 trackers x 280 LaSOT sequences (4.8 M rows, 238 MB) is
mostly parsing. The common file (only commas and newlines) gets cheap byte-level checks and
then a compiled CSV reader configured to be strict — pyarrow when installed, else pandas, else
``numpy.fromstring`` for small files or when neither is present. Other files (tabs, spaces,
mixtures) get a vectorised numpy check of their row structure and ``numpy.array(tokens,
dtype=float)``. Every converter gives the correctly rounded float64 of each token, identical to
Python's ``float`` (tested on real files). Only a malformed file takes the slow line-by-line
path, whose job is to name the bad line. :func:`read_boxes_many` reads a tracker's (or a
benchmark's) files together: the common ones are joined and converted by one call of the same
converter, which is what makes evaluating whole benchmarks fast.

Writing is atomic (:mod:`reasoningtrack.fileio`) and uses full
precision: each value is written as Python's ``repr`` of the float64, the shortest text that
reads back to the same number, so integers print as ``12.0`` and NaN as ``nan``.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Iterable, Literal, Sequence

import numpy as np

from .fileio import atomic_write_text

__all__ = [
    "ResultFormatError",
    "ResultsMissingError",
    "parse_numeric_table",
    "read_boxes",
    "read_boxes_many",
    "parse_plain_boxes",
    "read_times",
    "write_boxes",
    "write_times",
    "first_row_is_corners",
]

# Delimiters folded into the two separators the structure check knows: ',' (at most one per
# gap between numbers) and ' ' (any run). '\r' and other ASCII whitespace become spaces.
_NORMALISE = bytes.maketrans(b";\t\r\x0b\x0c", b",    ")
_OTHER_DELIMITERS = (b";", b"\t", b"\r", b"\x0b", b"\x0c")
_COMMA, _NEWLINE, _SPACE = 44, 10, 32
_BOM = b"\xef\xbb\xbf"
# Comma-only files larger than this use a compiled CSV reader when one is installed (pyarrow,
# else pandas: both come with the [train] extra). Importing one costs ~0.5 s once, and each call
# ~0.3-1 ms, more than numpy needs for a small file.
_FAST_READER_MIN_BYTES = 16 * 1024
_FAST_READERS = ("arrow", "pandas")
_ROW_SPLIT = re.compile(r"\s*,\s*|\s+")
_NUMBER = re.compile(r"[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|nan|inf|infinity)", re.IGNORECASE)


class ResultFormatError(ValueError):
    """A result or annotation table that is malformed; the message names the file and line."""


class ResultsMissingError(FileNotFoundError):
    """No result file for a sequence; the message lists every place that was looked at."""


# ----------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------


def _count_rows(norm: bytes, columns: int) -> int:
    """Vectorised structure check: every non-blank line holds ``columns`` tokens, no empty field,
    no blank line before or between rows. Returns the number of rows, or -1 on any doubt (the
    slow path then names the line)."""
    b = np.frombuffer(norm, dtype=np.uint8)
    is_token = (b != _SPACE) & (b != _NEWLINE) & (b != _COMMA)
    start = is_token.copy()
    start[1:] &= ~is_token[:-1]
    events = np.flatnonzero(start | (b == _COMMA) | (b == _NEWLINE))
    kind = b[events]
    is_comma = kind == _COMMA
    is_newline = kind == _NEWLINE
    is_start = ~(is_comma | is_newline)
    # A comma must directly follow a number (no leading comma, no empty field ",,").
    if is_comma.any():
        follows_number = np.zeros(len(kind), dtype=bool)
        follows_number[1:] = is_start[:-1]
        if (is_comma & ~follows_number).any():
            return -1
    line_of_event = np.cumsum(is_newline)
    per_line = np.bincount(line_of_event[is_start])
    filled = np.flatnonzero(per_line)
    if len(filled) == 0:
        return 0
    if filled[0] != 0 or filled[-1] + 1 != len(filled):
        return -1  # blank line before the first row or between rows
    return len(filled) if bool((per_line[filled] == columns).all()) else -1


def _comma_rows(norm: bytes, columns: int) -> tuple[bytes, int] | None:
    """Cheap checks for the common file: no space (only commas and newlines between numbers)
    and ``columns - 1`` commas per row in total. Returns the rows' text (trailing newlines
    removed) and the row count, or None when the file is anything else (the general check then
    takes over). The converters below reject what this leaves open (empty fields, blank lines,
    a row with too many fields and hence one with too few)."""
    body = norm.rstrip(b"\n")
    if b" " in body or body.startswith(b","):
        return None
    n_rows = body.count(b"\n") + 1
    if body.count(b",") != (columns - 1) * n_rows:
        return None
    return body, n_rows


def _convert_comma_rows(body: bytes, n_rows: int, columns: int) -> np.ndarray:
    """Convert comma-only rows; raises ValueError on a bad token, an empty field or line, or a
    row with the wrong number of fields."""
    if len(body) >= _FAST_READER_MIN_BYTES:
        for reader in _FAST_READERS:
            parsed = _FAST_READER_FUNCTIONS[reader](body, columns)  # strict: see each reader
            if parsed is not None:
                if parsed.shape != (n_rows, columns):
                    raise ValueError("row count mismatch")
                return parsed
    if b",," in body or b"\n\n" in body or b",\n" in body or b"\n," in body or body.startswith(b"\n"):
        raise ValueError("empty field or blank line")
    if n_rows > 1 and columns > 1:
        b = np.frombuffer(body, dtype=np.uint8)
        newlines = np.flatnonzero(b == _NEWLINE)
        commas_per_row = np.bincount(np.searchsorted(newlines, np.flatnonzero(b == _COMMA)), minlength=n_rows)
        if (commas_per_row != columns - 1).any():
            raise ValueError("a row with the wrong number of fields")
    values = np.fromstring(body.replace(b"\n", b","), dtype=np.float64, sep=",")
    return values.reshape(n_rows, columns)


def _convert(norm: bytes, n_rows: int, columns: int) -> np.ndarray:
    """Convert checked rows of any delimiter mix (raises ValueError on a bad token)."""
    values = np.array(norm.replace(b",", b" ").split(), dtype=np.float64)
    return values.reshape(n_rows, columns)


def _convert_with_arrow(comma_text: bytes, columns: int) -> np.ndarray | None:
    """pyarrow's CSV reader: ~3x faster than pandas, ~15x faster than numpy on long floats.

    Configured strict: no null values (an empty field is not a number), no quoting, no skipped
    empty lines, and any row with another field count than the first is an error (ArrowInvalid
    is a ValueError). Its float parser is correctly rounded, as Python's.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
    except ImportError:
        return None
    names = [f"c{i}" for i in range(columns)]
    table = pa_csv.read_csv(
        pa.py_buffer(comma_text),
        read_options=pa_csv.ReadOptions(column_names=names, use_threads=False),
        parse_options=pa_csv.ParseOptions(delimiter=",", quote_char=False, ignore_empty_lines=False),
        convert_options=pa_csv.ConvertOptions(
            column_types={n: pa.float64() for n in names},
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if table.num_columns != columns:
        raise ValueError("column count mismatch")
    return _fortran_columns([_arrow_float64(column) for column in table.columns], table.num_rows)


def _arrow_float64(column) -> np.ndarray:
    """A float64 pyarrow column without nulls as numpy, read from its data buffers: pyarrow's own
    ``to_numpy`` imports pandas (~0.6 s CPU in a fresh process) to check for extension types."""
    parts = []
    for chunk in column.chunks:
        if chunk.null_count or chunk.type != "double":
            return column.to_numpy()
        parts.append(np.frombuffer(chunk.buffers()[1], dtype=np.float64, count=len(chunk), offset=chunk.offset * 8))
    return np.concatenate(parts) if len(parts) != 1 else parts[0]


def _pandas():
    """pandas, or None when it is not installed (the numpy converter then serves)."""
    try:
        import pandas as pd
    except ImportError:
        return None
    return pd


def _convert_with_pandas(comma_text: bytes, columns: int) -> np.ndarray | None:
    """pandas' C reader on purely comma-separated rows: ~6x faster than numpy on long floats.

    It is strict where we need it: an empty field (``1,,2``, a blank line, a trailing comma) is
    not a number and a row with more fields than ``columns`` is a ParserError (a ValueError)."""
    pd = _pandas()
    if pd is None:
        return None
    major, minor = (int(p) for p in pd.__version__.split(".")[:2])
    # pandas >= 3.1 has one (correctly rounded) converter; older ones need 'round_trip' for that.
    options = {} if (major, minor) >= (3, 1) else {"float_precision": "round_trip"}
    frame = pd.read_csv(
        io.BytesIO(comma_text),
        sep=",",
        header=None,
        names=list(range(columns)),
        index_col=False,
        dtype=np.float64,
        engine="c",
        keep_default_na=False,
        na_values=["nan", "NaN", "NAN", "-nan", "-NaN"],
        skip_blank_lines=False,  # a blank line becomes empty fields, hence an error
        **options,
    )
    return _fortran_columns([frame[j].to_numpy(dtype=np.float64) for j in range(columns)], len(frame))


def _fortran_columns(columns: list[np.ndarray], n_rows: int) -> np.ndarray:
    """Columns as one Fortran-ordered ``(n_rows, len(columns))`` array: no row-interleaving copy,
    and the metrics read boxes column by column (measurably faster than a C-ordered array)."""
    values = np.empty((len(columns), n_rows), dtype=np.float64)
    for j, column in enumerate(columns):
        values[j] = column
    return values.T


_FAST_READER_FUNCTIONS = {"arrow": _convert_with_arrow, "pandas": _convert_with_pandas}


def _explain(text: str, columns: int, source: str, what: str) -> ResultFormatError:
    """Slow path: find the first offending line and say what is wrong with it."""
    lines = text.split("\n")
    last_filled = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for number, raw in enumerate(lines, start=1):
        line = raw.strip(" \t\r\x0b\x0c")
        if number - 1 > last_filled:
            break
        if not line:
            return ResultFormatError(
                f"{source}:{number}: blank line before or between rows (expected {what}; a gap "
                "would shift every later frame)"
            )
        body = line.replace(";", ",")
        body = body[:-1].rstrip() if body.endswith(",") else body  # one trailing delimiter is fine
        fields = _ROW_SPLIT.split(body)
        if any(f == "" for f in fields):
            return ResultFormatError(f"{source}:{number}: empty field in {raw.strip()!r} (expected {what})")
        if len(fields) != columns:
            return ResultFormatError(
                f"{source}:{number}: expected {what} ({columns} numbers), got {len(fields)} fields: {raw.strip()!r}"
            )
        for f in fields:
            if not _NUMBER.fullmatch(f):
                return ResultFormatError(f"{source}:{number}: not a number: {f!r} in {raw.strip()!r} (expected {what})")
    return ResultFormatError(f"{source}: malformed table (expected {what})")


def _strip_bom_and_crlf(data: bytes) -> bytes:
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    return data.replace(b"\r\n", b"\n") if b"\r" in data else data


def _fold_delimiters(data: bytes) -> bytes:
    """Every delimiter as ',' or ' ' (see ``_NORMALISE``), the two the structure checks know."""
    return data.translate(_NORMALISE) if any(c in data for c in _OTHER_DELIMITERS) else data


def parse_numeric_table(data: bytes, columns: int, source: str = "<bytes>", what: str | None = None) -> np.ndarray:
    """Parse delimiter-tolerant rows of ``columns`` numbers into a ``(N, columns)`` float64 array.

    ``source`` names the file in error messages; ``what`` describes a row (default
    ``"<columns> numbers"``). An empty input gives a ``(0, columns)`` array.
    """
    what = what or f"{columns} numbers per row"
    data = _strip_bom_and_crlf(data)
    norm = _fold_delimiters(data)
    if not norm.strip(b" \n"):
        return np.zeros((0, columns), dtype=np.float64)
    if b"_" in norm:  # Python/numpy accept "1_000"; no tracker writes it, the toolkits reject it
        raise _explain(data.decode("utf-8", errors="replace"), columns, source, what)
    comma_rows = _comma_rows(norm, columns)
    if comma_rows is not None:
        try:
            return _convert_comma_rows(*comma_rows, columns)
        except ValueError:
            pass  # a token that is not a number: the slow path names its line
    n_rows = _count_rows(norm, columns)
    if n_rows >= 0:
        try:
            return _convert(norm, n_rows, columns)
        except ValueError:
            pass  # a token that is not a number: the slow path names its line
    raise _explain(data.decode("utf-8", errors="replace"), columns, source, what)


def read_boxes(path: str | os.PathLike, first_row: Literal["as-is", "auto"] = "as-is") -> np.ndarray:
    """Read one result (or ground-truth) file as an ``(N, 4)`` float64 array of ``x, y, w, h``.

    ``first_row="auto"`` converts a first row written as corners (``x1, y1, x2, y2``, as
    SiamRPN's OTB files do) to ``x, y, w, h`` when :func:`first_row_is_corners` says so; the
    default ``"as-is"`` never changes a value.
    """
    path = Path(path)
    data = _read_file(path, "result file")
    _check_first_row(first_row)
    return _with_first_row(parse_numeric_table(data, 4, str(path), "x,y,w,h"), first_row)


def _read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ResultsMissingError(f"{what} not found: {path}") from None


def _check_first_row(first_row: str) -> None:
    if first_row not in ("as-is", "auto"):
        raise ValueError(f"first_row must be 'as-is' or 'auto', got {first_row!r}")


def _with_first_row(boxes: np.ndarray, first_row: str) -> np.ndarray:
    if first_row == "auto" and first_row_is_corners(boxes):
        boxes = boxes.copy()
        boxes[0, 2:] = boxes[0, 2:] - boxes[0, :2]
    return boxes


def _counted_rows(data: bytes) -> int:
    """Rows of a file that has exactly three commas per newline and no leading comma, else -1.
    Enough, because the converters are strict: a row with more, fewer or empty fields, or a
    blank line, makes them raise (or return another row count, which is refused)."""
    b = np.frombuffer(data, dtype=np.uint8)
    rows = int(np.count_nonzero(b == _NEWLINE))
    ok = rows > 0 and b[0] != _COMMA and int(np.count_nonzero(b == _COMMA)) == 3 * rows
    return rows if ok else -1


def _convert_plain_block(block: bytes, rows: int) -> np.ndarray | None:
    """``a,b,c,d\\n`` rows to ``(rows, 4)`` float64, correctly rounded; None if any row is bad.
    The readers in ``_FAST_READERS`` order (pyarrow, then pandas), else numpy. pandas parses one
    large block ~20% faster than pyarrow, but importing it costs ~0.6 s CPU against pyarrow's
    ~0.07 s, more than the whole difference for 7 LaSOT trackers (238 MB: pyarrow 1.32 s,
    pandas 1.06 s CPU, identical arrays), and evaluate runs in a fresh process."""
    try:
        values = _convert_comma_rows(block[:-1], rows, 4)
    except ValueError:  # pandas' ParserError and pyarrow's ArrowInvalid are ValueErrors
        return None
    return values if values.shape == (rows, 4) else None


def parse_plain_boxes(blobs: Sequence[bytes]) -> list[np.ndarray | None]:
    """Many files' bytes converted in one call; None for a file that needs :func:`read_boxes`.

    A file qualifies when it holds only ``a,b,c,d`` rows (``\\r\\n`` line ends and a missing
    final newline allowed): the usual result and ground-truth file. The qualifying files are
    joined and converted at once by a strict converter and split back by row counts; if the
    block is refused, each file is converted on its own so that only the malformed ones get
    None. Loading 280 LaSOT files this way costs about one converter call instead of 280.
    """
    out: list[np.ndarray | None] = [None] * len(blobs)
    plain: list[tuple[int, bytes, int]] = []
    for i, data in enumerate(blobs):
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        if data and not data.endswith(b"\n"):
            data += b"\n"
        if not data or b"_" in data:  # "1_000" is refused, with its line, by the single-file reader
            continue
        rows = _counted_rows(data)
        if rows > 0:
            plain.append((i, data, rows))
    if not plain:
        return out
    values = _convert_plain_block(b"".join(d for _, d, _ in plain), sum(r for _, _, r in plain))
    if values is None:  # some row is malformed: convert file by file to isolate it
        for i, data, rows in plain:
            out[i] = _convert_plain_block(data, rows)
        return out
    start = 0
    for i, _, rows in plain:
        out[i] = values[start : start + rows]
        start += rows
    return out


def read_boxes_many(
    paths: Iterable[str | os.PathLike],
    first_row: Literal["as-is", "auto"] = "as-is",
    *,
    cache_dir: "str | os.PathLike | None" = "default",
) -> list[np.ndarray]:
    """:func:`read_boxes` for many files (a tracker's results, a benchmark's ground truths), in
    order, with the same values and errors, but the plain ones parsed together
    (:func:`parse_plain_boxes`), which is where evaluating a benchmark spends its time.

    Unchanged files are served from the parsed-table cache (:mod:`reasoningtrack.tablecache`;
    ``cache_dir=None`` bypasses it, ``"default"`` uses the environment's folder)."""
    from .tablecache import load_tables

    _check_first_row(first_row)
    paths = [Path(p) for p in paths]
    return load_tables(
        paths, lambda todo: _read_boxes_many_uncached(todo, first_row), kind=f"boxes:{first_row}", cache_dir=cache_dir
    )


def _read_boxes_many_uncached(paths: list[Path], first_row: str) -> list[np.ndarray]:
    blobs = [_read_file(path, "result file") for path in paths]
    return [
        _with_first_row(boxes, first_row) if boxes is not None else read_boxes(path, first_row)
        for path, boxes in zip(paths, parse_plain_boxes(blobs))
    ]


def first_row_is_corners(boxes: np.ndarray, tolerance: float = 1.5) -> bool:
    """Whether row 0 is a corner box ``x1, y1, x2, y2`` while later rows are ``x, y, w, h``.

    Rule: with at least two rows and a finite second row of positive size, row 0 is read as
    corners when (a) ``x2 > x1`` and ``y2 > y1``, (b) the corner reading's size
    ``(x2 - x1, y2 - y1)`` is within a factor ``tolerance`` of row 1's ``(w, h)`` in both
    dimensions, and (c) the as-is reading's ``(w, h)`` is not (in at least one dimension).
    Trackers move little between frames 1 and 2, so a first row whose "size" is really a
    bottom-right corner stands out. The origin is not shifted: SiamRPN's corners are 0-based
    like its later rows.
    """
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim != 2 or b.shape[0] < 2 or b.shape[1] != 4:
        return False
    first, second = b[0], b[1]
    if not (np.isfinite(first).all() and np.isfinite(second).all()):
        return False
    ref = second[2:]
    if (ref <= 0).any():
        return False
    corner_size = first[2:] - first[:2]
    if (corner_size <= 0).any():
        return False

    def close(size: np.ndarray) -> bool:
        if (size <= 0).any():
            return False
        ratio = size / ref
        return bool(((ratio <= tolerance) & (ratio >= 1.0 / tolerance)).all())

    return close(corner_size) and not close(first[2:])


def read_times(path: str | os.PathLike) -> np.ndarray:
    """Read a per-frame time file (``<seq>_time.txt``: one number of seconds per line)."""
    path = Path(path)
    data = _read_file(path, "time file")
    return parse_numeric_table(data, 1, str(path), "one time in seconds")[:, 0]


# ----------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------


def _format_rows(values: np.ndarray) -> str:
    if values.size == 0:
        return ""
    return "\n".join(",".join(map(repr, row)) for row in values.tolist()) + "\n"


def write_boxes(path: str | os.PathLike, boxes) -> Path:
    """Write ``(N, 4)`` boxes as comma-separated ``repr`` floats (``12.0``, ``nan``), atomically."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1 and arr.size == 4:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4), got {arr.shape}")
    return atomic_write_text(path, _format_rows(arr))


def write_times(path: str | os.PathLike, times: Iterable[float]) -> Path:
    """Write per-frame times in seconds, one ``repr`` float per line, atomically."""
    arr = np.asarray(list(times) if not isinstance(times, np.ndarray) else times, dtype=np.float64).reshape(-1, 1)
    return atomic_write_text(path, _format_rows(arr))
