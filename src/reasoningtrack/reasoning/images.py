"""Frames to what a VLM takes: PIL images within a pixel budget, and base64 data URLs for HTTP."""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["to_pil", "fit_pixels", "to_data_url"]


def to_pil(image) -> Image.Image:
    """An HxWx3 uint8 RGB array, a PIL image or an image file path, as an RGB PIL image."""
    if isinstance(image, Image.Image):
        return image.convert("RGB") if image.mode != "RGB" else image
    if isinstance(image, (str, Path)):
        with Image.open(image) as opened:
            return opened.convert("RGB")
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxWx3 RGB image, got an array of shape {array.shape}")
    if array.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {array.dtype}")
    return Image.fromarray(np.ascontiguousarray(array[:, :, :3]), "RGB")


def fit_pixels(image: Image.Image, min_pixels: int | None = None, max_pixels: int | None = None) -> Image.Image:
    """Scale (keeping the aspect ratio) so that width*height lies within [min_pixels, max_pixels]."""
    width, height = image.size
    area = width * height
    scale = 1.0
    if max_pixels is not None and area > max_pixels:
        scale = math.sqrt(max_pixels / area)
    elif min_pixels is not None and area < min_pixels:
        scale = math.sqrt(min_pixels / area)
    if scale == 1.0:
        return image
    size = (max(1, int(width * scale)), max(1, int(height * scale)))
    if min_pixels is not None and scale > 1.0 and size[0] * size[1] < min_pixels:
        size = (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale)))
    return image.resize(size, Image.Resampling.BICUBIC)


def to_data_url(image, *, fmt: str = "JPEG", quality: int = 90, min_pixels=None, max_pixels=None) -> str:
    """A ``data:image/...;base64,`` URL (JPEG by default: frames are photos, PNG is 5-10x larger)."""
    pil = fit_pixels(to_pil(image), min_pixels, max_pixels)
    buffer = io.BytesIO()
    fmt = fmt.upper()
    if fmt == "JPEG":
        pil.save(buffer, format="JPEG", quality=quality)
    else:
        pil.save(buffer, format=fmt)
    mime = "jpeg" if fmt == "JPEG" else fmt.lower()
    return f"data:image/{mime};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
