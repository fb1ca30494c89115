"""What every frame source shares: the iteration contract, errors and the skipped-frame report.

Iterating a source yields ``(index, frame)`` pairs: ``index`` is the frame's 0-based position in
the video or folder and ``frame`` an HxWx3 uint8 RGB array. Indices are positions, not counters:
when ``skip_corrupt=True`` drops a bad frame its index is missing from the stream, so results stay
aligned with the ground truth. Every ``iter()`` starts again from the first frame with fresh
readers; nothing holds more than a bounded look-ahead of decoded frames.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Iterator

import numpy as np

from ..sequence_files import natural_key

__all__ = ["FrameSource", "SourceError", "SkippedFrameWarning", "natural_sort_key"]


class SourceError(ValueError):
    """A frame source that cannot be read: names the file (and the frame index where known)."""

    def __init__(self, message: str, *, path: str | Path | None = None, index: int | None = None):
        super().__init__(message)
        self.path = None if path is None else Path(path)
        self.index = index


class SkippedFrameWarning(UserWarning):
    """A corrupt frame was skipped because the source was opened with ``skip_corrupt=True``."""


def natural_sort_key(path: str | Path) -> tuple:
    """Sort ``img2.jpg`` before ``img10.jpg`` (digit runs compare as numbers)."""
    return natural_key(Path(path).name)


class FrameSource(ABC):
    """A restartable stream of ``(index, frame)`` pairs read with bounded look-ahead."""

    #: Where the frames come from (the video file, the folder or the sequence name).
    name: str = ""

    def __init__(self, *, skip_corrupt: bool = False):
        self.skip_corrupt = bool(skip_corrupt)
        #: Frames dropped by the last iteration: ``(index, "path: reason")``.
        self.skipped: list[tuple[int, str]] = []
        #: Most decoded frames held at once by the last iteration (the bound is ``prefetch``).
        self.peak_buffered = 0

    @property
    @abstractmethod
    def frame_count(self) -> int | None:
        """Number of frames when known without decoding them all, else None."""

    @property
    def fps(self) -> float | None:
        """Frame rate when the source has one (video files), else None."""
        return None

    @property
    @abstractmethod
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the frames."""

    @abstractmethod
    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frame)`` from the first frame on."""

    def frames(self) -> Iterator[np.ndarray]:
        """The frames alone, for callers that do not need positions."""
        for _, frame in self:
            yield frame

    def __len__(self) -> int:
        count = self.frame_count
        if count is None:
            # TypeError is what len() callers (and list()'s length hint) expect for "unknown".
            raise TypeError(f"{self.name}: the frame count is not known before decoding")
        return count

    def _skip(self, index: int, reason: str) -> None:
        """Record a dropped frame and warn, so that skipping is never silent."""
        self.skipped.append((index, reason))
        warnings.warn(f"skipped corrupt frame {index}: {reason}", SkippedFrameWarning, stacklevel=3)

    def close(self) -> None:
        """Release readers (iteration already releases them when it ends or is abandoned)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, frames={self.frame_count})"
