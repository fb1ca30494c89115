"""The toy world's frozen backbone: a colour-and-shape "tracker" that follows the text the way a
vision-language tracker does.

It finds the blob of the colour the text names and accepts it only if its shape is the shape the
text names; otherwise it has lost the target (an empty box). So IoU(text) is 1 for a text that
names the target in frame 2 and 0 otherwise, and the release's IoU and judge rewards (run through
this backbone) score the whole answer, colour and shape (see :mod:`reasoningtrack.datasets.toy_world`).
"""

from __future__ import annotations

import re

import numpy as np

from ..config import ConfigError
from ..datasets.toy_world import COLOURS, FILL
from .base import Backbone, BackboneError, Prediction

__all__ = ["ToyBackbone", "build_toy_backbone"]

_WORDS = re.compile(r"[a-z]+")


#: Colour words the toy backbone knows: the toy world's, plus the synthetic world's (``data
#: synth``) for the names the toy world lacks, so the same backbone reads both worlds' texts.
def _palette() -> dict[str, tuple[int, int, int]]:
    from ..datasets.synthetic import PALETTE

    return {**PALETTE, **COLOURS}


#: Shapes by the fraction of their bounding box they fill (a diamond fills half, like a triangle).
_SHAPE_FILL = {**FILL, "diamond": 0.5}
_MIN_PIXELS = 12
#: Overlap with the previous box that counts as the same object when following (frame-to-frame
#: motion is a few pixels; a background patch of some colour rarely overlaps this much).
_FOLLOW_IOU = 0.3
#: Lost frames after which following by shape stops and only the text's colour finds the target
#: again (a short gap, e.g. the few frames of a colour blend, keeps continuity; a target that left
#: the view must be re-detected by what the text says).
_FOLLOW_GAP = 5


class ToyBackbone(Backbone):
    """Finds the blob of the colour the text names; accepts it only when its shape is the named shape.

    Blobs are the connected regions of pixels within ``tolerance`` of the named colour, holes
    filled (the synthetic world draws an outline and an inner pattern); the shape is the one whose
    fill fraction of the bounding box is nearest. Among several matching blobs the one overlapping
    the previous box most (then the nearest) wins. Score 1 when found, 0 (an empty box) when lost.

    ``follow`` (off by default, so the toy world's labels stay IoU 0 for a stale colour): continuity
    first, like a tracker. A blob of the named colour and shape that overlaps the previous box
    wins (score 1); else a blob of the named shape in another colour that overlaps it (score 0.5:
    the visual half of a vision-language tracker holds on while the text has gone stale, and only
    half of the description, the shape, agrees); else a blob of the named colour and shape
    anywhere (re-detection, score 1). A target that left the view is found again only by the colour
    the text names. An assumption of this toy, chosen so that a reasoner that refreshes the colour
    while the target is in view makes the difference at re-detection and when a look-alike of the
    old colour is around.
    """

    name = "toy"
    uses_text = True

    def __init__(self, tolerance: int = 40, follow: bool = False):
        self.tolerance = int(tolerance)
        self.follow = bool(follow)
        self.palette = _palette()
        self._text: str | None = None
        self._ready = False
        self._last: np.ndarray | None = None
        self._lost_for = 0

    def initialize(self, frame, box, text=None):
        self._text = text or ""
        self._ready = True
        self._last = np.asarray(box, dtype=np.float64).reshape(4)
        self._lost_for = 0

    def set_text(self, text):
        self._text = text or ""

    def reset(self):
        self._text, self._ready, self._last = None, False, None

    def _blobs(self, frame, rgb) -> list[tuple[np.ndarray, float]]:
        """(box xywh, fill fraction) of each region of ``rgb``-coloured pixels, holes filled."""
        import cv2

        diff = np.abs(frame.astype(np.int16) - np.array(rgb, dtype=np.int16)).max(axis=2)
        mask = (diff <= self.tolerance).astype(np.uint8)
        if int(mask.sum()) < 4:
            return []
        # closing joins a ring broken by anti-aliasing (solid shapes are unchanged)
        closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        out = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h < _MIN_PIXELS:
                continue
            filled = np.zeros((h, w), dtype=np.uint8)
            cv2.drawContours(filled, [contour - np.array([x, y])], -1, 1, thickness=cv2.FILLED)
            ys, xs = np.nonzero(mask[y : y + h, x : x + w] & filled)  # the box of the pixels themselves
            if len(xs) == 0:
                continue
            box = np.array([x + xs.min(), y + ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1], dtype=np.float64)
            out.append((box, float(filled.sum()) / float(w * h)))
        return out

    def _shape_of(self, fill: float) -> str:
        return min(_SHAPE_FILL, key=lambda s: abs(_SHAPE_FILL[s] - fill))

    def _closest(self, boxes: list[np.ndarray]) -> np.ndarray:
        if self._last is None or len(boxes) == 1:
            return boxes[0]
        from ..geometry import iou

        last = np.repeat(self._last.reshape(1, 4), len(boxes), axis=0)
        overlaps = iou(np.stack(boxes), last)
        centre = self._last[:2] + self._last[2:] / 2
        distance = [float(np.hypot(*(b[:2] + b[2:] / 2 - centre))) for b in boxes]
        return boxes[min(range(len(boxes)), key=lambda i: (-overlaps[i], distance[i]))]

    def _overlaps(self, box: np.ndarray) -> bool:
        from ..geometry import iou

        last = self._last
        if last is None or last[2] <= 0 or last[3] <= 0:
            return False
        return float(iou(box.reshape(1, 4), last.reshape(1, 4))[0]) >= _FOLLOW_IOU

    def _follow_candidates(self, frame, colour, wanted) -> list[np.ndarray]:
        """Blobs of the named shape, any other known colour, overlapping the previous box."""
        if self._last is None or self._lost_for > _FOLLOW_GAP:
            return []
        return [box for name, rgb in self.palette.items() if name != colour
                for box, fill in self._blobs(frame, rgb) if wanted(fill) and self._overlaps(box)]

    def track(self, frame) -> Prediction:
        if not self._ready:
            raise BackboneError("ToyBackbone.track called before initialize")
        words = _WORDS.findall((self._text or "").lower())
        colour = next((w for w in words if w in self.palette), None)
        shape = next((w for w in words if w in _SHAPE_FILL), None)
        lost = Prediction(np.zeros(4), 0.0)
        if shape is None:
            return lost
        wanted = lambda fill: _SHAPE_FILL[self._shape_of(fill)] == _SHAPE_FILL[shape]  # noqa: E731
        found = []
        if colour is not None:
            found = [box for box, fill in self._blobs(frame, self.palette[colour]) if wanted(fill)]
        if found and self.follow and self._last is not None:
            near = [b for b in found if self._overlaps(b)]
            found = near or (found if not self._follow_candidates(frame, colour, wanted) else [])
        if found:
            self._last, self._lost_for = self._closest(found), 0
            return Prediction(self._last.copy(), 1.0)
        if self.follow:
            near = self._follow_candidates(frame, colour, wanted)
            if near:
                self._last, self._lost_for = self._closest(near), 0
                return Prediction(self._last.copy(), 0.5)
        self._lost_for += 1
        return lost  # the previous box is kept: continuity resumes after a short gap (a colour blend)


def build_toy_backbone(**options) -> ToyBackbone:
    unknown = sorted(set(options) - {"tolerance", "follow"})
    if unknown:
        raise ConfigError(f"unknown option(s) {unknown} for the toy backbone; valid: ['follow', 'tolerance']")
    return ToyBackbone(**options)
