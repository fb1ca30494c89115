"""TNL2K, from either the dataset download or the evaluation toolkit's ``annos/`` folder.

Layouts, detected automatically from ``root``:

- **toolkit annotations** (``wangxiao5791509/TNL2K_evaluation_toolkit``, ``annos/annos.tar.gz``):
  ``gt_rect/<seq>.txt`` (x,y,w,h; absent frames are 0,0,0,0), ``absent/<seq>.txt`` (0/1 per
  frame, 1 = absent), ``att/<seq>_attribute.txt`` (17 flags, one per line). ``root`` may be that
  folder or a folder holding it (e.g. the root of the extracted archive). No frames, no sentences
  (the toolkit does not ship them); test split only.
- **dataset root**: ``<seq>/imgs/*.{jpg,png}``, ``<seq>/groundtruth.txt``, ``<seq>/language.txt``;
  ``root`` is a split folder, or holds ``TNL2K_test_subset/`` / ``TNL2K_train_subset/`` (also
  ``test/`` / ``train/``), chosen by ``split``. The download has no absent flags: a frame is
  absent where its ground truth is ``0,0,0,0`` (true of all 65,253 absent frames of the test
  split's toolkit flags). ``annos=`` (the toolkit folder) adds the official absent flags and
  attributes, and its ground truth is used.

The test list ``TNL2K_testing_set.txt`` (700 names, the toolkit's order) is looked for in the
root, the annotation folder, their parents and their ``sequence_evaluation_config/``, or given
with ``split_file=``; without it the split is every sequence present, in natural order. A flag
file longer than its ground truth is cut to it (``advSamp_monitor_bikeyellow``: 929 rows, 930
flags); a shorter one is an error.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from .base import Dataset, DatasetError, Sequence
from .parsing import list_images, natural_key, read_box_table, read_name_list, read_text
from .toolkit import BatchedGroundTruth, find_annos_dir, find_split_list, read_toolkit_labels, require_listed

__all__ = ["TNL2K", "TNL2K_ATTRIBUTES", "is_tnl2k_annos_dir"]

TNL2K_ATTRIBUTES = ("CM", "ROT", "DEF", "FOC", "IV", "OV", "POC", "VC", "SV", "BC", "MB", "ARC", "LR", "FM", "AS", "TC", "MS")
"""The 17 attributes in ``Evaluate_TNL2K_dataset.m``'s order."""

_SPLIT_FOLDERS = {"test": ("TNL2K_test_subset", "TNL2K_test", "test"), "train": ("TNL2K_train_subset", "TNL2K_train", "train")}
_FRAME_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def is_tnl2k_annos_dir(path: Path) -> bool:
    return (path / "gt_rect").is_dir() and (path / "absent").is_dir()


class TNL2K(BatchedGroundTruth, Dataset):
    """TNL2K (2,000 videos with sentences; test split 700) -- dataset root or toolkit ``annos/``."""

    name = "tnl2k"
    attribute_names = TNL2K_ATTRIBUTES
    splits = ("test", "train")
    list_file_names = ("TNL2K_testing_set.txt",)

    def __init__(self, root, split: str = "test", annos=None, split_file=None):
        super().__init__(root, split)
        if not self.root.is_dir():
            raise DatasetError(f"tnl2k: root {self.root} is not a folder")
        self.annos_dir: Path | None = None
        if annos is not None:
            self.annos_dir = find_annos_dir(Path(annos), is_tnl2k_annos_dir)
            if self.annos_dir is None:
                raise DatasetError(f"tnl2k: {annos} is not a toolkit annotation folder (gt_rect/, absent/, att/)")
        self.split_dir = self._split_folder(self.root)
        self._seq_dirs: dict[str, Path] = {}
        if self.split_dir is not None:
            self._seq_dirs = {p.parent.name: p.parent for p in self.split_dir.glob("*/groundtruth.txt")}
        if not self._seq_dirs:
            if self.annos_dir is None:
                self.annos_dir = find_annos_dir(self.root, is_tnl2k_annos_dir)
            if self.annos_dir is None:
                raise DatasetError(
                    f"tnl2k: {self.root} is neither a dataset root (<seq>/groundtruth.txt, imgs/, language.txt; "
                    "or TNL2K_test_subset/) nor the toolkit's annos/ (gt_rect/, absent/, att/)"
                )
            if split != "test":
                raise DatasetError(f"tnl2k: the toolkit annotation folder {self.annos_dir} holds only the test split")
        self.layout = "dataset" if self._seq_dirs else "annos"
        search = [self.root, self.root.parent]
        if self.annos_dir is not None:
            search += [self.annos_dir, self.annos_dir.parent]
        self.split_file = Path(split_file) if split_file else None
        if self.split_file is not None and not self.split_file.is_file():
            raise DatasetError(f"tnl2k: split file {split_file} not found")
        if self.split_file is None and split == "test":
            self.split_file = find_split_list(search, self.list_file_names)
        self._names: list[str] | None = None

    def _split_folder(self, root: Path) -> Path | None:
        for folder in _SPLIT_FOLDERS[self.split]:
            if (root / folder).is_dir():
                return root / folder
        return root

    def _present(self) -> list[str]:
        if self.layout == "dataset":
            names = list(self._seq_dirs)
        else:
            names = [p.stem for p in (self.annos_dir / "gt_rect").glob("*.txt")]
        return sorted(names, key=natural_key)

    def sequence_names(self) -> list[str]:
        if self._names is None:
            present = self._present()
            if self.split_file is None:
                self._names = present
            else:
                listed = read_name_list(self.split_file, required=True)
                where = self.annos_dir if self.layout == "annos" else self.split_dir
                require_listed(self.name, listed, set(present), self.split_file, where)
                self._names = listed
        return list(self._names)

    def _gt_path(self, name: str) -> Path:
        if self.annos_dir is not None and (self.annos_dir / "gt_rect" / f"{name}.txt").is_file():
            return self.annos_dir / "gt_rect" / f"{name}.txt"
        if name in self._seq_dirs:
            return self._seq_dirs[name] / "groundtruth.txt"
        raise DatasetError(f"tnl2k: no sequence {name!r} under {self.annos_dir if self.annos_dir else self.root}")

    def load(self, name: str, ground_truth: np.ndarray | None = None) -> Sequence:
        gt_path = self._gt_path(name)
        gt = read_box_table(gt_path) if ground_truth is None else ground_truth
        seq_dir = self._seq_dirs.get(name)
        annos = self.annos_dir
        attributes: dict[str, bool] = {}
        description = None
        if annos is not None and gt_path.parent == annos / "gt_rect":
            absent, attributes = read_toolkit_labels(
                annos / "absent" / f"{name}.txt", annos / "att" / f"{name}_attribute.txt", len(gt), self.attribute_names
            )
        else:
            absent = (gt == 0).all(axis=1)
        frames_fn = None
        if seq_dir is not None:
            description = read_text(seq_dir / "language.txt", "language description")
            frames_fn = partial(
                list_images, seq_dir / "imgs", f"{self.name} frame folder of {name}", _FRAME_SUFFIXES, allow_empty=True
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
