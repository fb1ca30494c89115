"""TNLLT: the long-term vision-language benchmark of ReasoningTrack (200 sequences, 150/50).

Per sequence folder::

    imgs/00001.png ...     frames (listed lazily, natural order; .jpg also accepted)
    groundtruth.txt        x,y,w,h per frame (any delimiter)
    absent_label.txt       one flag per frame, INVERTED w.r.t. LaSOT: 1 = present, 0 = absent
                           (the release's evaluation deletes frames whose flag is 0); stored
                           here as ``absent = True`` where the file says 0
    attributes.txt         15 0/1 flags named as the release's toolkit names them
                           (TNLLT_Evaluation_Toolkit/run_tracker_performance_evaluation.m,
                           ``att_fig_name``: CM ROT DEF FOC IV OV POC VC SV BC MB ARC LR FM AS),
                           or attribute codes
    language.txt           the description

Split membership: the official 150/50 lists shipped in ``datasets/splits/tnllt/`` (from the
release; see the README there), in their order. The folders present under the root never decide a
split: a partial copy lists every official name and fails, naming the folder, on a missing one.
Loaders of other data in this layout (``split_lists = None``, e.g. the synthetic world) take, first
rule that applies:

1. list files ``<root>/train.txt`` / ``<root>/test.txt`` (one name per line);
2. subfolders ``<root>/TNLLT_train/`` / ``<root>/TNLLT_test/`` (their sequence folders);
3. otherwise every folder of ``<root>`` is a sequence of whichever split is asked for.

A listed sequence's folder is looked up in ``<root>/<name>``, ``<root>/<split>/<name>`` and
``<root>/TNLLT_<split>/<name>``. Split ``all`` is train followed by test.
Every file is required; a missing or malformed one raises :class:`DatasetError` with the file
(and line). A ground truth whose row count differs from the frame or flag count is kept as is
(``reasoningtrack data info`` reports it).
"""

from __future__ import annotations

from functools import partial
from importlib import resources
from pathlib import Path

from .base import Dataset, DatasetError, Sequence
from .parsing import list_images, read_attribute_file, read_box_table, read_flags, read_name_list, read_text

__all__ = ["TNLLT", "ATTRIBUTES", "official_split"]

#: The release toolkit's attribute codes, in the order of the flags in ``attributes.txt``
#: (TNLLT_Evaluation_Toolkit/run_tracker_performance_evaluation.m, ``att_fig_name``).
ATTRIBUTES = ("CM", "ROT", "DEF", "FOC", "IV", "OV", "POC", "VC", "SV", "BC", "MB", "ARC", "LR", "FM", "AS")


def official_split(dataset: str, split: str) -> list[str]:
    """The sequence names of a split list shipped in ``datasets/splits/<dataset>/<split>.txt``."""
    folder = resources.files("reasoningtrack.datasets.splits").joinpath(dataset)
    resource = folder.joinpath(f"{split}.txt")
    if not resource.is_file():
        raise DatasetError(f"{dataset}: no official {split} split list shipped with the package")
    with resources.as_file(resource) as path:
        return read_name_list(path, f"official {dataset} {split} list", required=True)


class TNLLT(Dataset):
    """TNLLT (or anything in its layout). Options: ``attribute_names`` (names for 0/1 flags)."""

    name = "tnllt"
    splits = ("train", "test", "all")
    attribute_names: tuple[str, ...] = ATTRIBUTES
    #: Shipped split lists (``datasets/splits/<split_lists>/``); None: the root's lists or folders.
    split_lists: str | None = "tnllt"

    def __init__(self, root, split: str = "test", attribute_names: tuple[str, ...] | list[str] | None = None):
        super().__init__(root, split)
        if not self.root.is_dir():
            raise DatasetError(f"{self.name}: root folder not found: {self.root}")
        if attribute_names is not None:
            self.attribute_names = tuple(attribute_names)
        self._names: dict[str, str] | None = None  # name -> split

    # --------------------------------------------------------------------------- split lists

    def _split_names(self, split: str) -> list[str]:
        if self.split_lists is not None:
            return official_split(self.split_lists, split)
        list_file = self.root / f"{split}.txt"
        if list_file.is_file():
            return read_name_list(list_file, f"{self.name} {split} list")
        folder = self.root / f"TNLLT_{split}"
        if folder.is_dir():
            return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        return []

    def _split_source(self, split: str) -> bool:
        if self.split_lists is not None:
            return True
        return (self.root / f"{split}.txt").is_file() or (self.root / f"TNLLT_{split}").is_dir()

    def _has_split_info(self) -> bool:
        if self.split_lists is not None:
            return True
        return any(
            (self.root / f"{s}.txt").is_file() or (self.root / f"TNLLT_{s}").is_dir() for s in ("train", "test")
        )

    def _name_index(self) -> dict[str, str]:
        if self._names is None:
            names: dict[str, str] = {}
            if self._has_split_info():
                wanted = ("train", "test") if self.split == "all" else (self.split,)
                if self.split != "all" and not self._split_source(self.split):
                    raise DatasetError(
                        f"{self.name}: no {self.split} split under {self.root} (neither {self.split}.txt nor "
                        f"TNLLT_{self.split}/, while the other split is there)"
                    )
                for split in wanted:
                    for name in self._split_names(split):
                        if name in names:
                            raise DatasetError(f"{self.name}: {name!r} is listed in both the {names[name]} and {split} splits")
                        names[name] = split
            else:
                for p in sorted(self.root.iterdir()):
                    if p.is_dir() and not p.name.startswith("."):
                        names[p.name] = self.split
            self._names = names
        return self._names

    def sequence_names(self) -> list[str]:
        return list(self._name_index())

    def split_of(self, name: str) -> str:
        return self._name_index()[name]

    # --------------------------------------------------------------------------- loading

    def _folder(self, name: str) -> Path:
        split = self._name_index().get(name, self.split)
        candidates = [self.root / name, self.root / split / name, self.root / f"TNLLT_{split}" / name]
        for folder in candidates:
            if folder.is_dir():
                return folder
        raise DatasetError(
            f"{self.name}: no folder for sequence {name!r}; looked at: " + ", ".join(str(c) for c in candidates)
        )

    def load(self, name: str) -> Sequence:
        folder = self._folder(name)
        ground_truth = read_box_table(folder / "groundtruth.txt", "ground truth (groundtruth.txt)")
        present = read_flags(folder / "absent_label.txt", "absent_label.txt flags (1 = present, 0 = absent)")
        attributes = read_attribute_file(folder / "attributes.txt", self.attribute_names, "attributes.txt")
        description = read_text(folder / "language.txt", "description (language.txt)")
        return Sequence(
            name=name,
            ground_truth=ground_truth,
            dataset=self.name,
            split=self._name_index().get(name, self.split),
            description=description,
            absent=~present,
            attributes=attributes,
            frame_paths_fn=partial(list_images, folder / "imgs", f"frame folder of {name}"),
        )
