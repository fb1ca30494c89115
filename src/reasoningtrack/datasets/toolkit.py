"""What the loaders of benchmarks with a MATLAB evaluation toolkit (LaSOT, LaSOT-ext, TNL2K)
share: finding the toolkit's annotation folder and split list, checking a list against the
sequences present, reading the toolkit's absent flags and attributes, and parsing a whole
split's ground truths in one call when iterating (one converter call instead of one per file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from .base import DatasetError, Sequence
from .parsing import align_flags, read_box_tables, read_flags

__all__ = ["find_annos_dir", "find_split_list", "require_listed", "read_toolkit_labels", "BatchedGroundTruth"]


def find_annos_dir(root: Path, test: Callable[[Path], bool]) -> Path | None:
    """``root`` itself, or its only subfolder, that passes ``test`` (e.g. the root of an
    extracted annotation archive); several candidates raise."""
    if not root.is_dir():
        return None
    if test(root):
        return root
    found = [p for p in sorted(root.iterdir()) if p.is_dir() and test(p)]
    if len(found) > 1:
        raise DatasetError(f"{root}: several annotation folders ({', '.join(p.name for p in found)}); pass one of them")
    return found[0] if found else None


def find_split_list(folders: Iterable[Path], names: tuple[str, ...]) -> Path | None:
    """The first split list found in ``folders`` or their ``sequence_evaluation_config/`` (the
    toolkits' place for it)."""
    for folder in folders:
        for name in names:
            for candidate in (folder / name, folder / "sequence_evaluation_config" / name):
                if candidate.is_file():
                    return candidate
    return None


def require_listed(dataset: str, listed: list[str], available: set[str], split_file: Path, where: Path) -> None:
    """Raise, naming the first few, when sequences of a split list are not present."""
    missing = [n for n in listed if n not in available]
    if missing:
        raise DatasetError(
            f"{dataset}: {len(missing)} sequence(s) of {split_file} are not in {where}: "
            f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"
        )


def read_toolkit_labels(
    absent_path: Path, attribute_path: Path, n_rows: int, attribute_names: tuple[str, ...]
) -> tuple[np.ndarray, dict[str, bool]]:
    """A sequence's absent flags (one 0/1 per frame, cut to the ground truth's ``n_rows``) and
    its attributes (one 0/1 per name, in the toolkit's order)."""
    absent = align_flags(read_flags(absent_path, what="0/1 absent flags"), n_rows, absent_path)
    flags = read_flags(attribute_path, "attribute flags", length=len(attribute_names))
    return absent, dict(zip(attribute_names, map(bool, flags)))


class BatchedGroundTruth:
    """Mixin for a :class:`~.base.Dataset` whose ``load(name, ground_truth=None)`` accepts the
    ground truth already read and whose ``_gt_path(name)`` names its file: iterating reads all
    ground truths in one batch (evaluation iterates over whole splits)."""

    def __iter__(self) -> Iterator[Sequence]:
        names = self.sequence_names()
        for name, gt in zip(names, read_box_tables([self._gt_path(n) for n in names])):
            yield self.load(name, gt)
