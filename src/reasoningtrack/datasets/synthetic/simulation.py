"""How a synthetic sequence unfolds: its random choices (drawn up front, in a fixed order, from a
generator seeded by ``(seed, split, index)``) and the frame-by-frame motion of the target and the
distractor."""

from __future__ import annotations

import math

import numpy as np

from .world import PALETTE, SHAPES, FrameMotion, WorldConfig, WorldObject

__all__ = ["Script", "simulate", "rng_for", "visible_box"]

_DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0), "still": (0.0, 0.0)}


def rng_for(seed: int, split: str, index: int) -> tuple[np.random.Generator, list[int]]:
    split_code = {"train": 0, "test": 1}.get(split, 2)
    entropy = [int(seed), split_code, int(index)]
    return np.random.default_rng(np.random.SeedSequence(entropy)), entropy


def _smoothstep(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


def visible_box(obj: WorldObject, width: int, height: int) -> tuple[np.ndarray, float]:
    x1, y1, x2, y2 = obj.cx - obj.w / 2, obj.cy - obj.h / 2, obj.cx + obj.w / 2, obj.cy + obj.h / 2
    cx1, cy1, cx2, cy2 = max(x1, 0.0), max(y1, 0.0), min(x2, float(width)), min(y2, float(height))
    if cx2 <= cx1 or cy2 <= cy1:
        return np.zeros(4), 0.0
    fraction = (cx2 - cx1) * (cy2 - cy1) / (obj.w * obj.h)
    return np.array([cx1, cy1, cx2 - cx1, cy2 - cy1]), fraction


class Script:
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


def simulate(script: Script, cfg: WorldConfig) -> tuple[list[WorldObject], list[WorldObject | None], list[FrameMotion], list[dict]]:
    """Move the target (and distractor) frame by frame; returns states, per-frame motion and events."""
    events: list[dict] = []
    target = _Target(script, cfg, events)
    distractor = _Distractor(script, cfg, events)
    target_states: list[WorldObject] = []
    distractor_states: list[WorldObject | None] = []
    motions: list[FrameMotion] = []
    for f in range(cfg.frames):
        state, motion = target.step(f)
        target_states.append(state)
        motions.append(motion)
        distractor_states.append(distractor.step(f, state.cx))
    return target_states, distractor_states, motions, events


class _Target:
    """The target's size, colour and position, one frame at a time: scripted motion segments that
    bounce inside the view, a smooth size change, a 6-frame colour blend, and leaving the view
    (``leaving`` -> ``away`` -> ``entering`` -> ``normal``)."""

    margin = 2.0

    def __init__(self, script: Script, cfg: WorldConfig, events: list[dict]):
        self.script, self.cfg, self.events = script, cfg, events
        self.cx, self.cy = script.cx, script.cy
        self.colour_from = self.colour_to = script.colour
        self.colour_start: int | None = None
        self.phase, self.phase_frames, self.leave_side, self.leave_speed = "normal", 0, None, 5.0
        self.seg_index = 0
        self.vx = self.vy = 0.0

    def step(self, f: int) -> tuple[WorldObject, FrameMotion]:
        w, h = self._size(f)
        blend, rgb = self._colour(f)
        self._advance_segment(f)
        self._choose_velocity(f, w, h)
        self._move(f, w, h)
        motion = FrameMotion(self.vx, self.vy, self.phase, self.leave_side, blend, self.colour_from, self.colour_to)
        return WorldObject(self.cx, self.cy, w, h, rgb), motion

    def _size(self, f: int) -> tuple[float, float]:
        script, scale = self.script, 1.0
        if script.size_change:
            start, duration, factor = script.size_change
            scale = 1.0 + (factor - 1.0) * _smoothstep((f - start) / duration)
            if f == start:
                self.events.append({"frame": f + 1, "kind": "grows" if factor > 1 else "shrinks", "factor": round(factor, 4)})
        return script.base_w * scale, script.base_h * scale

    def _colour(self, f: int) -> tuple[float, tuple[float, float, float]]:
        """The colour blends over 6 frames from the old to the new palette colour."""
        script = self.script
        if script.colour_change and f == script.colour_change[0]:
            self.colour_from, self.colour_to, self.colour_start = script.colour, script.colour_change[1], f
            self.events.append({"frame": f + 1, "kind": "colour", "from": self.colour_from, "to": self.colour_to})
        blend = 0.0 if self.colour_start is None else min((f - self.colour_start + 1) / 6.0, 1.0)
        rgb = tuple((1 - blend) * a + blend * b for a, b in zip(PALETTE[self.colour_from], PALETTE[self.colour_to]))
        return blend, rgb

    def _advance_segment(self, f: int) -> None:
        segments = self.script.segments
        while self.seg_index + 1 < len(segments) and segments[self.seg_index + 1][0] <= f:
            self.seg_index += 1

    def _choose_velocity(self, f: int, w: float, h: float) -> None:
        script, W, H, n, margin = self.script, self.cfg.width, self.cfg.height, self.cfg.frames, self.margin
        if self.phase == "normal":
            if script.leave and f == script.leave[0]:
                self.leave_side = "left" if self.cx < W / 2 else "right"
                self.phase, self.phase_frames = "leaving", 0
                # out of view within ~15% of the sequence, whatever its length
                distance = (self.cx + w / 2) if self.leave_side == "left" else (W - self.cx + w / 2)
                self.leave_speed = min(max(distance / max(0.15 * n, 4.0), 5.0), 12.0)
            else:
                start, direction, speed = script.segments[self.seg_index]
                if f == 0 or start == f:
                    self.vx, self.vy = (d * speed for d in _DIRECTIONS[direction])
                # bounce inside the view
                if self.cx + self.vx - w / 2 < margin or self.cx + self.vx + w / 2 > W - margin:
                    self.vx = -self.vx
                if self.cy + self.vy - h / 2 < margin or self.cy + self.vy + h / 2 > H - margin:
                    self.vy = -self.vy
        if self.phase == "leaving":
            self.vx, self.vy = (-self.leave_speed if self.leave_side == "left" else self.leave_speed), 0.0
            if self.cx + w / 2 < 0 or self.cx - w / 2 > W:
                self.phase, self.phase_frames = "away", 0
                self.vx = 0.0
        elif self.phase == "away":
            self.vx = self.vy = 0.0
            self.phase_frames += 1
            if self.phase_frames >= script.leave[1]:
                self.phase = "entering"
        if self.phase == "entering":
            self.vx, self.vy = (3.0 if self.leave_side == "left" else -3.0), 0.0
            if self.cx - w / 2 >= margin + 6 and self.cx + w / 2 <= W - margin - 6:
                self.phase = "normal"

    def _move(self, f: int, w: float, h: float) -> None:
        margin, W, H = self.margin, self.cfg.width, self.cfg.height
        if f > 0:
            self.cx, self.cy = self.cx + self.vx, self.cy + self.vy
        if self.phase == "normal":  # keep a grown target inside the view
            self.cx = min(max(self.cx, w / 2 + margin), W - w / 2 - margin)
            self.cy = min(max(self.cy, h / 2 + margin), H - h / 2 - margin)


class _Distractor:
    """A look-alike (same shape) in the other half of the view, moving vertically, during the
    scripted frames."""

    margin = 2.0

    def __init__(self, script: Script, cfg: WorldConfig, events: list[dict]):
        self.script, self.cfg, self.events = script, cfg, events
        self.x: float | None = None
        self.cy: float | None = None
        self.vy = script.distractor["vy"] if script.distractor else 0.0

    def step(self, f: int, target_cx: float) -> WorldObject | None:
        d, W, H, margin = self.script.distractor, self.cfg.width, self.cfg.height, self.margin
        if d and d["start"] <= f < d["end"]:
            dw, dh = self.script.base_w * d["scale"], self.script.base_h * d["scale"]
            if self.x is None:
                self.x = W * 0.78 if target_cx < W / 2 else W * 0.22
                self.cy = d["y"] * H
                self.events.append({"frame": f + 1, "kind": "distractor_appears", "colour": d["colour"]})
            self.cy += self.vy
            if self.cy - dh / 2 < margin or self.cy + dh / 2 > H - margin:
                self.vy = -self.vy
                self.cy = min(max(self.cy, dh / 2 + margin), H - dh / 2 - margin)
            return WorldObject(self.x, self.cy, dw, dh, tuple(float(c) for c in PALETTE[d["colour"]]))
        if d and f == d["end"] and self.x is not None:
            self.events.append({"frame": f + 1, "kind": "distractor_disappears"})
        return None
