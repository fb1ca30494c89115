"""Annotation-file readers shared by every dataset loader.

Each reader raises :class:`~reasoningtrack.datasets.base.DatasetError` naming the file (and the
line, where one is at fault) and what was expected; nothing is skipped or repaired silently.
Box tables go through :func:`reasoningtrack.boxfiles.read_boxes` (fast, tolerant of
comma/tab/space/semicolon delimiters and their mixtures), so ground truth and results share one
parser; :func:`read_box_tables` reads a whole benchmark's ground truths in one converter call
(:func:`~reasoningtrack.boxfiles.read_boxes_many`). Flag files, the other bulk of
LaSOT's and TNL2K's annotations, are checked with numpy on their bytes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

import numpy as np

from ..boxfiles import (
    ResultFormatError,
    ResultsMissingError,
    parse_numeric_table,
    read_boxes,
    read_boxes_many,
)
from ..sequence_files import IMAGE_EXTENSIONS, image_files, natural_key
from .base import DatasetError

__all__ = [
    "read_box_table",
    "read_box_tables",
    "read_numeric_table",
    "read_integers",
    "read_flags",
    "align_flags",
    "read_text",
    "read_name_list",
    "require_file",
    "read_attribute_file",
    "list_images",
    "natural_key",
    "IMAGE_EXTENSIONS",
]

_DELIMITERS = re.compile(r"[,;\s]+")
_BOM = "\ufeff"
_BOM_BYTES = b"\xef\xbb\xbf"
_TO_SPACE = bytes.maketrans(b",;\t\r\x0b\x0c", b"      ")


def require_file(path: str | os.PathLike, what: str) -> Path:
    """Return ``path`` if it is a file, else raise a DatasetError saying what was expected there."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"missing {what}: {path}")
    return path


def read_box_table(path: str | os.PathLike, what: str = "ground-truth file") -> np.ndarray:
    """An ``(N, 4)`` float64 ``x, y, w, h`` table (one box per line, any delimiter mix); an empty
    file raises (a sequence without a single box cannot be initialised)."""
    path = require_file(path, what)
    try:
        boxes = read_boxes(path)
    except ResultFormatError as err:
        raise DatasetError(str(err)) from err
    if len(boxes) == 0:
        raise DatasetError(f"{path}: empty {what} (expected one x,y,w,h row per frame)")
    return boxes


def read_box_tables(paths: Iterable[str | os.PathLike], what: str = "ground-truth file") -> list[np.ndarray]:
    """:func:`read_box_table` for many files (a benchmark's ground truths), with the same values
    and errors, the plain comma-separated ones converted in one call."""
    paths = [Path(p) for p in paths]
    try:
        tables = read_boxes_many(paths)
    except ResultsMissingError:
        missing = next((p for p in paths if not p.is_file()), paths[0])
        raise DatasetError(f"missing {what}: {missing}") from None
    except ResultFormatError as err:
        raise DatasetError(str(err)) from err
    for path, boxes in zip(paths, tables):
        if len(boxes) == 0:
            raise DatasetError(f"{path}: empty {what} (expected one x,y,w,h row per frame)")
    return tables


def read_numeric_table(path: str | os.PathLike, columns: int, what: str = "table") -> np.ndarray:
    """An ``(N, columns)`` float64 table with the same tolerance and errors as box tables."""
    path = require_file(path, what)
    try:
        return parse_numeric_table(path.read_bytes(), columns, str(path))
    except ResultFormatError as err:
        raise DatasetError(str(err)) from err


def _read_text_lines(path: Path) -> list[str]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise DatasetError(f"{path}: not UTF-8 text ({err})") from None
    return text.lstrip(_BOM).splitlines()


def read_integers(path: str | os.PathLike, what: str = "integer file") -> np.ndarray:
    """All integers of a file, in reading order, whatever the layout: one per line (LaSOT's
    ``absent/``, TNL2K's attribute files), one comma-separated row (LaSOT's ``att/``) or a mix.
    A token that is not an integer (``1.0`` counts as 1) raises with its line."""
    path = require_file(path, what)
    raw = path.read_bytes()
    if raw.startswith(_BOM_BYTES):
        raw = raw[len(_BOM_BYTES):]
    tokens = raw.translate(_TO_SPACE).split()
    if not tokens:
        return np.zeros(0, dtype=np.int64)
    if b"_" not in raw:  # numpy would accept "1_0"; the line-by-line check below refuses it
        try:
            values = np.array(tokens, dtype=np.float64)
            if np.isfinite(values).all() and (values == np.round(values)).all():
                return values.astype(np.int64)
        except ValueError:
            pass
    for number, line in enumerate(_read_text_lines(path), start=1):
        for token in _DELIMITERS.split(line.strip()):
            if not token:
                continue
            try:
                value = float(token) if "_" not in token else float("nan")
            except ValueError:
                value = float("nan")
            if not np.isfinite(value) or value != round(value):
                raise DatasetError(f"{path}:{number}: expected integers in the {what}, got {token!r}")
    raise DatasetError(f"{path}: expected integers in the {what}")


_FLAG_FILE_BYTES = np.zeros(256, dtype=bool)
_FLAG_FILE_BYTES[list(b"01 \t\r\n,;")] = True
_FLAG_DIGITS = np.zeros(256, dtype=bool)
_FLAG_DIGITS[list(b"01")] = True


def _plain_flags(data: bytes) -> np.ndarray | None:
    """Single-character 0/1 tokens between whitespace, commas or semicolons -- nearly every flag
    file -- decided and converted with numpy on the bytes; None for anything else."""
    b = np.frombuffer(data, dtype=np.uint8)
    if not _FLAG_FILE_BYTES[b].all():
        return None
    digits = _FLAG_DIGITS[b]
    if (digits[1:] & digits[:-1]).any():  # "10", "011": not a flag
        return None
    return b[digits] == ord("1")


