"""OTB99-Lang: OTB-100 videos with the natural-language queries of Li et al. (CVPR 2017).

Layouts, detected automatically from ``root``:

- **OTB99-Lang release**: ``OTB_videos/<Name>/{img/%04d.jpg, groundtruth_rect.txt}`` with one
  sentence per video in ``OTB_query_test/<Name>.txt`` (48 test videos) or
  ``OTB_query_train/<Name>.txt`` (51 train videos). The split is the query folder's file list.
- **plain OTB-100 folder**: ``<Name>/{img/, groundtruth_rect.txt[, attrs.txt]}`` (the OTB
  authors' layout). Sentences are read from ``OTB_query_test``/``OTB_query_train`` beside the
  videos when present, otherwise the description is None; the split is every video present.

OTB quirks handled: ground truth with tab, comma or space delimiters; ground truth shorter than
the video (Football1: 74 of 81 frames; kept as read, protocols cut longer results); videos
whose annotation starts later than the first image (``START_FRAMES``: David 300, BlurCar1 247,
BlurCar3 3, BlurCar4 18, overridable with ``start_frames=``), whose frames have five digits
(Board) or whose two targets share one folder (``Jogging-1`` = ``Jogging/groundtruth_rect.1.txt``).
OTB has no absent flags (``absent`` is None); attributes come from ``attrs.txt`` when present.
"""

from __future__ import annotations

import re
from pathlib import Path

from .parsing import natural_key, read_box_table, read_text
from .base import Dataset, DatasetError, Sequence

__all__ = ["OTBLang", "OTB_ATTRIBUTES", "START_FRAMES"]

OTB_ATTRIBUTES = ("IV", "SV", "OCC", "DEF", "MB", "FM", "IPR", "OPR", "OV", "BC", "LR")
"""The 11 OTB attributes in the benchmark paper's order (Wu et al., TPAMI 2015)."""

START_FRAMES = {"David": 300, "BlurCar1": 247, "BlurCar3": 3, "BlurCar4": 18}
"""First annotated image of videos whose ground truth does not start at image 1."""

_QUERY_FOLDERS = {"test": "OTB_query_test", "train": "OTB_query_train"}
_TWO_TARGETS = re.compile(r"^(?P<base>.+)[-.](?P<k>[12])$")


class OTBLang(Dataset):
    """OTB99-Lang (99 OTB videos with sentences: 51 train / 48 test), or plain OTB-100 folders."""

    name = "otb-lang"
    attribute_names = OTB_ATTRIBUTES
    splits = ("test", "train")

    def __init__(self, root, split: str = "test", start_frames: dict[str, int] | None = None):
        super().__init__(root, split)
        if not self.root.is_dir():
            raise DatasetError(f"otb-lang: root {self.root} is not a folder")
        self.videos_dir = self.root / "OTB_videos" if (self.root / "OTB_videos").is_dir() else self.root
        self.query_dir = self.root / _QUERY_FOLDERS[split]
        self.start_frames = {**START_FRAMES, **(start_frames or {})}
        self._names: list[str] | None = None

    def _video(self, name: str) -> tuple[Path, Path]:
        """The video folder and ground-truth file of ``name`` (two-target videos share a folder)."""
        folder = self.videos_dir / name
        if (folder / "groundtruth_rect.txt").is_file():
            return folder, folder / "groundtruth_rect.txt"
        match = _TWO_TARGETS.match(name)
        if match:
            base = self.videos_dir / match["base"]
            gt = base / f"groundtruth_rect.{match['k']}.txt"
            if gt.is_file():
                return base, gt
        raise DatasetError(f"otb-lang: no ground truth for {name!r}: expected {folder / 'groundtruth_rect.txt'}")

    def sequence_names(self) -> list[str]:
        if self._names is None:
            if self.query_dir.is_dir():
                names = sorted((p.stem for p in self.query_dir.glob("*.txt")), key=natural_key)
                if not names:
                    raise DatasetError(f"otb-lang: no query files in {self.query_dir}")
                for n in names:
                    self._video(n)  # fail early, naming the missing video
            elif self.split == "test":
                names = []
                for gt in self.videos_dir.glob("*/groundtruth_rect*.txt"):
                    suffix = gt.name[len("groundtruth_rect"):-len(".txt")]
                    names.append(gt.parent.name + (f"-{suffix[1:]}" if suffix.startswith(".") else ""))
                names = sorted(set(names), key=natural_key)
                if not names:
                    raise DatasetError(
                        f"otb-lang: {self.root} holds neither OTB_videos/ + {_QUERY_FOLDERS['test']}/ nor "
                        "<Name>/groundtruth_rect.txt folders"
                    )
            else:
                raise DatasetError(f"otb-lang: the train split needs {self.query_dir}")
            self._names = names
        return list(self._names)

    def _attributes(self, folder: Path) -> dict[str, bool]:
        path = folder / "attrs.txt"
        if not path.is_file():
            return {}
        codes = [c.strip().upper() for c in re.split(r"[,\s]+", path.read_text(encoding="utf-8")) if c.strip()]
        unknown = [c for c in codes if c not in self.attribute_names]
        if unknown:
            raise DatasetError(f"{path}:1: unknown OTB attribute(s) {unknown}; expected codes from {list(self.attribute_names)}")
        return {a: a in codes for a in self.attribute_names}

    def load(self, name: str) -> Sequence:
        folder, gt_path = self._video(name)
        gt = read_box_table(gt_path)
        description = None
        query = self.query_dir / f"{name}.txt"
        if query.is_file():
            description = read_text(query, "language description")
        start = self.start_frames.get(name, 1)
        img_dir = folder / "img"

        def frames_fn() -> list[Path]:
            if not img_dir.is_dir():
                raise DatasetError(f"otb-lang: missing frame folder {img_dir}")
            numbered = []
            for p in img_dir.iterdir():
                if p.suffix.lower() in (".jpg", ".jpeg", ".png") and p.stem.isdigit():
                    numbered.append((int(p.stem), p))
            return [p for number, p in sorted(numbered) if number >= start]

        return Sequence(
            name=name,
            ground_truth=gt,
            dataset=self.name,
            split=self.split,
            description=description,
            absent=None,
            attributes=self._attributes(folder),
            frame_paths_fn=frames_fn,
        )
