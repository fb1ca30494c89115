"""What a reasoner returns, and what it may know besides the two images."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Reasoning", "ReasoningContext"]


@dataclass(frozen=True)
class Reasoning:
    """One answer: ``think`` (the chain of thought), ``update`` (``<d>yes</d>``), ``answer`` (the new
    description, or the old one where the model gave none), ``raw`` (the model's whole output),
    ``format_ok`` (all three tag pairs present) and ``strict_ok`` (think, d, answer in that order
    with d in {yes, no})."""

    think: str
    update: bool
    answer: str
    raw: str
    format_ok: bool
    strict_ok: bool

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ReasoningContext:
    """Optional facts the pipeline knows when it asks (boxes, score, frame index).

    VLM reasoners may ignore them; the weight-free heuristic reasoner measures from them.
    """

    frame_index: int | None = None
    template_index: int | None = None
    template_box: np.ndarray | None = None
    current_box: np.ndarray | None = None
    previous_box: np.ndarray | None = None
    score: float | None = None