def _line_of_token(path: Path, index: int) -> int:
    """The line holding the ``index``-th token (0-based) of a delimited file."""
    seen = number = 0
    for number, line in enumerate(_read_text_lines(path), start=1):
        seen += sum(1 for token in _DELIMITERS.split(line.strip()) if token)
        if seen > index:
            return number
    return number


def read_flags(path: str | os.PathLike, what: str = "flag file", length: int | None = None) -> np.ndarray:
    """A 0/1 flag file as a bool array (True where the file says 1), in any layout.

    One per line (LaSOT's ``absent/``), one comma-separated row (LaSOT's ``att/``) or a mix;
    ``1.0`` counts as 1. ``length``, when given, is the number of flags required (a different
    count raises). A bad value raises with its line. Callers with an inverted convention
    (TNLLT's ``absent_label.txt``: 0 = absent) negate the result.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise DatasetError(f"missing {what}: {path}") from None
    flags = _plain_flags(data)
    if flags is None:
        values = read_integers(path, what)  # a token that is not an integer raises with its line
        bad = np.flatnonzero((values != 0) & (values != 1))
        if len(bad):
            k = int(bad[0])
            raise DatasetError(
                f"{path}:{_line_of_token(path, k)}: expected {what} (only 0 and 1; flag #{k + 1} is {values[k]})"
            )
        flags = values.astype(bool)
    if length is not None and len(flags) != length:
        raise DatasetError(
            f"{path}: expected {length} {what}, got {len(flags)} (the file holds {len(flags)} flags, expected {length})"
        )
    return flags


def align_flags(flags: np.ndarray, n_rows: int, path: str | os.PathLike) -> np.ndarray:
    """Flags aligned to the ground truth: extra trailing flags are cut (TNL2K's
    ``advSamp_monitor_bikeyellow`` has 930 flags for 929 rows), missing ones are an error."""
    if len(flags) < n_rows:
        raise DatasetError(f"{path}: {len(flags)} flags for {n_rows} ground-truth rows (expected one per frame)")
    return flags[:n_rows]


def read_text(path: str | os.PathLike, what: str = "description", required: bool = True) -> str | None:
    """A one-line text (a language description). Several non-empty lines are joined by one
    space; surrounding whitespace is removed. An empty file raises when ``required``, else gives
    None; a missing file always raises (pass ``required=False`` and check existence first for
    optional files)."""
    path = require_file(path, what)
    lines = [line.strip() for line in _read_text_lines(path)]
    text = " ".join(line for line in lines if line)
    if not text:
        if required:
            raise DatasetError(f"{path}: empty {what}")
        return None
    return text


def read_name_list(path: str | os.PathLike, what: str = "sequence list", required: bool = False) -> list[str]:
    """One name per line (blank lines ignored, surrounding whitespace removed); a repeated
    name raises with both lines; an empty list raises when ``required``."""
    path = require_file(path, what)
    names: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(_read_text_lines(path), start=1):
        name = line.strip()
        if not name:
            continue
        if name in seen:
            raise DatasetError(f"{path}:{number}: {name!r} already listed on line {seen[name]} of the {what}")
        seen[name] = number
        names.append(name)
    if required and not names:
        raise DatasetError(f"{path}: empty {what}")
    return names


def list_images(
    folder: str | os.PathLike,
    what: str = "frame folder",
    extensions: tuple[str, ...] = IMAGE_EXTENSIONS,
    allow_empty: bool = False,
) -> list[Path]:
    """The image files (by lower-case suffix) of a folder in natural order; a missing folder
    raises, and so does one without images unless ``allow_empty``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"missing {what}: {folder}")
    images = image_files(folder, extensions)
    if not images and not allow_empty:
        raise DatasetError(f"no images ({', '.join(extensions)}) in the {what} {folder}")
    return images


def read_attribute_file(
    path: str | os.PathLike, names: tuple[str, ...] = (), what: str = "attribute file"
) -> dict[str, bool]:
    """Attributes in either common form, decided by the content:

    - flags: only numbers, each 0 or 1, in any layout (``0,1,0,...`` or one per line); they are
      matched in order to ``names`` (their count must agree), or named ``A1``, ``A2``, ... when
      ``names`` is empty (the benchmark's names are unknown);
    - codes: words such as ``SV, DEF, FM`` (OTB's ``attrs.txt``); each listed code is True and
      every code of ``names`` that is not listed is False. An empty file lists none.
    """
    path = require_file(path, what)
    text = path.read_bytes().decode("utf-8", errors="replace").lstrip(_BOM)
    tokens = [t for t in _DELIMITERS.split(text.strip()) if t]
    if tokens and all(re.fullmatch(r"[+-]?\d+(\.0*)?", t) for t in tokens):
        flags = read_flags(path, what)
        if names and len(flags) != len(names):
            raise DatasetError(f"{path}: {len(flags)} attribute flags, expected {len(names)} ({', '.join(names)})")
        keys = names or tuple(f"A{i + 1}" for i in range(len(flags)))
        return {k: bool(v) for k, v in zip(keys, flags)}
    for number, line in enumerate(text.splitlines(), start=1):
        for token in _DELIMITERS.split(line.strip()):
            if token and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", token):
                raise DatasetError(f"{path}:{number}: {token!r} is neither a 0/1 flag nor an attribute code")
    attributes = {code: False for code in names}
    for token in tokens:
        attributes[token] = True
    return attributes
