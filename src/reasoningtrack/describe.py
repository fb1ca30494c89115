"""Words for where a box is in a frame, shared by everything that writes or reads descriptions.

The synthetic world writes its ground-truth facts with these words and the heuristic reasoner
describes what it measures with them, so that both speak the same vocabulary.
"""

from __future__ import annotations

__all__ = ["position_words", "position_phrase"]


def position_words(cx: float, cy: float, width: float, height: float) -> tuple[str, str]:
    """``(horizontal, vertical)`` third of the frame holding the point: left/center/right,
    top/middle/bottom (a point on a boundary belongs to the later third)."""
    horizontal = "left" if cx < width / 3 else ("right" if cx >= 2 * width / 3 else "center")
    vertical = "top" if cy < height / 3 else ("bottom" if cy >= 2 * height / 3 else "middle")
    return horizontal, vertical


def position_phrase(horizontal: str, vertical: str) -> str:
    """'on the left', 'at the top right', 'in the center', ..."""
    if horizontal == "center" and vertical == "middle":
        return "in the center"
    if vertical == "middle":
        return f"on the {horizontal}"
    if horizontal == "center":
        return f"at the {vertical}"
    return f"at the {vertical} {horizontal}"
