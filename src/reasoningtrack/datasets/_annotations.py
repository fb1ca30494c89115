"""Readers shared by the benchmark loaders: ground-truth tables, 0/1 flag files, sentences,
sequence lists. Every error is a :class:`DatasetError` naming the file (and line)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .base import DatasetError

__all__ = ["read_box_table", "read_flags", "read_sentence", "read_name_list", "natural_key", "align_flags"]


def read_box_table(path: Path) -> np.ndarray:
    """An ``x,y,w,h`` table (comma, tab or space separated) as ``(N, 4)`` float64."""
    from ..evaluation.results import ResultFormatError, parse_numeric_table

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"missing annotation file {path}") from None
    try:
        boxes = parse_numeric_table(data, 4, str(path), "x,y,w,h")
    except ResultFormatError as exc:
        raise DatasetError(str(exc)) from None
    if len(boxes) == 0:
        raise DatasetError(f"{path}: empty ground-truth file (expected one x,y,w,h row per frame)")
    return boxes


_FLAG_SPLIT = re.compile(rb"[\s,;]+")


def read_flags(path: Path, count: int | None = None, what: str = "0/1 flags") -> np.ndarray:
    """0/1 flags separated by newlines, commas or spaces (blank trailing lines allowed).

    With ``count``, exactly that many flags are required (attribute files).
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"missing annotation file {path}") from None
    tokens = [t for t in _FLAG_SPLIT.split(data.strip()) if t]
    bad = [t for t in tokens if t not in (b"0", b"1")]
    if bad:
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            if any(tok not in ("0", "1") for tok in re.split(r"[\s,;]+", line.strip()) if tok):
                raise DatasetError(f"{path}:{number}: expected {what}, got {line.strip()!r}")
        raise DatasetError(f"{path}: expected {what}, got {bad[0]!r}")
    if count is not None and len(tokens) != count:
        raise DatasetError(f"{path}: expected {count} {what}, got {len(tokens)}")
    return np.array([t == b"1" for t in tokens], dtype=bool)


def align_flags(flags: np.ndarray, n_rows: int, path: Path) -> np.ndarray:
    """Flags aligned to the ground truth: extra trailing flags are cut (TNL2K's
    ``advSamp_monitor_bikeyellow`` has 930 flags for 929 rows), missing ones are an error."""
    if len(flags) < n_rows:
        raise DatasetError(f"{path}: {len(flags)} flags for {n_rows} ground-truth rows (expected one per frame)")
    return flags[:n_rows]


def read_sentence(path: Path) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise DatasetError(f"missing language file {path}") from None
    sentence = " ".join(text.split())
    if not sentence:
        raise DatasetError(f"{path}: empty language description")
    return sentence


def read_name_list(path: Path) -> list[str]:
    """One sequence name per line (blank lines and ``\\r`` ignored); duplicates are an error."""
    names: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        name = line.strip()
        if not name:
            continue
        if name in seen:
            raise DatasetError(f"{path}:{number}: sequence {name!r} listed twice")
        seen.add(name)
        names.append(name)
    if not names:
        raise DatasetError(f"{path}: empty sequence list")
    return names


def natural_key(name: str) -> list:
    """Sort key where ``airplane-9`` comes before ``airplane-13``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]
