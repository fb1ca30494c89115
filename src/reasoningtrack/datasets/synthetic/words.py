"""The words the synthetic world describes its target with (size, motion, the sentence); position
words are shared with the heuristic reasoner (:mod:`reasoningtrack.describe`)."""

from __future__ import annotations

import math

from ...describe import position_phrase, position_words

__all__ = ["size_word", "motion_word", "describe", "position_words", "position_phrase"]


def size_word(w: float, h: float, width: int, height: int) -> str:
    """small / medium / large from the side of the target relative to the image's short side."""
    relative = math.sqrt(max(w, 0.0) * max(h, 0.0)) / min(width, height)
    return "small" if relative < 0.17 else "large" if relative >= 0.29 else "medium"


def motion_word(dx: float, dy: float, still_below: float = 0.3) -> str:
    """left / right / up / down (the dominant axis), or still."""
    if math.hypot(dx, dy) < still_below:
        return "still"
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"


def describe(colour: str, shape: str, position: str | None, motion: str | None = None) -> str:
    """The sentence for a target state, e.g. ``"the red square on the left moving right"``."""
    text = f"the {colour} {shape}"
    if position:
        text += f" {position}"
    if motion and motion != "still":
        text += f" moving {motion}"
    return text
