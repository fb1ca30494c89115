"""LaSOT, from either the dataset download or the evaluation toolkit's annotation folder.

Two layouts are detected automatically from ``root``:

- **toolkit annotations** (what the official numbers use; ``HengLan/LaSOT_Evaluation_Toolkit``
  ``annos/``): ``<seq>.txt`` ground truth, ``absent/<seq>.txt`` (one 0/1 per frame, 1 = absent),
  ``att/<seq>.txt`` (14 comma-separated flags), ``nlp/<seq>.txt``. ``root`` may be that folder or
  a folder holding exactly one such folder (e.g. the root of an extracted archive). There are no
  frames; the split is the test split.
- **dataset root**: ``<class>/<class>-<n>/`` (or ``<class>-<n>/`` directly) with ``img/%08d.jpg``,
  ``groundtruth.txt``, ``full_occlusion.txt``, ``out_of_view.txt`` (comma-separated 0/1 on one
  line; absent = either), ``nlp.txt``. Attributes are not part of the download: pass ``annos=``
  (the toolkit folder) to take ground truth, absent flags and attributes from there, as the
  official evaluation does (the two ground truths differ for a few sequences, toolkit issue #18).

Split lists: ``testing_set.txt`` (the toolkit's 280 names) is looked for in ``root``, the
annotation folder and their parents (also in their ``sequence_evaluation_config/``, the toolkit's
place for it), or given with ``split_file=``. Without it the test split is
every sequence present (the toolkit folder and LaSOT's test-only download hold exactly the test
sequences), in natural order; ``train`` then needs the list. ``all`` is every sequence present.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from .base import Dataset, DatasetError, Sequence
from .parsing import align_flags, list_images, natural_key, read_box_table, read_flags, read_name_list, read_text
from .toolkit import BatchedGroundTruth, find_annos_dir, find_split_list, read_toolkit_labels, require_listed

__all__ = ["LaSOT", "LASOT_ATTRIBUTES", "is_lasot_annos_dir"]

LASOT_ATTRIBUTES = ("IV", "POC", "DEF", "MB", "CM", "ROT", "BC", "VC", "SV", "FOC", "FM", "OV", "LR", "ARC")
"""The 14 attributes in the toolkit's order (``run_tracker_performance_evaluation.m``)."""

LIST_FILE_NAMES = ("testing_set.txt",)
_FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")


def is_lasot_annos_dir(path: Path) -> bool:
    """A toolkit ``annos/`` folder: an ``absent/`` subfolder and ``<seq>.txt`` files beside it."""
    return (path / "absent").is_dir() and any(p.suffix == ".txt" for p in path.iterdir() if p.is_file())


