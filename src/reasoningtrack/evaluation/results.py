"""Result folders of trackers: the layouts toolkits use, where a sequence's result file is, and
writing one sequence's result in a layout.

Parsing and writing the box files themselves is bottom-level (:mod:`reasoningtrack.boxfiles`,
re-exported here so that ``from reasoningtrack.evaluation.results import read_boxes`` keeps working).

Layouts (see :func:`find_result_file` and :func:`write_result`):

- ``toolkit`` — the LaSOT / TNL2K / TNLLT MATLAB toolkits: ``<dir>/<seq>.txt``, or
  ``<dir>/<Tracker>_tracking_result/<seq>.txt``;
- ``pytracking`` — ``<root>/<tracker>/<param>/<seq>.txt`` (+ ``<seq>_time.txt``);
- ``got10k`` — ``<root>/<seq>/<seq>_001.txt`` (+ ``<seq>/<seq>_time.txt``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Literal

import numpy as np

from ..boxfiles import (
    ResultFormatError,
    ResultsMissingError,
    first_row_is_corners,
    parse_numeric_table,
    parse_plain_boxes,
    read_boxes,
    read_boxes_many,
    read_times,
    write_boxes,
    write_times,
)
from ..fileio import atomic_write_text as write_text_atomic

__all__ = [
    "ResultFormatError",
    "ResultsMissingError",
    "ResultsAmbiguousError",
    "LAYOUTS",
    "parse_numeric_table",
    "read_boxes",
    "read_boxes_many",
    "parse_plain_boxes",
    "read_times",
    "write_boxes",
    "write_times",
    "write_text_atomic",
    "find_result_file",
    "result_path",
    "write_result",
    "first_row_is_corners",
]

LAYOUTS = ("toolkit", "pytracking", "got10k")
Layout = Literal["toolkit", "pytracking", "got10k"]


def result_path(root: str | os.PathLike, seq_name: str, layout: Layout = "toolkit", tracker: str | None = None) -> Path:
    """Where :func:`write_result` puts a sequence's boxes.

    - ``toolkit``: ``<root>/<seq>.txt``, or ``<root>/<tracker>_tracking_result/<seq>.txt`` when
      ``tracker`` is given (the MATLAB toolkits' results folder);
    - ``pytracking``: ``<root>/<tracker>/<seq>.txt`` with ``tracker`` = ``"name/param"``
      (required, e.g. ``"dimp/dimp50"``);
    - ``got10k``: ``<root>/<seq>/<seq>_001.txt`` (run 1, the only run of a deterministic tracker).
    """
    root = Path(root)
    if layout == "toolkit":
        base = root / f"{tracker}_tracking_result" if tracker else root
        return base / f"{seq_name}.txt"
    if layout == "pytracking":
        if not tracker or len(Path(tracker).parts) != 2:
            raise ValueError(f"layout 'pytracking' needs tracker='name/param' (e.g. 'dimp/dimp50'), got {tracker!r}")
        return root / tracker / f"{seq_name}.txt"
    if layout == "got10k":
        return root / seq_name / f"{seq_name}_001.txt"
    raise ValueError(f"unknown result layout {layout!r}; use one of {', '.join(LAYOUTS)}")


def write_result(
    root: str | os.PathLike,
    seq_name: str,
    boxes,
    layout: Layout = "toolkit",
    tracker: str | None = None,
    times: Iterable[float] | None = None,
) -> Path:
    """Write one sequence's boxes (and per-frame times, if given) in an official layout.

    Times go to ``<seq>_time.txt`` beside the boxes (pytracking's and GOT-10k's name; the MATLAB
    toolkits ignore the extra file). Every file is written atomically. Returns the box file.
    """
    path = result_path(root, seq_name, layout, tracker)
    arr = np.asarray(boxes, dtype=np.float64)
    if times is not None:
        t = np.asarray(list(times) if not isinstance(times, np.ndarray) else times, dtype=np.float64).reshape(-1)
        if arr.ndim == 2 and len(t) != len(arr):
            raise ValueError(f"{seq_name}: {len(t)} times for {len(arr)} boxes")
        write_times(path.with_name(f"{seq_name}_time.txt"), t)
    return write_boxes(path, arr)


# ----------------------------------------------------------------------------------------------
# Finding
# ----------------------------------------------------------------------------------------------


class ResultsAmbiguousError(ResultsMissingError):
    """A sequence's result file exists more than once (names differing only in letter case, or in
    several result folders): which one is meant cannot be guessed. Not a missing file: it is never
    skipped by ``--skip-missing``."""


def _case_insensitive(folder: Path, filename: str) -> tuple[Path | None, list[Path]]:
    """The single file named ``filename`` in any letter case (several -> the ambiguous list)."""
    if not folder.is_dir():
        return None, []
    wanted = filename.lower()
    matches = sorted(p for p in folder.iterdir() if p.name.lower() == wanted and p.is_file())
    if len(matches) == 1:
        return matches[0], []
    return None, matches


def find_result_file(results_dir: str | os.PathLike, seq_name: str) -> Path:
    """Locate ``seq_name``'s result file in a tracker's results folder, whatever its layout.

    Tried in order: ``<dir>/<seq>.txt`` (also pytracking's ``<tracker>/<param>`` folder), the same
    name in another letter case (ATOM and Ocean write ``crossing.txt`` for ``Crossing``),
    ``<dir>/<X>_tracking_result/<seq>.txt`` when ``dir`` holds exactly one such folder (MATLAB
    toolkits), and GOT-10k's ``<dir>/<seq>/<seq>_001.txt``. Raises :class:`ResultsMissingError`
    naming the places looked at.
    """
    root = Path(results_dir)
    filename = f"{seq_name}.txt"
    looked: list[str] = []
    if not root.is_dir():
        raise ResultsMissingError(f"results folder not found: {root} (looking for {filename})")

    def attempt(folder: Path, name: str) -> Path | None:
        found, ambiguous = _case_insensitive(folder, name)
        if ambiguous:
            raise ResultsAmbiguousError(
                f"{seq_name}: ambiguous result files, names differing only in letter case: {', '.join(map(str, ambiguous))}"
                " (keep one)"
            )
        looked.append(str(folder / name) + " (any letter case)")
        return found

    found = attempt(root, filename)
    if found:
        return found
    toolkit_dirs = sorted(p for p in root.iterdir() if p.is_dir() and p.name.endswith("_tracking_result"))
    if len(toolkit_dirs) == 1:
        found = attempt(toolkit_dirs[0], filename)
        if found:
            return found
    elif len(toolkit_dirs) > 1:
        holding = [d for d in toolkit_dirs if _case_insensitive(d, filename)[0] or _case_insensitive(d, filename)[1]]
        if holding:
            raise ResultsAmbiguousError(
                f"{seq_name}: ambiguous result files in {len(toolkit_dirs)} result folders of {root} "
                f"({', '.join(d.name for d in toolkit_dirs)}); pass one of them as the results folder"
            )
        looked.append(f"{root}/*_tracking_result/ (skipped: {len(toolkit_dirs)} such folders, pass one of them)")
    else:
        looked.append(f"{root}/<Tracker>_tracking_result/{filename} (no such folder)")
    seq_dir, ambiguous = None, []
    exact_dir = root / seq_name
    if exact_dir.is_dir():
        seq_dir = exact_dir
    else:
        ambiguous = [p for p in root.iterdir() if p.is_dir() and p.name.lower() == seq_name.lower()]
        seq_dir = ambiguous[0] if len(ambiguous) == 1 else None
    if seq_dir is not None:
        found = attempt(seq_dir, f"{seq_name}_001.txt")
        if found:
            return found
    else:
        looked.append(str(root / seq_name / f"{seq_name}_001.txt"))
    raise ResultsMissingError(f"no result file for sequence {seq_name!r}; looked at: " + "; ".join(looked))
