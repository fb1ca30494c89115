"""Test-time geometry of DUTrack: square crops around the target, normalisation, and the way a
box predicted in the search crop goes back to the image.

Three accidents of the official code are reproduced by default because a checkpoint was evaluated
with them (each has a switch in :class:`~.config.DUTrackTrackerConfig`):

* the crop corner is rounded with Python's ``round`` (half to even);
* a crop that reaches or passes the right/bottom image edge loses the last image column/row (its
  padding is one pixel larger than needed, the copied part one pixel shorter);
* the normalised box is scaled to pixels in float32.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["CropGeometry", "crop_square", "normalise", "box_to_pixels", "map_box_back", "clip_box"]


@dataclass(frozen=True)
class CropGeometry:
    """Where a crop came from: its side in image pixels, top-left corner, and output/side."""

    side: int
    x1: int
    y1: int
    resize_factor: float


def _round_corner(value: float, official: bool) -> int:
    return round(value) if official else math.floor(value + 0.5)


def crop_square(
    frame: np.ndarray, box, factor: float, output_size: int, *,
    official_rounding: bool = True, official_border: bool = True,
) -> tuple[np.ndarray, CropGeometry]:
    """Square crop of side ceil(sqrt(w*h)*factor) centred on ``box`` (x, y, w, h), zero-padded
    outside the image, resized (bilinear, uint8) to ``output_size``."""
    import cv2

    x, y, w, h = (float(v) for v in box)
    if not (w > 0 and h > 0) or not all(math.isfinite(v) for v in (x, y, w, h)):
        raise ValueError(f"cannot crop around box {list(box)}: width and height must be positive and finite")
    side = math.ceil(math.sqrt(w * h) * factor)
    x1 = _round_corner(x + 0.5 * w - side * 0.5, official_rounding)
    y1 = _round_corner(y + 0.5 * h - side * 0.5, official_rounding)
    x2, y2 = x1 + side, y1 + side
    height, width = frame.shape[:2]
    edge = 1 if official_border else 0
    # Image part kept: [x1, x2) clipped to the image; the official rule drops the last column/row
    # whenever the crop reaches the right/bottom edge.
    src_x1, src_y1 = max(x1, 0), max(y1, 0)
    src_x2 = x2 if x2 - width + edge <= 0 else width - edge
    src_y2 = y2 if y2 - height + edge <= 0 else height - edge
    canvas = np.zeros((side, side, frame.shape[2]), dtype=frame.dtype)
    if src_x2 > src_x1 and src_y2 > src_y1:
        canvas[src_y1 - y1: src_y2 - y1, src_x1 - x1: src_x2 - x1] = frame[src_y1:src_y2, src_x1:src_x2]
    crop = cv2.resize(canvas, (output_size, output_size))
    return crop, CropGeometry(side=side, x1=x1, y1=y1, resize_factor=output_size / side)


def normalise(crop: np.ndarray, mean, std) -> torch.Tensor:
    """HxWx3 uint8 RGB -> [1,3,H,W] float32, (value/255 - mean)/std in float32 as the official code."""
    image = torch.from_numpy(np.ascontiguousarray(crop)).float().permute(2, 0, 1)[None]
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (image / 255.0 - mean_t) / std_t


def box_to_pixels(box: torch.Tensor, search_size: int, resize_factor: float, float32: bool = True) -> list[float]:
    """(cx, cy, w, h) in [0,1] of the search crop -> pixels of the crop at image scale."""
    if float32:
        return (box.float() * search_size / resize_factor).tolist()
    return [float(v) * search_size / resize_factor for v in box.double().tolist()]


def map_box_back(pred: list[float], previous_state, search_size: int, resize_factor: float) -> list[float]:
    """Crop-relative (cx, cy, w, h) -> image (x, y, w, h): the crop is centred on the previous box."""
    px, py, pw, ph = (float(v) for v in previous_state)
    prev_cx, prev_cy = px + 0.5 * pw, py + 0.5 * ph
    cx, cy, w, h = pred
    half_side = 0.5 * search_size / resize_factor
    cx_image = cx + (prev_cx - half_side)
    cy_image = cy + (prev_cy - half_side)
    return [cx_image - 0.5 * w, cy_image - 0.5 * h, w, h]


def clip_box(box: list[float], height: int, width: int, margin: float) -> list[float]:
    """Keep at least ``margin`` pixels of the box inside the image, and the box at least margin wide."""
    x1, y1, w, h = box
    x2, y2 = x1 + w, y1 + h
    x1 = min(max(0, x1), width - margin)
    x2 = min(max(margin, x2), width)
    y1 = min(max(0, y1), height - margin)
    y2 = min(max(margin, y2), height)
    return [x1, y1, max(margin, x2 - x1), max(margin, y2 - y1)]
