"""A synthetic world: short sequences whose target changes in ways language can name.

Each sequence shows one target (a filled square, circle, triangle or diamond with an outline
and an inner pattern) on a textured background. Over time it moves (left/right/up/down), may
change colour (a named palette with distinct hues), grow or shrink, leave the view and come back
(absent frames), and a look-alike distractor (same shape, same or other colour) may appear. The
ground truth, the absent flags and every per-frame fact (colour, shape, size, position words,
motion, visibility, distractor) are known exactly, so tests, demos and toy training can check a
tracker's boxes and a reasoner's words against the truth.

On disk a dataset uses the TNLLT layout, readable by both the ``synthetic`` and ``tnllt``
loaders::

    DIR/synthetic.json            generator parameters (seed, config, sequence counts)
    DIR/train.txt, DIR/test.txt   sequence names of each split
    DIR/<split>/<name>/imgs/00001.png ...
                       groundtruth.txt    x,y,w,h per frame (0-based continuous pixels; 0,0,0,0
                                          when absent; the visible part when partly out of view)
                       absent_label.txt   one flag per frame, TNLLT's convention: 1 = present,
                                          0 = absent (less than 10% of the target in view)
                       attributes.txt     0/1 flags, comma-separated, in the order CC,SV,OV,DIS
                       language.txt       the description of frame 1
                       events.json        per-frame facts and the list of events

Generation is deterministic for a seed: all randomness comes from ``numpy.random.Generator``
streams derived from ``(seed, split, index)``, the background is computed in float64 numpy and
shapes are drawn with OpenCV's integer rasteriser, so the PNG files are byte-identical between
runs (same OpenCV/zlib build).
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..config import Config, ConfigError
from ..describe import position_phrase, position_words
from .base import DatasetError, Sequence
from .tnllt import TNLLT

__all__ = [
    "PALETTE",
    "SHAPES",
    "ATTRIBUTES",
    "WorldConfig",
    "SyntheticSequence",
    "generate_sequence",
    "write_sequence",
    "write_dataset",
    "SyntheticDataset",
    "describe",
    "position_words",
    "position_phrase",
    "size_word",
    "motion_word",
    "make_background",
    "draw_object",
    "WorldObject",
]

FORMAT_VERSION = 1

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (245, 135, 20),
    "yellow": (240, 220, 30),
    "green": (30, 175, 60),
    "blue": (35, 80, 230),
    "purple": (145, 50, 200),
    "white": (250, 250, 250),
    "black": (15, 15, 15),
}
"""Target colours (RGB), distinct in hue or lightness; the background stays desaturated."""

SHAPES: tuple[str, ...] = ("square", "circle", "triangle", "diamond")

ATTRIBUTES: dict[str, str] = {
    "CC": "colour change: the target changes colour",
    "SV": "scale variation: the target grows or shrinks",
    "OV": "out of view: the target leaves the view and re-enters",
    "DIS": "distractor: a look-alike object (same shape) appears",
}

ABSENT_VISIBLE_FRACTION = 0.1
"""A frame is absent when less than this fraction of the target's area is inside the image."""

_DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0), "still": (0.0, 0.0)}


