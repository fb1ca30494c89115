"""Bulk readers for the big benchmarks (LaSOT, TNL2K): many ground-truth tables parsed in one
call, and 0/1 flag files checked with numpy on their bytes. Single-file readers are those of
:mod:`.parsing` (re-exported here for the loaders). Every error is a :class:`DatasetError`
naming the file (and line)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .base import DatasetError
from .parsing import natural_key, read_box_table, read_text

__all__ = [
    "read_box_table",
    "read_box_tables",
    "read_flags",
    "read_sentence",
    "read_name_list",
    "natural_key",
    "align_flags",
]


_FLAG_SPLIT = re.compile(rb"[\s,;]+")
_FLAG_BYTES = np.zeros(256, dtype=bool)
_FLAG_BYTES[list(b"01 \t\r\n,;")] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[list(b"01")] = True


def _fast_flags(data: bytes) -> np.ndarray | None:
    """Single-character 0/1 tokens separated by whitespace/commas, vectorised; None if unsure."""
    b = np.frombuffer(data, dtype=np.uint8)
    if not _FLAG_BYTES[b].all():
        return None
    digit = _DIGIT[b]
    if (digit[1:] & digit[:-1]).any():  # "10", "011": not a flag
        return None
    return b[digit] == ord("1")


def read_flags(path: Path, count: int | None = None, what: str = "0/1 flags") -> np.ndarray:
    """0/1 flags separated by newlines, commas or spaces (blank trailing lines allowed).

    With ``count``, exactly that many flags are required (attribute files).
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"missing annotation file {path}") from None
    flags = _fast_flags(data)
    if flags is None:
        tokens = [t for t in _FLAG_SPLIT.split(data.strip()) if t]
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            if any(tok not in ("0", "1") for tok in re.split(r"[\s,;]+", line.strip()) if tok):
                raise DatasetError(f"{path}:{number}: expected {what}, got {line.strip()!r}")
        flags = np.array([t == b"1" for t in tokens], dtype=bool)
    if count is not None and len(flags) != count:
        raise DatasetError(f"{path}: expected {count} {what}, got {len(flags)}")
    return flags


def read_box_tables(paths: list[Path]) -> list[np.ndarray]:
    """Many ``x,y,w,h`` files at once: plain comma-separated ones are converted in one call
    (see ``evaluation.evaluate.parse_comma_files``), the others by :func:`read_box_table`."""
    from ..evaluation.evaluate import parse_comma_files

    blobs = []
    for path in paths:
        try:
            blobs.append(Path(path).read_bytes())
        except FileNotFoundError:
            raise DatasetError(f"missing annotation file {path}") from None
    parsed = parse_comma_files(blobs)
    return [boxes if boxes is not None else read_box_table(path) for path, boxes in zip(paths, parsed)]


def align_flags(flags: np.ndarray, n_rows: int, path: Path) -> np.ndarray:
    """Flags aligned to the ground truth: extra trailing flags are cut (TNL2K's
    ``advSamp_monitor_bikeyellow`` has 930 flags for 929 rows), missing ones are an error."""
    if len(flags) < n_rows:
        raise DatasetError(f"{path}: {len(flags)} flags for {n_rows} ground-truth rows (expected one per frame)")
    return flags[:n_rows]


def read_sentence(path: Path) -> str:
    """A language description (lines joined by one space); empty or missing raises."""
    return read_text(path, "language description")


def read_name_list(path: Path) -> list[str]:
    """A sequence list (one name per line, no repeats); an empty list raises."""
    from .parsing import read_name_list as read_names

    names = read_names(path, "sequence list")
    if not names:
        raise DatasetError(f"{path}: empty sequence list")
    return names
