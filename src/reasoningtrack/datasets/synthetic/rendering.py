"""Drawing the synthetic world: a textured, desaturated background and the target-like objects,
bit-reproducible (float64 numpy and OpenCV's integer rasteriser)."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .world import SHAPES, WorldObject

__all__ = ["make_background", "draw_object"]


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
