"""``replay``: a backbone that returns the rows of a box file, one per frame, with score 1.0.

For testing schedules and policies through the real commands (the boxes, hence the reasoning
calls, are known in advance) and for upper-bound experiments (replay the ground truth: the
reasoner then sees exactly the target). Row 1 belongs to the init frame, row ``t + 1`` to frame
``t``; the text is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Config, ConfigError
from .base import Backbone, BackboneError, Prediction

__all__ = ["ReplayConfig", "ReplayBackbone", "build_replay"]


@dataclass(frozen=True)
class ReplayConfig(Config):
    """``boxes``: a text file with one ``x,y,w,h`` row per frame (any of , ; tab space between
    values); ``score``: the confidence reported on every frame."""

    boxes: str = ""
    score: float = 1.0


class ReplayBackbone(Backbone):
    name = "replay"

    def __init__(self, config: ReplayConfig):
        if not config.boxes:
            raise ConfigError("replay backbone: give the box file with --backbone-opt boxes=FILE")
        self.config = config
        self.path = Path(config.boxes)
        self.boxes = _read(self.path)
        self._index: int | None = None

    def reset(self) -> None:
        self._index = None

    def initialize(self, frame, box, text=None) -> None:
        self._index = 0

    def track(self, frame) -> Prediction:
        if self._index is None:
            raise BackboneError("replay backbone: track() before initialize()")
        self._index += 1
        if self._index >= len(self.boxes):
            raise BackboneError(
                f"{self.path}: {len(self.boxes)} rows, but the video has a frame {self._index + 1} "
                "(a replay file needs one x,y,w,h row per frame, the init frame's first)"
            )
        return Prediction(self.boxes[self._index].copy(), float(self.config.score))


def _read(path: Path) -> np.ndarray:
    from ..datasets.base import DatasetError
    from ..datasets.parsing import read_box_table

    try:
        boxes = read_box_table(path, "replay box file")
    except DatasetError as err:
        raise BackboneError(str(err)) from None
    bad = np.flatnonzero(~np.isfinite(boxes).all(axis=1))
    if len(bad):
        raise BackboneError(f"{path}, line {bad[0] + 1}: expected four finite numbers x,y,w,h, got {boxes[bad[0]].tolist()}")
    return boxes


def build_replay(**options) -> ReplayBackbone:
    """Registry factory: options are :class:`ReplayConfig` fields."""
    return ReplayBackbone(ReplayConfig.from_dict(options, where="replay backbone"))
