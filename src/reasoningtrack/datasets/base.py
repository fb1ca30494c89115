"""The sequence type every data source yields, and the dataset registry.

A :class:`Sequence` holds everything a tracker run or an evaluation needs about one video: frame
paths (read lazily, one at a time), ground truth, absent flags, attributes, the language
description and the split. Ground truth may be shorter than the video (OTB's Football1 annotates
74 of 81 frames); it is stored as read and never padded here: protocols decide what to do.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence as _Seq

import numpy as np

from ..registry import Registry

__all__ = ["Sequence", "Dataset", "DATASETS", "DatasetError", "read_rgb"]


class DatasetError(ValueError):
    """A dataset file that is missing or malformed: the message names the file and line."""


def read_rgb(path: str | Path) -> np.ndarray:
    """Read one image file as an HxWx3 uint8 RGB array; a truncated or corrupt file is an error.

    One decoder for the whole package: :func:`reasoningtrack.sources.images.decode_rgb`.
    """
    from ..sources.images import decode_rgb

    return decode_rgb(path)


@dataclass
class Sequence:
    """One video of a benchmark.

    ``ground_truth`` is ``(N_gt, 4)`` float64 xywh in pixels (1-based toolkit coordinates are kept
    as written); ``absent`` is a bool array (True = target absent: out of view or fully occluded)
    or None when the benchmark has no such flag; ``attributes`` maps the benchmark's attribute
    codes (in its official order) to flags.
    """

    name: str
    ground_truth: np.ndarray
    dataset: str = ""
    split: str | None = None
    description: str | None = None
    absent: np.ndarray | None = None
    attributes: dict[str, bool] = field(default_factory=dict)
    frame_paths_fn: Callable[[], list[Path]] | None = field(default=None, repr=False)
    _frames: list[Path] | None = field(default=None, repr=False)

    @property
    def frames(self) -> list[Path]:
        """Frame paths in order (listed on first use; empty when only annotations are present)."""
        if self._frames is None:
            self._frames = list(self.frame_paths_fn()) if self.frame_paths_fn else []
        return self._frames

    def __len__(self) -> int:
        return len(self.frames) if self.frames else len(self.ground_truth)

    @property
    def init_box(self) -> np.ndarray:
        return np.asarray(self.ground_truth[0], dtype=np.float64)

    def read_frame(self, index: int) -> np.ndarray:
        frames = self.frames
        if not frames:
            raise DatasetError(f"sequence {self.name!r} of {self.dataset!r} has no frames on disk (annotations only)")
        return read_rgb(frames[index])

    @property
    def visible(self) -> np.ndarray:
        """True where the target is visible (all True when the benchmark has no absent flags)."""
        if self.absent is None:
            return np.ones(len(self.ground_truth), dtype=bool)
        return ~np.asarray(self.absent, dtype=bool)


class Dataset(ABC):
    """A benchmark split: an ordered collection of sequences, addressable by name.

    Subclasses set ``name`` and ``attribute_names`` and implement ``sequence_names`` and
    ``load(name)``; sequences are loaded on access, never all at once.
    """

    name: str = ""
    attribute_names: tuple[str, ...] = ()
    splits: tuple[str, ...] = ("test",)

    def __init__(self, root: str | Path, split: str = "test"):
        self.root = Path(root)
        if split not in self.splits:
            raise DatasetError(f"{self.name}: unknown split {split!r}; available: {list(self.splits)}")
        self.split = split

    @abstractmethod
    def sequence_names(self) -> list[str]:
        """Names of the split's sequences, in the benchmark's official order."""

    @abstractmethod
    def load(self, name: str) -> Sequence:
        """Read one sequence's annotations (frames stay on disk)."""

    def __len__(self) -> int:
        return len(self.sequence_names())

    def __iter__(self) -> Iterator[Sequence]:
        for name in self.sequence_names():
            yield self.load(name)

    def __getitem__(self, name: str) -> Sequence:
        if name not in set(self.sequence_names()):
            raise DatasetError(f"{self.name} ({self.split}) has no sequence {name!r} under {self.root}")
        return self.load(name)

    def select(self, names: _Seq[str]) -> list[Sequence]:
        return [self[n] for n in names]


DATASETS: Registry[Dataset] = Registry("dataset")
