"""The backbone contract: a frozen single-object tracker that can take a language description.

Frames are HxWx3 uint8 RGB arrays, boxes ``(x, y, w, h)`` float pixels. A backbone is used for one
sequence at a time: ``initialize`` starts a sequence (and must leave nothing of the previous one),
``track`` gives the next box, ``set_text`` changes the description it conditions on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..registry import Registry

__all__ = ["Prediction", "Backbone", "BACKBONES", "BackboneError"]


class BackboneError(RuntimeError):
    """A backbone that cannot be built or used (bad checkpoint, tracking before initialize, ...)."""


@dataclass(frozen=True)
class Prediction:
    """One frame's output: the box and the backbone's confidence (None when it has none)."""

    box: np.ndarray
    score: float | None = None


class Backbone(ABC):
    name: str = ""
    #: True when ``set_text`` changes what the backbone does (vision-language backbones).
    uses_text: bool = False

    @abstractmethod
    def initialize(self, frame: np.ndarray, box, text: str | None = None) -> None:
        """Start a new sequence on ``frame`` with the target at ``box``; resets all state."""

    @abstractmethod
    def track(self, frame: np.ndarray) -> Prediction:
        """Locate the target in the next frame."""

    def set_text(self, text: str | None) -> None:
        """Change the description used from the next ``track`` on (ignored by vision-only backbones)."""

    def reset(self) -> None:
        """Forget the current sequence (``initialize`` calls this first)."""

    def kept_text(self, text: str) -> str:
        """What of ``text`` the backbone actually sees (e.g. DUTrack keeps 14 word-pieces)."""
        return text

    def close(self) -> None:
        """Release resources (threads, GPU memory)."""


BACKBONES: Registry[Backbone] = Registry("backbone")
