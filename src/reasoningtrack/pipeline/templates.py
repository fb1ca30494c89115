"""The images the reasoner compares: a template frame and the current frame.

The release shows the first frame as template. ``last-confident`` keeps the latest frame whose
score reached a threshold instead (a fresher view of the target when its appearance drifts).
``mark`` draws the target's box on copies of the images so that a VLM knows which object is meant.
Frames are kept by reference, not copied: sources yield a fresh array per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import TemplateConfig

__all__ = ["TemplateMemory", "ReasonerImages", "draw_box"]


def draw_box(image: np.ndarray, box, color=(255, 0, 0), thickness: int = 2) -> np.ndarray:
    """A copy of ``image`` with the xywh ``box`` drawn (colour in the image's channel order)."""
    import cv2

    out = np.ascontiguousarray(image).copy()
    x, y, w, h = (float(v) for v in box)
    if not all(np.isfinite([x, y, w, h])):
        return out
    top_left = (int(round(x)), int(round(y)))
    bottom_right = (int(round(x + w)), int(round(y + h)))
    cv2.rectangle(out, top_left, bottom_right, tuple(int(c) for c in color), int(thickness))
    return out


@dataclass(frozen=True)
class ReasonerImages:
    template: np.ndarray
    current: np.ndarray
    template_index: int
    template_box: np.ndarray


class TemplateMemory:
    """Per-sequence template choice."""

    def __init__(self, config: TemplateConfig):
        self.config = config
        self._frame: np.ndarray | None = None
        self._box: np.ndarray | None = None
        self._index = 0

    def reset(self, frame: np.ndarray, box) -> None:
        self._frame = frame
        self._box = np.asarray(box, dtype=np.float64).copy()
        self._index = 0

    def observe(self, index: int, frame: np.ndarray, box, score: float | None) -> None:
        if self.config.source != "last-confident" or score is None or not score >= self.config.confidence:
            return
        self._frame = frame
        self._box = np.asarray(box, dtype=np.float64).copy()
        self._index = index

    def images(self, current: np.ndarray, current_box) -> ReasonerImages:
        if self._frame is None or self._box is None:
            raise RuntimeError("TemplateMemory.images before reset(frame, box)")
        cfg = self.config
        template = self._frame
        if cfg.mark in ("template", "both"):
            template = draw_box(template, self._box, cfg.mark_color, cfg.mark_thickness)
        if cfg.mark == "both":
            current = draw_box(current, current_box, cfg.mark_color, cfg.mark_thickness)
        return ReasonerImages(template=template, current=current, template_index=self._index, template_box=self._box)
