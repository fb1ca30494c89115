"""TNLLT: the long-term vision-language benchmark of ReasoningTrack (200 sequences, 150/50).

Per sequence folder::

    imgs/00001.png ...     frames (listed lazily, natural order; .jpg also accepted)
    groundtruth.txt        x,y,w,h per frame (any delimiter)
    absent_label.txt       one flag per frame, INVERTED w.r.t. LaSOT: 1 = present, 0 = absent
                           (the release's evaluation deletes frames whose flag is 0); stored
                           here as ``absent = True`` where the file says 0
    attributes.txt         0/1 flags (names from ``attribute_names`` or ``A1..An``: the official
                           names are not published with the files) or attribute codes
    language.txt           the description

Split membership, first rule that applies:

1. list files ``<root>/train.txt`` / ``<root>/test.txt`` (one name per line; the official split
   is published in the release as such lists);
2. subfolders ``<root>/TNLLT_train/`` / ``<root>/TNLLT_test/`` (their sequence folders);
3. otherwise every folder of ``<root>`` is a sequence of whichever split is asked for (the root
   carries no split information).

A listed sequence's folder is looked up in ``<root>/<name>``, ``<root>/<split>/<name>`` and
``<root>/TNLLT_<split>/<name>``. Split ``all`` is train followed by test.
Every file is required; a missing or malformed one raises :class:`DatasetError` with the file
(and line). A ground truth whose row count differs from the frame or flag count is kept as is
(``reasoningtrack data info`` reports it).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from .base import Dataset, DatasetError, Sequence
from .parsing import list_images, read_attribute_file, read_box_table, read_flags, read_name_list, read_text

__all__ = ["TNLLT"]


class TNLLT(Dataset):
    """TNLLT (or anything in its layout). Options: ``attribute_names`` (names for 0/1 flags)."""

    name = "tnllt"
    splits = ("train", "test", "all")
    attribute_names: tuple[str, ...] = ()

    def __init__(self, root, split: str = "test", attribute_names: tuple[str, ...] | list[str] | None = None):
        super().__init__(root, split)
        if not self.root.is_dir():
            raise DatasetError(f"{self.name}: root folder not found: {self.root}")
        if attribute_names is not None:
            self.attribute_names = tuple(attribute_names)
        self._names: dict[str, str] | None = None  # name -> split

    # --------------------------------------------------------------------------- split lists

    def _split_names(self, split: str) -> list[str]:
        list_file = self.root / f"{split}.txt"
        if list_file.is_file():
            return read_name_list(list_file, f"{self.name} {split} list")
        folder = self.root / f"TNLLT_{split}"
        if folder.is_dir():
            return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        return []

    def _split_source(self, split: str) -> bool:
        return (self.root / f"{split}.txt").is_file() or (self.root / f"TNLLT_{split}").is_dir()

    def _has_split_info(self) -> bool:
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