@dataclass
class WorldConfig(Config):
    """Parameters of the generator (sizes in pixels, probabilities per sequence).

    ``min_size``/``max_size`` bound the target's initial side; 0 means automatic: 42 and 62 px
    for a 240 px short side, scaled with the frame's short side.
    """

    frames: int = 80
    width: int = 320
    height: int = 240
    min_size: float = 0.0
    max_size: float = 0.0
    min_speed: float = 0.8
    max_speed: float = 2.0
    p_colour_change: float = 0.6
    p_size_change: float = 0.6
    p_leave: float = 0.35
    p_distractor: float = 0.5
    p_same_colour_distractor: float = 0.5

    def validate(self) -> "WorldConfig":
        """Check the values; returns a copy with automatic sizes resolved."""
        short = min(self.width, self.height)
        if self.min_size == 0 or self.max_size == 0:
            resolved = self.replace(
                min_size=self.min_size or round(short * 42 / 240, 2),
                max_size=self.max_size or round(short * 62 / 240, 2),
            )
            if resolved.min_size > resolved.max_size:
                raise ConfigError(f"min_size {resolved.min_size} exceeds max_size {resolved.max_size}")
            return resolved.validate()
        if self.frames < 20:
            raise ConfigError(f"frames must be >= 20 (events need room), got {self.frames}")
        if self.width < 96 or self.height < 96:
            raise ConfigError(f"frame size must be at least 96x96, got {self.width}x{self.height}")
        if not 8 <= self.min_size <= self.max_size:
            raise ConfigError(f"need 8 <= min_size <= max_size, got {self.min_size}, {self.max_size}")
        if self.max_size * 1.75 > 0.9 * min(self.width, self.height):
            raise ConfigError(
                f"max_size {self.max_size} is too large for {self.width}x{self.height} (grown targets must fit)"
            )
        if not 0 < self.min_speed <= self.max_speed:
            raise ConfigError(f"need 0 < min_speed <= max_speed, got {self.min_speed}, {self.max_speed}")
        for name in ("p_colour_change", "p_size_change", "p_leave", "p_distractor", "p_same_colour_distractor"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} must be a probability in [0, 1], got {value}")
        return self


# ---------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------------


@dataclass
class WorldObject:
    """A drawn object: centre, size (pixels) and fill colour (RGB, floats while blending)."""

    cx: float
    cy: float
    w: float
    h: float
    rgb: tuple[float, float, float]


@dataclass
class SyntheticSequence:
    """One generated sequence in memory: frames (RGB uint8, or empty when not rendered), ground
    truth, absent flags, per-frame facts, events, description and attributes."""

    name: str
    frames: list[np.ndarray]
    ground_truth: np.ndarray
    absent: np.ndarray
    facts: list[dict]
    events: list[dict]
    description: str
    attributes: dict[str, bool]
    shape: str
    width: int
    height: int
    seed: list[int] = field(default_factory=list)

    def to_sequence(self, split: str | None = None) -> Sequence:
        """A :class:`Sequence` whose frames are served from memory (``read_frame``) — no files."""
        seq = _InMemorySequence(
            name=self.name,
            ground_truth=self.ground_truth,
            dataset="synthetic",
            split=split,
            description=self.description,
            absent=self.absent,
            attributes=dict(self.attributes),
        )
        seq.images = self.frames
        return seq


@dataclass
class _InMemorySequence(Sequence):
    images: list[np.ndarray] = field(default_factory=list, repr=False)

    def read_frame(self, index: int) -> np.ndarray:
        if not self.images:
            raise DatasetError(f"synthetic sequence {self.name!r} was generated without frames (render=False)")
        return self.images[index]

    def __len__(self) -> int:
        return len(self.images) if self.images else len(self.ground_truth)


def _rng_for(seed: int, split: str, index: int) -> tuple[np.random.Generator, list[int]]:
    split_code = {"train": 0, "test": 1}.get(split, 2)
    entropy = [int(seed), split_code, int(index)]
    return np.random.default_rng(np.random.SeedSequence(entropy)), entropy


