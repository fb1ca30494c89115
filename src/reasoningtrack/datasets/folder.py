"""Plain folders of frames with a ground-truth file: the user's own videos, OTB-style data.

A sequence folder holds:

- frames: in ``img/`` (OTB), ``imgs/`` (TNLLT) or ``img1/``, or the image files directly;
- ground truth (required): ``groundtruth.txt`` or, if absent, ``groundtruth_rect.txt`` (OTB; any
  delimiter, may be shorter than the video: kept as is);
- a description (optional): ``language.txt`` or ``nlp.txt``;
- absent flags (optional), first found of: ``absent.txt`` (LaSOT's convention, 1 = absent),
  ``absent_label.txt`` (TNLLT's, 0 = absent), or LaSOT's ``full_occlusion.txt`` +
  ``out_of_view.txt`` (absent = either flag);
- attributes (optional): ``attributes.txt`` or ``attrs.txt``, codes (``SV, DEF``) or 0/1 flags.

A dataset root is either one sequence folder (it holds a ground-truth file itself) or a folder
whose subfolders are sequences: every subfolder with a ground-truth file is one; the others
(e.g. a results folder beside the videos) are not sequences and are reported by
:meth:`FolderDataset.other_folders`. Split lists ``<root>/train.txt`` / ``test.txt``, when present,
select the split's sequences; otherwise every sequence belongs to the split asked for.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from ..sequence_files import DESCRIPTION_NAMES, FRAME_FOLDERS, GROUND_TRUTH_NAMES, first_existing
from .base import Dataset, DatasetError, Sequence
from .parsing import (
    list_images,
    natural_key,
    read_attribute_file,
    read_box_table,
    read_flags,
    read_name_list,
    read_text,
)

__all__ = ["FolderDataset", "sequence_from_folder", "ground_truth_file", "frame_folder"]

ATTRIBUTE_NAMES = ("attributes.txt", "attrs.txt")


def ground_truth_file(folder: str | Path) -> Path | None:
    """The folder's ground-truth file (``groundtruth.txt`` before ``groundtruth_rect.txt``)."""
    return first_existing(folder, GROUND_TRUTH_NAMES)


def frame_folder(folder: str | Path) -> Path:
    """Where a sequence folder keeps its frames: ``img/``, ``imgs/``, ``img1/`` or itself."""
    folder = Path(folder)
    for name in FRAME_FOLDERS:
        if (folder / name).is_dir():
            return folder / name
    return folder


def _absent_flags(folder: Path):
    if (folder / "absent.txt").is_file():
        return read_flags(folder / "absent.txt", "absent.txt flags (1 = absent)")
    if (folder / "absent_label.txt").is_file():
        return ~read_flags(folder / "absent_label.txt", "absent_label.txt flags (1 = present, 0 = absent)")
    occlusion, out_of_view = folder / "full_occlusion.txt", folder / "out_of_view.txt"
    if occlusion.is_file() or out_of_view.is_file():
        if not (occlusion.is_file() and out_of_view.is_file()):
            missing = out_of_view if occlusion.is_file() else occlusion
            raise DatasetError(f"missing {missing.name} beside {(occlusion if occlusion.is_file() else out_of_view).name}: {missing}")
        full = read_flags(occlusion, "full_occlusion.txt flags")
        out = read_flags(out_of_view, "out_of_view.txt flags")
        if len(full) != len(out):
            raise DatasetError(f"{folder}: full_occlusion.txt has {len(full)} flags but out_of_view.txt {len(out)}")
        return full | out
    return None


def sequence_from_folder(
    path: str | Path,
    name: str | None = None,
    dataset: str = "folder",
    split: str | None = None,
    attribute_names: tuple[str, ...] = (),
) -> Sequence:
    """Load one sequence folder (see the module doc for the files it reads)."""
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError(f"sequence folder not found: {folder}")
    gt_path = ground_truth_file(folder)
    if gt_path is None:
        raise DatasetError(f"no ground truth in {folder} (expected one of: {', '.join(GROUND_TRUTH_NAMES)})")
    ground_truth = read_box_table(gt_path, f"ground truth ({gt_path.name})")
    description_path = first_existing(folder, DESCRIPTION_NAMES)
    description = read_text(description_path, f"description ({description_path.name})") if description_path else None
    attribute_path = first_existing(folder, ATTRIBUTE_NAMES)
    attributes = read_attribute_file(attribute_path, attribute_names, attribute_path.name) if attribute_path else {}
    images = frame_folder(folder)
    return Sequence(
        name=name or folder.name,
        ground_truth=ground_truth,
        dataset=dataset,
        split=split,
        description=description,
        absent=_absent_flags(folder),
        attributes=attributes,
        frame_paths_fn=partial(list_images, images, f"frame folder of {name or folder.name}"),
    )


class FolderDataset(Dataset):
    """Sequences in plain folders (or one sequence folder). Option: ``attribute_names`` (names
    for 0/1 attribute flags)."""

    name = "folder"
    splits = ("train", "test", "all")

    def __init__(self, root, split: str = "test", attribute_names: tuple[str, ...] | list[str] | None = None):
        super().__init__(root, split)
        if not self.root.is_dir():
            raise DatasetError(f"folder dataset: root not found: {self.root}")
        self.attribute_names = tuple(attribute_names or ())
        self.single = ground_truth_file(self.root) is not None

    def _sequence_folders(self) -> dict[str, Path]:
        if self.single:
            return {self.root.name: self.root}
        return {
            p.name: p
            for p in sorted(self.root.iterdir(), key=lambda p: natural_key(p.name))
            if p.is_dir() and not p.name.startswith(".") and ground_truth_file(p) is not None
        }

    def other_folders(self) -> list[Path]:
        """Subfolders of the root that are not sequences (no ground-truth file)."""
        if self.single:
            return []
        found = self._sequence_folders()
        return [p for p in sorted(self.root.iterdir()) if p.is_dir() and not p.name.startswith(".") and p.name not in found]

    def sequence_names(self) -> list[str]:
        folders = self._sequence_folders()
        if not folders:
            raise DatasetError(
                f"folder dataset: {self.root} holds no sequence (neither it nor a subfolder has one of "
                f"{', '.join(GROUND_TRUTH_NAMES)})"
            )
        wanted = ("train", "test") if self.split == "all" else (self.split,)
        lists = [self.root / f"{s}.txt" for s in wanted if (self.root / f"{s}.txt").is_file()]
        if self.single or not any((self.root / f"{s}.txt").is_file() for s in ("train", "test")):
            return list(folders)
        names = [n for path in lists for n in read_name_list(path, f"{path.stem} list")]
        missing = [n for n in names if n not in folders]
        if missing:
            raise DatasetError(f"{self.root}: listed sequences without a folder and ground truth: {', '.join(missing[:5])}")
        return names

    def load(self, name: str) -> Sequence:
        folders = self._sequence_folders()
        if name not in folders:
            raise DatasetError(f"folder dataset {self.root}: no sequence folder {name!r} with a ground-truth file")
        return sequence_from_folder(folders[name], name, self.name, self.split, self.attribute_names)

