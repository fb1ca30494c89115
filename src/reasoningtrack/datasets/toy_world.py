"""A toy world of frame pairs whose right answer is knowable, to prove that training learns.

Each pair shows one coloured shape that fills about half of a small frame. Between frame 1 and
frame 2 the shape moves a little and, with probability ``p_change``, changes colour. The
description names frame 1's colour and shape ("the red circle"); the right decision is ``yes``
exactly when the colour changed, and the right answer names frame 2's colour *and* shape.
Its frozen backbone is :mod:`reasoningtrack.trackers.toy`; its samples, prompt and training demo
are in :mod:`reasoningtrack.training.toy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config import Config, ConfigError

__all__ = ["COLOURS", "SHAPES", "FILL", "ToyConfig", "ToyPair", "render_shape", "make_pairs"]

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (50, 80, 230),
    "yellow": (235, 220, 50),
    "purple": (150, 60, 200),
    "orange": (245, 140, 30),
}
SHAPES = ("square", "circle", "triangle")
#: Fraction of its bounding box each shape fills (how the toy backbone tells them apart).
FILL = {"square": 1.0, "circle": np.pi / 4, "triangle": 0.5}
_BACKGROUND = (60, 60, 60)


@dataclass(frozen=True)
class ToyConfig(Config):
    """Size of the world. The trial notes that worked on a 2-core CPU: 56 px frames, 6 colours x 3
    shapes, colour change with p = 0.5, targets about half the frame."""

    image_size: int = 56
    colours: list[str] = field(default_factory=lambda: list(COLOURS))
    shapes: list[str] = field(default_factory=lambda: list(SHAPES))
    p_change: float = 0.5
    min_size: float = 0.5
    max_size: float = 0.75
    max_shift: float = 0.12
    noise: int = 6

    def __post_init__(self):
        unknown = [c for c in self.colours if c not in COLOURS] + [s for s in self.shapes if s not in SHAPES]
        if unknown:
            raise ConfigError(f"unknown toy colour/shape {unknown}; available: {list(COLOURS)} and {list(SHAPES)}")
        if len(self.colours) < 2:
            raise ConfigError("the toy world needs at least two colours (a change must be possible)")
        if not 0 < self.min_size <= self.max_size < 1:
            raise ConfigError(f"need 0 < min_size <= max_size < 1, got {self.min_size}, {self.max_size}")


@dataclass(frozen=True)
class ToyPair:
    sample_id: str
    frames: tuple[np.ndarray, np.ndarray]
    boxes: tuple[np.ndarray, np.ndarray]
    colour1: str
    colour2: str
    shape: str

    @property
    def description(self) -> str:
        return f"the {self.colour1} {self.shape}"

    @property
    def changed(self) -> bool:
        return self.colour1 != self.colour2

    @property
    def answer(self) -> str:
        return f"the {self.colour2} {self.shape}"


def render_shape(size: int, shape: str, colour: str, box, rng: np.random.Generator, noise: int = 6) -> np.ndarray:
    """One frame: the shape of ``colour`` filling the integer box ``(x, y, w, h)``."""
    frame = np.empty((size, size, 3), dtype=np.int16)
    frame[:] = _BACKGROUND
    x, y, w, h = (int(v) for v in box)
    yy, xx = np.mgrid[0:h, 0:w]
    if shape == "square":
        mask = np.ones((h, w), dtype=bool)
    elif shape == "circle":
        mask = ((xx + 0.5 - w / 2) / (w / 2)) ** 2 + ((yy + 0.5 - h / 2) / (h / 2)) ** 2 <= 1.0
    elif shape == "triangle":  # apex at the top, base at the bottom
        half = (yy + 0.5) / h * (w / 2)
        mask = np.abs(xx + 0.5 - w / 2) <= half
    else:
        raise ConfigError(f"unknown shape {shape!r}")
    region = frame[y : y + h, x : x + w]
    region[mask] = COLOURS[colour]
    if noise:
        frame += rng.integers(-noise, noise + 1, size=frame.shape, dtype=np.int16)
    return np.clip(frame, 0, 255).astype(np.uint8)


def make_pairs(n: int, seed: int, config: ToyConfig | None = None, prefix: str = "toy") -> list[ToyPair]:
    """``n`` pairs, the same for the same seed."""
    cfg = config or ToyConfig()
    rng = np.random.default_rng(seed)
    size = cfg.image_size
    pairs = []
    for i in range(n):
        shape = cfg.shapes[int(rng.integers(len(cfg.shapes)))]
        colour1 = cfg.colours[int(rng.integers(len(cfg.colours)))]
        colour2 = colour1
        if rng.random() < cfg.p_change:
            others = [c for c in cfg.colours if c != colour1]
            colour2 = others[int(rng.integers(len(others)))]
        side = int(round(size * rng.uniform(cfg.min_size, cfg.max_size)))
        x1, y1 = (int(v) for v in rng.integers(0, size - side + 1, size=2))
        shift = max(1, int(round(cfg.max_shift * size)))
        x2 = int(np.clip(x1 + rng.integers(-shift, shift + 1), 0, size - side))
        y2 = int(np.clip(y1 + rng.integers(-shift, shift + 1), 0, size - side))
        box1 = np.array([x1, y1, side, side], dtype=np.float64)
        box2 = np.array([x2, y2, side, side], dtype=np.float64)
        frames = (
            render_shape(size, shape, colour1, box1, rng, cfg.noise),
            render_shape(size, shape, colour2, box2, rng, cfg.noise),
        )
        pairs.append(ToyPair(f"{prefix}-{seed}-{i:05d}", frames, (box1, box2), colour1, colour2, shape))
    return pairs