def _smoothstep(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


def _visible_box(obj: WorldObject, width: int, height: int) -> tuple[np.ndarray, float]:
    x1, y1, x2, y2 = obj.cx - obj.w / 2, obj.cy - obj.h / 2, obj.cx + obj.w / 2, obj.cy + obj.h / 2
    cx1, cy1, cx2, cy2 = max(x1, 0.0), max(y1, 0.0), min(x2, float(width)), min(y2, float(height))
    if cx2 <= cx1 or cy2 <= cy1:
        return np.zeros(4), 0.0
    fraction = (cx2 - cx1) * (cy2 - cy1) / (obj.w * obj.h)
    return np.array([cx1, cy1, cx2 - cx1, cy2 - cy1]), fraction


class _Script:
    """The random choices of one sequence, drawn up front in a fixed order (determinism)."""

    def __init__(self, rng: np.random.Generator, cfg: WorldConfig):
        n = cfg.frames
        names = list(PALETTE)
        self.shape = SHAPES[int(rng.integers(len(SHAPES)))]
        self.colour = names[int(rng.integers(len(names)))]
        side = rng.uniform(cfg.min_size, cfg.max_size)
        aspect = rng.uniform(0.8, 1.25)
        self.base_w, self.base_h = side * math.sqrt(aspect), side / math.sqrt(aspect)
        margin = 4.0
        self.cx = rng.uniform(margin + self.base_w / 2, cfg.width - margin - self.base_w / 2)
        self.cy = rng.uniform(margin + self.base_h / 2, cfg.height - margin - self.base_h / 2)
        # motion segments: (start frame, direction, speed)
        self.segments: list[tuple[int, str, float]] = []
        start = 0
        while start < n:
            direction = ["left", "right", "up", "down", "still"][
                int(rng.choice(5, p=[0.25, 0.25, 0.2, 0.2, 0.1]))
            ]
            self.segments.append((start, direction, float(rng.uniform(cfg.min_speed, cfg.max_speed))))
            start += int(rng.integers(15, 36))
        # events (each drawn whether used or not, so one probability does not shift the others)
        use_colour, colour_frame = rng.random() < cfg.p_colour_change, int(rng.integers(n // 4, 3 * n // 4))
        others = [c for c in names if c != self.colour]
        new_colour = others[int(rng.integers(len(others)))]
        use_size, size_frame = rng.random() < cfg.p_size_change, int(rng.integers(n // 5, 3 * n // 5))
        grows = rng.random() < 0.5
        factor = rng.uniform(1.4, 1.7) if grows else rng.uniform(0.55, 0.7)
        if side * factor > 0.45 * min(cfg.width, cfg.height) or side * factor < 10:
            factor = 1.0 / factor
        use_leave, leave_frame = rng.random() < cfg.p_leave, int(rng.integers(int(0.3 * n), int(0.55 * n)))
        away_frames = int(rng.integers(6, 13))
        use_distractor = rng.random() < cfg.p_distractor
        distractor_start = int(rng.integers(0, n // 2))
        distractor_end = min(n, distractor_start + int(rng.integers(25, 55)))
        same_colour = rng.random() < cfg.p_same_colour_distractor
        distractor_colour = self.colour if same_colour else others[int(rng.integers(len(others)))]
        distractor_scale = rng.uniform(0.9, 1.1)
        distractor_speed = rng.uniform(0.8, 1.5) * (1 if rng.random() < 0.5 else -1)
        distractor_y = rng.uniform(0.25, 0.75)

        self.colour_change = (colour_frame, new_colour) if use_colour else None
        self.size_change = (size_frame, 20, float(factor)) if use_size else None
        self.leave = (leave_frame, away_frames) if use_leave else None
        self.distractor = (
            dict(
                start=distractor_start,
                end=distractor_end,
                colour=distractor_colour,
                scale=float(distractor_scale),
                vy=float(distractor_speed),
                y=float(distractor_y),
            )
            if use_distractor
            else None
        )


def _simulate(script: _Script, cfg: WorldConfig) -> tuple[list[WorldObject], list[WorldObject | None], list[dict], list[dict]]:
    """Move the target (and distractor) frame by frame; returns states, events and raw motion."""
    W, H, n = cfg.width, cfg.height, cfg.frames
    margin = 2.0
    target_states: list[WorldObject] = []
    distractor_states: list[WorldObject | None] = []
    motions: list[dict] = []
    events: list[dict] = []
    cx, cy = script.cx, script.cy
    colour_from = colour_to = script.colour
    colour_start = None
    phase, phase_frames, leave_side, leave_speed = "normal", 0, None, 5.0
    seg_index = 0
    vx = vy = 0.0
    distractor_x = None
    distractor_cy = None
    distractor_vy = script.distractor["vy"] if script.distractor else 0.0
    for f in range(n):
        # scale
        scale = 1.0
        if script.size_change:
            start, duration, factor = script.size_change
            scale = 1.0 + (factor - 1.0) * _smoothstep((f - start) / duration)
            if f == start:
                events.append({"frame": f + 1, "kind": "grows" if factor > 1 else "shrinks", "factor": round(factor, 4)})
        w, h = script.base_w * scale, script.base_h * scale
        # colour (blend over 6 frames)
        if script.colour_change and f == script.colour_change[0]:
            colour_from, colour_to, colour_start = script.colour, script.colour_change[1], f
            events.append({"frame": f + 1, "kind": "colour", "from": colour_from, "to": colour_to})
        blend = 0.0 if colour_start is None else min((f - colour_start + 1) / 6.0, 1.0)
        rgb = tuple((1 - blend) * a + blend * b for a, b in zip(PALETTE[colour_from], PALETTE[colour_to]))
        # motion
        while seg_index + 1 < len(script.segments) and script.segments[seg_index + 1][0] <= f:
            seg_index += 1
        if phase == "normal":
            if script.leave and f == script.leave[0]:
                leave_side = "left" if cx < W / 2 else "right"
                phase, phase_frames = "leaving", 0
                # out of view within ~15% of the sequence, whatever its length
                distance = (cx + w / 2) if leave_side == "left" else (W - cx + w / 2)
                leave_speed = min(max(distance / max(0.15 * n, 4.0), 5.0), 12.0)
            else:
                _, direction, speed = script.segments[seg_index]
                if f == 0 or script.segments[seg_index][0] == f:
                    vx, vy = (d * speed for d in _DIRECTIONS[direction])
                # bounce inside the view
                if cx + vx - w / 2 < margin or cx + vx + w / 2 > W - margin:
                    vx = -vx
                if cy + vy - h / 2 < margin or cy + vy + h / 2 > H - margin:
                    vy = -vy
        if phase == "leaving":
            vx, vy = (-leave_speed if leave_side == "left" else leave_speed), 0.0
            if cx + w / 2 < 0 or cx - w / 2 > W:
                phase, phase_frames = "away", 0
                vx = 0.0
        elif phase == "away":
            vx = vy = 0.0
            phase_frames += 1
            if phase_frames >= script.leave[1]:
                phase = "entering"
        if phase == "entering":
            vx, vy = (3.0 if leave_side == "left" else -3.0), 0.0
            if cx - w / 2 >= margin + 6 and cx + w / 2 <= W - margin - 6:
                phase = "normal"
        if f > 0:
            cx, cy = cx + vx, cy + vy
        if phase == "normal":  # keep a grown target inside the view
            cx = min(max(cx, w / 2 + margin), W - w / 2 - margin)
            cy = min(max(cy, h / 2 + margin), H - h / 2 - margin)
        target_states.append(WorldObject(cx, cy, w, h, rgb))
        motions.append({"dx": vx, "dy": vy, "phase": phase, "side": leave_side, "blend": blend,
                        "colour_from": colour_from, "colour_to": colour_to})
        # distractor: same shape, in the other half, moving vertically
        d = script.distractor
        if d and d["start"] <= f < d["end"]:
            dw, dh = script.base_w * d["scale"], script.base_h * d["scale"]
            if distractor_x is None:
                distractor_x = W * 0.78 if cx < W / 2 else W * 0.22
                distractor_cy = d["y"] * H
                events.append({"frame": f + 1, "kind": "distractor_appears", "colour": d["colour"]})
            distractor_cy += distractor_vy
            if distractor_cy - dh / 2 < margin or distractor_cy + dh / 2 > H - margin:
                distractor_vy = -distractor_vy
                distractor_cy = min(max(distractor_cy, dh / 2 + margin), H - dh / 2 - margin)
            distractor_states.append(WorldObject(distractor_x, distractor_cy, dw, dh, tuple(float(c) for c in PALETTE[d["colour"]])))
        else:
            if d and f == d["end"] and distractor_x is not None:
                events.append({"frame": f + 1, "kind": "distractor_disappears"})
            distractor_states.append(None)
    return target_states, distractor_states, motions, events


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def _smooth_upsample(low: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear upsampling in float64 numpy (bit-reproducible, unlike SIMD resizers)."""
    gh, gw = low.shape[:2]
    ys = np.linspace(0, gh - 1, height)
    xs = np.linspace(0, gw - 1, width)
    y0 = np.floor(ys).astype(int).clip(0, gh - 2)
    x0 = np.floor(xs).astype(int).clip(0, gw - 2)
    ty = (ys - y0)[:, None, None]
    tx = (xs - x0)[None, :, None]
    a = low[y0][:, x0]
    b = low[y0][:, x0 + 1]
    c = low[y0 + 1][:, x0]
    d = low[y0 + 1][:, x0 + 1]
    return (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty


def make_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A desaturated, textured background (smooth patches + grain + thin strokes), RGB uint8."""
    import cv2

    low = rng.uniform(60, 175, size=(7, 9, 3))
    grey = low.mean(axis=2, keepdims=True)
    low = grey + 0.3 * (low - grey)
    image = _smooth_upsample(low, width, height)
    # grain in 3x3 cells, levels quantised to multiples of 4: texture for correlation trackers
    # that PNG still compresses to ~45 kB a frame (per-pixel noise would cost ~120 kB)
    grain = rng.normal(0.0, 1.0, size=(height // 3 + 1, width // 3 + 1))
    grain = np.repeat(np.repeat(grain, 3, axis=0), 3, axis=1)[:height, :width]
    image = image + 14.0 * grain[:, :, None]
    canvas = (np.clip(np.rint(image / 4.0) * 4.0, 0, 255)).astype(np.uint8)
    canvas = np.ascontiguousarray(canvas)
    for _ in range(28):
        level = int(rng.integers(40, 200))
        tint = rng.integers(-12, 13, size=3)
        colour = tuple(int(np.clip(level + t, 0, 255)) for t in tint)
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if rng.random() < 0.6:
            p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(canvas, p1, p2, colour, int(rng.integers(1, 3)), cv2.LINE_8)
        else:
            size = rng.integers(6, 28, size=2)
            cv2.rectangle(canvas, p1, (p1[0] + int(size[0]), p1[1] + int(size[1])), colour, 1, cv2.LINE_8)
    return canvas


_SHIFT = 4  # sub-pixel bits for OpenCV's rasteriser (1/16 px)


def _polygon(shape: str, cx: float, cy: float, w: float, h: float) -> np.ndarray:
    if shape == "square":
        pts = [(cx - w / 2, cy - h / 2), (cx + w / 2, cy - h / 2), (cx + w / 2, cy + h / 2), (cx - w / 2, cy + h / 2)]
    elif shape == "triangle":
        pts = [(cx, cy - h / 2), (cx + w / 2, cy + h / 2), (cx - w / 2, cy + h / 2)]
    elif shape == "diamond":
        pts = [(cx, cy - h / 2), (cx + w / 2, cy), (cx, cy + h / 2), (cx - w / 2, cy)]
    elif shape == "circle":
        angles = np.arange(48) * (2 * np.pi / 48)
        pts = list(zip(cx + w / 2 * np.cos(angles), cy + h / 2 * np.sin(angles)))
    else:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    return np.rint(np.array(pts, dtype=np.float64) * (1 << _SHIFT)).astype(np.int32)


def _shade(rgb: Iterable[float], amount: float) -> tuple[int, int, int]:
    """Darker (amount < 1) or, for dark colours, lighter version of a colour."""
    rgb = [float(c) for c in rgb]
    if sum(rgb) / 3 < 70:
        return tuple(int(round(c + (255 - c) * (1 - amount) * 0.8)) for c in rgb)
    return tuple(int(round(c * amount)) for c in rgb)


def draw_object(canvas: np.ndarray, shape: str, obj: WorldObject) -> None:
    """Draw a target-like object in place: filled shape, outline, inner pattern (for features)."""
    import cv2

    fill = tuple(int(round(c)) for c in obj.rgb)
    outer = _polygon(shape, obj.cx, obj.cy, obj.w, obj.h)
    cv2.fillPoly(canvas, [outer], fill, cv2.LINE_AA, _SHIFT)
    cv2.polylines(canvas, [outer], True, _shade(obj.rgb, 0.45), 2, cv2.LINE_AA, _SHIFT)
    inner = _polygon(shape, obj.cx, obj.cy, obj.w * 0.5, obj.h * 0.5)
    cv2.fillPoly(canvas, [inner], _shade(obj.rgb, 0.7), cv2.LINE_AA, _SHIFT)
    dot = _polygon(shape, obj.cx, obj.cy, obj.w * 0.18, obj.h * 0.18)
    cv2.fillPoly(canvas, [dot], fill, cv2.LINE_AA, _SHIFT)


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


def _nearest_colour(rgb: Iterable[float]) -> str:
    rgb = np.asarray(list(rgb), dtype=np.float64)
    return min(PALETTE, key=lambda name: float(np.sum((np.asarray(PALETTE[name]) - rgb) ** 2)))


def generate_sequence(
    seed: int = 0,
    index: int = 0,
    split: str = "test",
    config: WorldConfig | None = None,
    render: bool = True,
    name: str | None = None,
) -> SyntheticSequence:
    """Generate one sequence in memory (deterministic in ``seed``, ``split`` and ``index``).

    With ``render=False`` only the annotations and facts are produced (fast, for unit tests of
    code that needs the truth but no pixels).
    """
    cfg = (config or WorldConfig()).validate()
    rng, entropy = _rng_for(seed, split, index)
    background = make_background(rng, cfg.width, cfg.height)
    script = _Script(rng, cfg)
    targets, distractors, motions, events = _simulate(script, cfg)
    W, H = cfg.width, cfg.height
    boxes = np.zeros((cfg.frames, 4), dtype=np.float64)
    absent = np.zeros(cfg.frames, dtype=bool)
    facts: list[dict] = []
    frames: list[np.ndarray] = []
    for f, (obj, distractor, motion) in enumerate(zip(targets, distractors, motions)):
        box, fraction = _visible_box(obj, W, H)
        is_absent = fraction < ABSENT_VISIBLE_FRACTION
        absent[f] = is_absent
        boxes[f] = 0.0 if is_absent else box
        colour = motion["colour_from"] if motion["blend"] < 0.5 else motion["colour_to"]
        if is_absent:
            horizontal = vertical = phrase = None
        else:
            horizontal, vertical = position_words(box[0] + box[2] / 2, box[1] + box[3] / 2, W, H)
            phrase = position_phrase(horizontal, vertical)
        move = motion_word(motion["dx"], motion["dy"])
        facts.append(
            {
                "frame": f + 1,
                "visible": not is_absent,
                "visible_fraction": round(float(fraction), 4),
                "colour": colour,
                "colour_changing": 0.0 < motion["blend"] < 1.0,
                "shape": script.shape,
                "size": size_word(obj.w, obj.h, W, H),
                "size_px": [round(obj.w, 3), round(obj.h, 3)],
                "horizontal": horizontal,
                "vertical": vertical,
                "position": phrase,
                "motion": move,
                "distractor": distractor is not None,
                "distractor_colour": _nearest_colour(distractor.rgb) if distractor is not None else None,
                "distractor_box": (
                    [round(distractor.cx - distractor.w / 2, 3), round(distractor.cy - distractor.h / 2, 3),
                     round(distractor.w, 3), round(distractor.h, 3)]
                    if distractor is not None else None
                ),
                "description": describe(colour, script.shape, phrase, move) if not is_absent else None,
            }
        )
        if render:
            canvas = background.copy()
            if distractor is not None:
                draw_object(canvas, script.shape, distractor)
            draw_object(canvas, script.shape, obj)
            frames.append(canvas)
    for f in range(1, cfg.frames):  # leaving / re-entering the view, from the absent flags
        if absent[f] != absent[f - 1]:
            kind = "leaves" if absent[f] else "enters"
            events.append({"frame": f + 1, "kind": kind, "side": motions[f]["side"]})
    events.sort(key=lambda e: e["frame"])
    first = facts[0]
    description = describe(first["colour"], script.shape, first["position"], first["motion"])
    attributes = {
        "CC": script.colour_change is not None,
        "SV": script.size_change is not None,
        "OV": bool(absent.any()),
        "DIS": any(f["distractor"] for f in facts),
    }
    return SyntheticSequence(
        name=name or f"synth-{split}-{index:04d}",
        frames=frames,
        ground_truth=boxes,
        absent=absent,
        facts=facts,
        events=events,
        description=description,
        attributes=attributes,
        shape=script.shape,
        width=W,
        height=H,
        seed=entropy,
    )


def write_sequence(seq: SyntheticSequence, folder: str | os.PathLike) -> Path:
    """Write a rendered sequence in the TNLLT layout. The files go to a temporary sibling folder
    that is renamed into place at the end, so ``folder`` exists only when complete."""
    import cv2

    from ..boxfiles import write_boxes

    folder = Path(folder)
    if not seq.frames:
        raise DatasetError(f"{seq.name}: generated with render=False, nothing to write")
    tmp = folder.with_name(f".{folder.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "imgs").mkdir(parents=True)
    params = [cv2.IMWRITE_PNG_COMPRESSION, 1]
    for i, frame in enumerate(seq.frames, start=1):
        if not cv2.imwrite(str(tmp / "imgs" / f"{i:05d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params):
            raise DatasetError(f"cannot write {tmp / 'imgs' / f'{i:05d}.png'}")
    write_boxes(tmp / "groundtruth.txt", seq.ground_truth)
    (tmp / "absent_label.txt").write_text("".join("0\n" if a else "1\n" for a in seq.absent))
    # TNLLT's form: one comma-separated row of 0/1 flags, in the order of ATTRIBUTES
    (tmp / "attributes.txt").write_text(",".join("1" if seq.attributes[code] else "0" for code in ATTRIBUTES) + "\n")
    (tmp / "language.txt").write_text(seq.description + "\n")
    meta = {
        "format": FORMAT_VERSION,
        "name": seq.name,
        "seed": seq.seed,
        "width": seq.width,
        "height": seq.height,
        "shape": seq.shape,
        "description": seq.description,
        "attributes": seq.attributes,
        "events": seq.events,
        "facts": seq.facts,
    }
    (tmp / "events.json").write_text(json.dumps(meta, indent=1) + "\n")
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return folder


def write_dataset(
    out: str | os.PathLike,
    sequences: int = 10,
    seed: int = 0,
    config: WorldConfig | None = None,
    splits: Iterable[str] = ("train", "test"),
    progress: Callable[[int, int, str], None] | None = None,
) -> Path:
    """Write a synthetic dataset (``sequences`` per split) under ``out``; resumable.

    Complete sequences already on disk are kept when ``out/synthetic.json`` records the same
    parameters; different parameters raise (choose another folder or delete it). ``progress``
    is called as ``progress(done, total, name)``.
    """
    from ..fileio import atomic_write_text

    cfg = (config or WorldConfig()).validate()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    splits = tuple(splits)
    manifest = {"format": FORMAT_VERSION, "seed": int(seed), "sequences": int(sequences), "splits": list(splits),
                "config": cfg.to_dict(), "attributes": ATTRIBUTES}
    manifest_path = out / "synthetic.json"
    if manifest_path.exists():
        try:
            existing = json.loads(manifest_path.read_text())
        except json.JSONDecodeError as err:
            raise DatasetError(f"{manifest_path}: not valid JSON ({err})") from None
        if existing != json.loads(json.dumps(manifest)):
            raise DatasetError(
                f"{out} already holds a synthetic dataset with other parameters ({manifest_path}); "
                "use another --out folder or delete it"
            )
    else:
        atomic_write_text(manifest_path, json.dumps(manifest, indent=1) + "\n")
    total, done = sequences * len(splits), 0
    for split in splits:
        names = []
        for index in range(sequences):
            name = f"synth-{split}-{index:04d}"
            names.append(name)
            folder = out / split / name
            if not (folder / "events.json").is_file():
                write_sequence(generate_sequence(seed, index, split, cfg, name=name), folder)
            done += 1
            if progress:
                progress(done, total, name)
        atomic_write_text(out / f"{split}.txt", "\n".join(names) + "\n")
    return out


# ---------------------------------------------------------------------------------------------
# Loader
# ---------------------------------------------------------------------------------------------


class SyntheticDataset(TNLLT):
    """A dataset written by :func:`write_dataset` / ``reasoningtrack data synth`` (TNLLT layout).

    Adds :meth:`facts` (the per-frame truth from ``events.json``) and fills every attribute code
    of :data:`ATTRIBUTES` (False where ``attributes.txt`` does not list it).
    """

    name = "synthetic"
    attribute_names = tuple(ATTRIBUTES)
    split_lists = None  # its own train.txt / test.txt under the root

    def __init__(self, root, split: str = "test", attribute_names=None):
        super().__init__(root, split, attribute_names)
        self._check_complete()

    def _check_complete(self) -> None:
        """An interrupted ``data synth`` leaves ``synthetic.json`` but not every sequence (and no
        ``<split>.txt``): say so, and how to finish it, instead of reading the folders as data."""
        manifest_path = self.root / "synthetic.json"
        if not manifest_path.is_file():
            return
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            expected, written_splits = int(manifest["sequences"]), list(manifest["splits"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise DatasetError(f"{manifest_path}: not a synthetic-world manifest ({err})") from None
        asked = written_splits if self.split == "all" else [self.split]
        for split in asked:
            if split not in written_splits:
                continue  # never written: the usual "no such split" errors apply
            done = sum((self.root / split / f"synth-{split}-{i:04d}" / "events.json").is_file() for i in range(expected))
            if done < expected or not (self.root / f"{split}.txt").is_file():
                cfg = manifest.get("config", {})
                rerun = (f"reasoningtrack data synth --output {self.root} --count {expected} --seed {manifest.get('seed', 0)} "
                         f"--frames {cfg.get('frames', '?')} --size {cfg.get('width', '?')}x{cfg.get('height', '?')} "
                         f"--splits {','.join(written_splits)}")
                raise DatasetError(
                    f"{self.root}: incomplete synthetic dataset: split {split!r} has {done} of {expected} sequences "
                    f"(an interrupted `data synth`?); finish it by running the same command again: {rerun}")

    def load(self, name: str) -> Sequence:
        seq = super().load(name)
        seq.dataset = self.name
        unknown = set(seq.attributes) - set(ATTRIBUTES)
        if unknown:
            raise DatasetError(
                f"{self._folder(name) / 'attributes.txt'}: unknown attribute codes {sorted(unknown)}; "
                f"known: {', '.join(ATTRIBUTES)}"
            )
        seq.attributes = {code: bool(seq.attributes.get(code, False)) for code in ATTRIBUTES}
        return seq

    def facts(self, name: str) -> dict:
        """The contents of ``events.json``: per-frame facts, events, shape, seed."""
        path = self._folder(name) / "events.json"
        if not path.is_file():
            raise DatasetError(f"missing events.json: {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise DatasetError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
        for key in ("facts", "events"):
            if key not in data:
                raise DatasetError(f"{path}: no {key!r} entry")
        return data