class LaSOT(BatchedGroundTruth, Dataset):
    """LaSOT (1400 sequences, 70 classes; test split 280) -- dataset root or toolkit ``annos/``."""

    name = "lasot"
    attribute_names = LASOT_ATTRIBUTES
    splits = ("test", "train", "all")
    list_file_names: tuple[str, ...] = LIST_FILE_NAMES

    def __init__(self, root, split: str = "test", annos=None, split_file=None):
        super().__init__(root, split)
        if not self.root.is_dir():
            raise DatasetError(f"{self.name}: root {self.root} is not a folder")
        self.annos_dir: Path | None = None
        self._seq_dirs: dict[str, Path] = {}
        if annos is not None:
            self.annos_dir = find_annos_dir(Path(annos), is_lasot_annos_dir)
            if self.annos_dir is None:
                raise DatasetError(f"{self.name}: {annos} is not a toolkit annotation folder (<seq>.txt + absent/)")
        self._seq_dirs = self._scan_dataset_root(self.root)
        if not self._seq_dirs:
            if self.annos_dir is None:
                self.annos_dir = find_annos_dir(self.root, is_lasot_annos_dir)
            if self.annos_dir is None:
                raise DatasetError(
                    f"{self.name}: {self.root} is neither a dataset root (<class>/<class>-N/groundtruth.txt) "
                    "nor a toolkit annotation folder (<seq>.txt, absent/, att/, nlp/)"
                )
        self.layout = "dataset" if self._seq_dirs else "annos"
        search = [self.root, self.root.parent]
        if self.annos_dir is not None:
            search += [self.annos_dir, self.annos_dir.parent]
        self.split_file = Path(split_file) if split_file else find_split_list(search, self.list_file_names)
        if split_file and not self.split_file.is_file():
            raise DatasetError(f"{self.name}: split file {split_file} not found")
        self._names: list[str] | None = None

    # -- discovery ---------------------------------------------------------------------------
    @staticmethod
    def _scan_dataset_root(root: Path) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for gt in root.glob("*/groundtruth.txt"):
            found[gt.parent.name] = gt.parent
        for gt in root.glob("*/*/groundtruth.txt"):
            found.setdefault(gt.parent.name, gt.parent)
        return found

    def _present(self) -> list[str]:
        if self.layout == "dataset":
            names = list(self._seq_dirs)
        else:
            names = [p.stem for p in self.annos_dir.glob("*.txt")]
        return sorted(names, key=natural_key)

    def sequence_names(self) -> list[str]:
        if self._names is None:
            present = self._present()
            listed = read_name_list(self.split_file, required=True) if self.split_file else None
            if self.split == "all":
                names = present
            elif self.split == "test":
                names = listed if listed is not None else present
            else:
                if listed is None:
                    raise DatasetError(
                        f"{self.name}: the train split needs the test list ({', '.join(self.list_file_names)}) "
                        f"in {self.root} or split_file="
                    )
                held_out = set(listed)
                names = [n for n in present if n not in held_out]
            if self.split != "all":
                available = set(present)
                if self.annos_dir is not None and self.layout == "dataset":
                    available &= {p.stem for p in self.annos_dir.glob("*.txt")} | set(self._seq_dirs)
                where = self.annos_dir if self.layout == "annos" else self.root
                require_listed(self.name, names, available, self.split_file, where)
            self._names = names
        return list(self._names)

    # -- loading -----------------------------------------------------------------------------
    def _gt_path(self, name: str) -> Path:
        if self.annos_dir is not None and (self.annos_dir / f"{name}.txt").is_file():
            return self.annos_dir / f"{name}.txt"
        if name in self._seq_dirs:
            return self._seq_dirs[name] / "groundtruth.txt"
        where = self.annos_dir if self.annos_dir is not None else self.root
        raise DatasetError(f"{self.name}: no sequence {name!r} under {where}")

    def load(self, name: str, ground_truth: np.ndarray | None = None) -> Sequence:
        gt_path = self._gt_path(name)
        gt = read_box_table(gt_path) if ground_truth is None else ground_truth
        seq_dir = self._seq_dirs.get(name)
        attributes: dict[str, bool] = {}
        if self.annos_dir is not None and gt_path.parent == self.annos_dir:
            annos = self.annos_dir
            absent, attributes = read_toolkit_labels(
                annos / "absent" / f"{name}.txt", annos / "att" / f"{name}.txt", len(gt), self.attribute_names
            )
            description = read_text(annos / "nlp" / f"{name}.txt", "language description")
        else:
            occlusion = read_flags(seq_dir / "full_occlusion.txt", what="0/1 occlusion flags")
            out_of_view = read_flags(seq_dir / "out_of_view.txt", what="0/1 out-of-view flags")
            absent = align_flags(occlusion, len(gt), seq_dir / "full_occlusion.txt") | align_flags(
                out_of_view, len(gt), seq_dir / "out_of_view.txt"
            )
            description = read_text(seq_dir / "nlp.txt", "language description")
        frames_fn = None
        if seq_dir is not None:
            frames_fn = partial(
                list_images, seq_dir / "img", f"{self.name} frame folder of {name}", _FRAME_SUFFIXES, allow_empty=True
            )

        return Sequence(
            name=name,
            ground_truth=gt,
            dataset=self.name,
            split=self.split,
            description=description,
            absent=absent,
            attributes=attributes,
            frame_paths_fn=frames_fn,
        )
