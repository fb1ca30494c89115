"""Boxes as numpy arrays, vectorised over frames.

A box is ``(x, y, w, h)`` in pixels with ``(x, y)`` the top-left corner, the convention of every
benchmark's ground truth and result files. Arrays of boxes are ``(N, 4)`` float64. The formulas
are the continuous ones; the MATLAB toolkits' ``+1``/``-1`` pixel arithmetic is algebraically
identical (see ``evaluation``), so one implementation serves all protocols.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_boxes",
    "xywh_to_xyxy",
    "xyxy_to_xywh",
    "xywh_to_cxcywh",
    "cxcywh_to_xywh",
    "centers",
    "iou",
    "center_error",
    "normalized_center_error",
    "clip_boxes",
    "area",
]


def as_boxes(boxes) -> np.ndarray:
    """Return ``boxes`` as a float64 ``(N, 4)`` array (a single box becomes ``(1, 4)``)."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"expected boxes of shape (N, 4) or (4,), got {arr.shape}")
    return arr


def xywh_to_xyxy(boxes) -> np.ndarray:
    b = as_boxes(boxes)
    return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], axis=1)


def xyxy_to_xywh(boxes) -> np.ndarray:
    b = as_boxes(boxes)
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)


def xywh_to_cxcywh(boxes) -> np.ndarray:
    b = as_boxes(boxes)
    return np.concatenate([b[:, :2] + b[:, 2:] / 2.0, b[:, 2:]], axis=1)


def cxcywh_to_xywh(boxes) -> np.ndarray:
    b = as_boxes(boxes)
    return np.concatenate([b[:, :2] - b[:, 2:] / 2.0, b[:, 2:]], axis=1)


def centers(boxes) -> np.ndarray:
    """Box centres ``(N, 2)``; ``x + w/2`` equals the toolkits' ``x + (w-1)/2`` in differences."""
    b = as_boxes(boxes)
    return b[:, :2] + b[:, 2:] / 2.0


def area(boxes) -> np.ndarray:
    b = as_boxes(boxes)
    return b[:, 2] * b[:, 3]


def iou(a, b) -> np.ndarray:
    """Frame-wise IoU of two ``(N, 4)`` xywh arrays (no clipping; empty union gives 0)."""
    a = as_boxes(a)
    b = as_boxes(b)
    if a.shape != b.shape:
        raise ValueError(f"box arrays differ in shape: {a.shape} vs {b.shape}")
    left = np.maximum(a[:, 0], b[:, 0])
    top = np.maximum(a[:, 1], b[:, 1])
    right = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    bottom = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return out


def center_error(a, b) -> np.ndarray:
    """Euclidean distance between box centres, in pixels."""
    d = centers(a) - centers(b)
    return np.sqrt((d**2).sum(axis=1))


def normalized_center_error(pred, gt) -> np.ndarray:
    """Centre distance with each axis divided by the ground-truth size (LaSOT's NPR error)."""
    p = as_boxes(pred)
    g = as_boxes(gt)
    d = centers(p) - centers(g)
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = d[:, 0] / g[:, 2]
        dy = d[:, 1] / g[:, 3]
    return np.sqrt(dx**2 + dy**2)


def clip_boxes(boxes, width: float, height: float) -> np.ndarray:
    """Clip xywh boxes to a ``width`` x ``height`` image; a box fully outside gets zero size."""
    b = xywh_to_xyxy(boxes)
    x1 = np.clip(b[:, 0], 0, width)
    y1 = np.clip(b[:, 1], 0, height)
    x2 = np.clip(b[:, 2], 0, width)
    y2 = np.clip(b[:, 3], 0, height)
    return np.stack([x1, y1, np.maximum(x2 - x1, 0), np.maximum(y2 - y1, 0)], axis=1)
