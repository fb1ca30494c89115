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

from pathlib import Path

import numpy as np

from .base import DatasetError
from .parsing import align_flags, read_flags, read_name_list, read_text
from .toolkit import ToolkitDataset, read_toolkit_labels, require_listed

__all__ = ["LaSOT", "LASOT_ATTRIBUTES", "is_lasot_annos_dir"]

LASOT_ATTRIBUTES = ("IV", "POC", "DEF", "MB", "CM", "ROT", "BC", "VC", "SV", "FOC", "FM", "OV", "LR", "ARC")
"""The 14 attributes in the toolkit's order (``run_tracker_performance_evaluation.m``)."""

LIST_FILE_NAMES = ("testing_set.txt",)
_FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")


def is_lasot_annos_dir(path: Path) -> bool:
    """A toolkit ``annos/`` folder: an ``absent/`` subfolder and ``<seq>.txt`` files beside it."""
    return (path / "absent").is_dir() and any(p.suffix == ".txt" for p in path.iterdir() if p.is_file())


class LaSOT(ToolkitDataset):
    """LaSOT (1400 sequences, 70 classes; test split 280) -- dataset root or toolkit ``annos/``."""

    name = "lasot"
    attribute_names = LASOT_ATTRIBUTES
    splits = ("test", "train", "all")
    list_file_names: tuple[str, ...] = LIST_FILE_NAMES
    annos_hint = "<seq>.txt + absent/"
    neither_hint = (
        "a dataset root (<class>/<class>-N/groundtruth.txt) nor a toolkit annotation folder (<seq>.txt, absent/, att/, nlp/)"
    )
    frames_folder = "img"
    frame_suffixes = _FRAME_SUFFIXES
    description_file = "nlp.txt"
    is_annos_dir = staticmethod(is_lasot_annos_dir)

    # -- discovery ---------------------------------------------------------------------------
    @staticmethod
    def _scan_dataset_root(root: Path) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for gt in root.glob("*/groundtruth.txt"):
            found[gt.parent.name] = gt.parent
        for gt in root.glob("*/*/groundtruth.txt"):
            found.setdefault(gt.parent.name, gt.parent)
        return found

    def _scan(self) -> dict[str, Path]:
        return self._scan_dataset_root(self.root)

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

    # -- labels ------------------------------------------------------------------------------
    def _toolkit_labels(self, name: str, n_rows: int) -> tuple[np.ndarray, dict[str, bool], str]:
        annos = self.annos_dir
        absent, attributes = read_toolkit_labels(
            annos / "absent" / f"{name}.txt", annos / "att" / f"{name}.txt", n_rows, self.attribute_names
        )
        return absent, attributes, read_text(annos / "nlp" / f"{name}.txt", "language description")

    def _download_absent(self, seq_dir: Path, gt: np.ndarray) -> np.ndarray:
        occlusion = read_flags(seq_dir / "full_occlusion.txt", what="0/1 occlusion flags")
        out_of_view = read_flags(seq_dir / "out_of_view.txt", what="0/1 out-of-view flags")
        return align_flags(occlusion, len(gt), seq_dir / "full_occlusion.txt") | align_flags(
            out_of_view, len(gt), seq_dir / "out_of_view.txt"
        )
