"""What the loaders of benchmarks with a MATLAB evaluation toolkit (LaSOT, LaSOT-ext, TNL2K)
share: the two layouts (the dataset download, or the toolkit's annotation folder, or both),
finding the toolkit's annotation folder and split list, checking a list against the sequences
present, reading the toolkit's absent flags and attributes, and parsing a whole split's ground
truths in one call when iterating (one converter call instead of one per file).

:class:`ToolkitDataset` holds the layout logic once; a benchmark says where its files are
(:meth:`~ToolkitDataset._scan`, ``annos_gt_folder``, ``frames_folder``, ``description_file``) and
how its labels are read (:meth:`~ToolkitDataset._toolkit_labels`, :meth:`~ToolkitDataset._download_absent`).
"""

from __future__ import annotations

from abc import abstractmethod
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from .base import Dataset, DatasetError, Sequence
from .parsing import align_flags, list_images, natural_key, read_box_table, read_box_tables, read_flags, read_text

__all__ = ["find_annos_dir", "find_split_list", "require_listed", "read_toolkit_labels", "BatchedGroundTruth", "ToolkitDataset"]


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


class ToolkitDataset(BatchedGroundTruth, Dataset):
    """A benchmark read from its download (``layout == "dataset"``: one folder per sequence with
    frames, ground truth and description), from its toolkit's annotation folder (``"annos"``:
    ground truth, absent flags and attributes, no frames), or from both (``annos=``: the toolkit's
    ground truth and labels, the download's frames). Subclasses name the files; the split logic
    (:meth:`sequence_names`) stays theirs."""

    #: What the toolkit's annotation folder holds (error messages).
    annos_hint: str = ""
    #: The tail of the error for a root that is neither layout, after "is neither ".
    neither_hint: str = ""
    #: Sub-folder of the annotation folder holding ``<seq>.txt`` ground truths ("" = the folder itself).
    annos_gt_folder: str = ""
    #: A sequence folder's frame sub-folder, frame suffixes and description file.
    frames_folder: str = "img"
    frame_suffixes: tuple[str, ...] = (".jpg", ".jpeg", ".png")
    description_file: str = "language.txt"
    #: Split list names looked for beside the data (``split_file=`` overrides).
    list_file_names: tuple[str, ...] = ()
    #: Splits for which a split list is looked for (None: every split).
    list_splits: tuple[str, ...] | None = None

    def __init__(self, root, split: str = "test", annos=None, split_file=None):
        super().__init__(root, split)
        if not self.root.is_dir():
            raise DatasetError(f"{self.name}: root {self.root} is not a folder")
        self.annos_dir: Path | None = None
        if annos is not None:
            self.annos_dir = find_annos_dir(Path(annos), self.is_annos_dir)
            if self.annos_dir is None:
                raise DatasetError(f"{self.name}: {annos} is not a toolkit annotation folder ({self.annos_hint})")
        self._seq_dirs: dict[str, Path] = self._scan()
        if not self._seq_dirs:
            if self.annos_dir is None:
                self.annos_dir = find_annos_dir(self.root, self.is_annos_dir)
            if self.annos_dir is None:
                raise DatasetError(f"{self.name}: {self.root} is neither {self.neither_hint}")
            self._check_annos_only()
        self.layout = "dataset" if self._seq_dirs else "annos"
        self.split_file = self._split_file(split_file)
        self._names: list[str] | None = None

    # -- what a benchmark says about itself ------------------------------------------------------
    @staticmethod
    @abstractmethod
    def is_annos_dir(path: Path) -> bool:
        """Whether ``path`` is the toolkit's annotation folder."""

    @abstractmethod
    def _scan(self) -> dict[str, Path]:
        """Sequence name -> sequence folder of the download under ``root`` (empty: none)."""

    @abstractmethod
    def _toolkit_labels(self, name: str, n_rows: int) -> tuple[np.ndarray, dict[str, bool], str | None]:
        """Absent flags, attributes and description (None: the download's) from the toolkit."""

    @abstractmethod
    def _download_absent(self, seq_dir: Path, gt: np.ndarray) -> np.ndarray:
        """Absent flags of a sequence read from the download."""

    def _check_annos_only(self) -> None:
        """Refuse what the annotation folder alone cannot give (nothing by default)."""

    # -- shared ----------------------------------------------------------------------------------
    def _split_file(self, given) -> Path | None:
        if given:
            path = Path(given)
            if not path.is_file():
                raise DatasetError(f"{self.name}: split file {given} not found")
            return path
        if self.list_splits is not None and self.split not in self.list_splits:
            return None
        search = [self.root, self.root.parent]
        if self.annos_dir is not None:
            search += [self.annos_dir, self.annos_dir.parent]
        return find_split_list(search, self.list_file_names)

    def _annos_gt_dir(self) -> Path:
        return self.annos_dir / self.annos_gt_folder if self.annos_gt_folder else self.annos_dir

    def _present(self) -> list[str]:
        if self.layout == "dataset":
            names = list(self._seq_dirs)
        else:
            names = [p.stem for p in self._annos_gt_dir().glob("*.txt")]
        return sorted(names, key=natural_key)

    def _gt_path(self, name: str) -> Path:
        if self.annos_dir is not None and (self._annos_gt_dir() / f"{name}.txt").is_file():
            return self._annos_gt_dir() / f"{name}.txt"
        if name in self._seq_dirs:
            return self._seq_dirs[name] / "groundtruth.txt"
        where = self.annos_dir if self.annos_dir is not None else self.root
        raise DatasetError(f"{self.name}: no sequence {name!r} under {where}")

    def load(self, name: str, ground_truth: np.ndarray | None = None) -> Sequence:
        gt_path = self._gt_path(name)
        gt = read_box_table(gt_path) if ground_truth is None else ground_truth
        seq_dir = self._seq_dirs.get(name)
        if self.annos_dir is not None and gt_path.parent == self._annos_gt_dir():
            absent, attributes, description = self._toolkit_labels(name, len(gt))
        else:
            absent, attributes, description = self._download_absent(seq_dir, gt), {}, None
        frames_fn = None
        if seq_dir is not None:
            if description is None:
                description = read_text(seq_dir / self.description_file, "language description")
            frames_fn = partial(
                list_images, seq_dir / self.frames_folder, f"{self.name} frame folder of {name}", self.frame_suffixes,
                allow_empty=True,
            )
        return Sequence(
            name=name,
            ground_truth=gt,
            dataset=self.name,
            split=self.split,
            description=description,
            absent=np.asarray(absent, dtype=bool),
            attributes=attributes,
            frame_paths_fn=frames_fn,
        )
