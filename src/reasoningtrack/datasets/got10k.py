"""GOT-10k: ``<root>/{train,val,test}/<seq>/`` with ``00000001.jpg ...``, ``groundtruth.txt``,
``absence.label``, ``cover.label``, ``cut_by_image.label`` and ``meta_info.ini``.

- Sequence names: the split's ``list.txt`` when present (the official order), else its folders.
- Ground truth: ``x,y,w,h`` per frame; the test split ships only the first row (the rest is on
  the evaluation server), so its ``ground_truth`` has one row and ``absent`` is None.
- ``absent``: ``absence.label`` (1 = absent). ``cover.label`` (0 = fully occluded .. 8 = fully
  visible, the GOT-10k protocol drops cover 0) and ``cut_by_image.label`` are read by
  :meth:`GOT10k.labels`.
- Description: GOT-10k has no sentences; one is synthesised from ``meta_info.ini`` as
  ``"<object_class> <motion_class> <motion_adverb>"`` (e.g. ``"ichneumon walking slowly"``;
  missing keys are left out; None when the file names no object class, as in the test split).
- Attributes: GOT-10k defines none per sequence; ``attributes`` is empty.
"""

from __future__ import annotations

import configparser
from functools import partial
from pathlib import Path

import numpy as np

from .base import Dataset, DatasetError, Sequence
from .parsing import list_images, natural_key, read_box_table, read_flags, read_integers, read_name_list

__all__ = ["GOT10k", "read_meta_info", "describe_meta"]


def read_meta_info(path: str | Path) -> dict[str, str]:
    """The ``[METAINFO]`` section of a ``meta_info.ini`` as a dict (keys lower-case)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"missing meta_info.ini: {path}")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"), source=str(path))
    except configparser.Error as err:
        raise DatasetError(f"{path}: malformed meta_info.ini ({err})") from None
    if not parser.has_section("METAINFO"):
        raise DatasetError(f"{path}: no [METAINFO] section")
    return {k.lower(): v.strip() for k, v in parser.items("METAINFO")}


def describe_meta(meta: dict[str, str]) -> str | None:
    """``"<object_class> <motion_class> <motion_adverb>"`` from GOT-10k metadata, or None."""
    obj = meta.get("object_class", "").strip()
    if not obj:
        return None
    words = [obj, meta.get("motion_class", "").strip(), meta.get("motion_adverb", "").strip()]
    return " ".join(w for w in words if w)


class GOT10k(Dataset):
    name = "got10k"
    splits = ("train", "val", "test")

    def __init__(self, root, split: str = "test"):
        super().__init__(root, split)
        self.split_dir = self.root / split
        if not self.split_dir.is_dir():
            raise DatasetError(f"got10k: split folder not found: {self.split_dir} (expected <root>/{{train,val,test}}/)")
        self._names: list[str] | None = None

    def sequence_names(self) -> list[str]:
        if self._names is None:
            list_file = self.split_dir / "list.txt"
            if list_file.is_file():
                self._names = read_name_list(list_file, "GOT-10k list.txt")
            else:
                self._names = sorted(
                    (p.name for p in self.split_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
                    key=natural_key,
                )
        return self._names

    def _folder(self, name: str) -> Path:
        folder = self.split_dir / name
        if not folder.is_dir():
            raise DatasetError(f"got10k ({self.split}): sequence folder not found: {folder}")
        return folder

    def load(self, name: str) -> Sequence:
        folder = self._folder(name)
        ground_truth = read_box_table(folder / "groundtruth.txt", "ground truth (groundtruth.txt)")
        absent = None
        if self.split != "test":
            absent = read_flags(folder / "absence.label", "absence.label flags (1 = absent)")
        meta_path = folder / "meta_info.ini"
        description = describe_meta(read_meta_info(meta_path)) if meta_path.is_file() or self.split != "test" else None
        return Sequence(
            name=name,
            ground_truth=ground_truth,
            dataset=self.name,
            split=self.split,
            description=description,
            absent=absent,
            attributes={},
            frame_paths_fn=partial(list_images, folder, f"frame folder of {name}"),
        )

    def labels(self, name: str) -> dict[str, np.ndarray]:
        """Per-frame labels of a train/val sequence: ``absence`` (bool), ``cover`` (0..8 int),
        ``cut_by_image`` (bool)."""
        if self.split == "test":
            raise DatasetError("got10k: the test split ships no per-frame labels")
        folder = self._folder(name)
        cover = read_integers(folder / "cover.label", "cover.label (0..8)")
        bad = np.flatnonzero((cover < 0) | (cover > 8))
        if len(bad):
            raise DatasetError(f"{folder / 'cover.label'}: value {cover[bad[0]]} at frame {bad[0] + 1} is outside 0..8")
        return {
            "absence": read_flags(folder / "absence.label", "absence.label flags"),
            "cover": cover,
            "cut_by_image": read_flags(folder / "cut_by_image.label", "cut_by_image.label flags"),
        }
