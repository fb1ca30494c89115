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
    """Move the target (and distractor) frame by frame; returns states, events and raw motion."""
    W, H, n = cfg.width, cfg.height, cfg.frames
    margin = 2.0
    target_states: list[WorldObject] = []
    distractor_states: list[WorldObject | None] = []
    motions: list[FrameMotion] = []
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
        motions.append(FrameMotion(vx, vy, phase, leave_side, blend, colour_from, colour_to))
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
