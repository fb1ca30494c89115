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

from pathlib import Path

import numpy as np

from .base import DatasetError
from .parsing import read_name_list
from .toolkit import ToolkitDataset, read_toolkit_labels, require_listed

__all__ = ["TNL2K", "TNL2K_ATTRIBUTES", "is_tnl2k_annos_dir"]

TNL2K_ATTRIBUTES = ("CM", "ROT", "DEF", "FOC", "IV", "OV", "POC", "VC", "SV", "BC", "MB", "ARC", "LR", "FM", "AS", "TC", "MS")
"""The 17 attributes in ``Evaluate_TNL2K_dataset.m``'s order."""

_SPLIT_FOLDERS = {"test": ("TNL2K_test_subset", "TNL2K_test", "test"), "train": ("TNL2K_train_subset", "TNL2K_train", "train")}
_FRAME_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def is_tnl2k_annos_dir(path: Path) -> bool:
    return (path / "gt_rect").is_dir() and (path / "absent").is_dir()


class TNL2K(ToolkitDataset):
    """TNL2K (2,000 videos with sentences; test split 700) -- dataset root or toolkit ``annos/``."""

    name = "tnl2k"
    attribute_names = TNL2K_ATTRIBUTES
    splits = ("test", "train")
    list_file_names = ("TNL2K_testing_set.txt",)
    list_splits = ("test",)
    annos_hint = "gt_rect/, absent/, att/"
    neither_hint = (
        "a dataset root (<seq>/groundtruth.txt, imgs/, language.txt; or TNL2K_test_subset/) "
        "nor the toolkit's annos/ (gt_rect/, absent/, att/)"
    )
    annos_gt_folder = "gt_rect"
    frames_folder = "imgs"
    frame_suffixes = _FRAME_SUFFIXES
    description_file = "language.txt"
    is_annos_dir = staticmethod(is_tnl2k_annos_dir)

    def _scan(self) -> dict[str, Path]:
        self.split_dir = self._split_folder(self.root)
        return {p.parent.name: p.parent for p in self.split_dir.glob("*/groundtruth.txt")}

    def _check_annos_only(self) -> None:
        if self.split != "test":
            raise DatasetError(f"tnl2k: the toolkit annotation folder {self.annos_dir} holds only the test split")

    def _split_folder(self, root: Path) -> Path | None:
        for folder in _SPLIT_FOLDERS[self.split]:
            if (root / folder).is_dir():
                return root / folder
        return root

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

    def _toolkit_labels(self, name: str, n_rows: int) -> tuple[np.ndarray, dict[str, bool], None]:
        annos = self.annos_dir
        absent, attributes = read_toolkit_labels(
            annos / "absent" / f"{name}.txt", annos / "att" / f"{name}_attribute.txt", n_rows, self.attribute_names
        )
        return absent, attributes, None  # sentences come with the download only

    def _download_absent(self, seq_dir: Path, gt: np.ndarray) -> np.ndarray:
        return (gt == 0).all(axis=1)  # the download has no flags: 0,0,0,0 marks an absent target
