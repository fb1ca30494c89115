"""Frames to PIL images within pixel bounds and to data URLs."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from reasoningtrack.reasoning.images import fit_pixels, to_data_url, to_pil


def test_to_pil_accepts_arrays_images_and_paths(tmp_path):
    array = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    pil = to_pil(array)
    assert pil.size == (30, 20) and np.array_equal(np.asarray(pil), array)
    assert to_pil(pil) is pil
    assert to_pil(Image.fromarray(array).convert("L")).mode == "RGB"
    path = tmp_path / "a.png"
    Image.fromarray(array).save(path)
    assert np.array_equal(np.asarray(to_pil(path)), array)
    assert to_pil(array[:, :, 0]).mode == "RGB"
    with pytest.raises(ValueError, match="uint8"):
        to_pil(array.astype(np.float32))
    with pytest.raises(ValueError, match="HxWx3"):
        to_pil(np.zeros((2, 2, 2), np.uint8))


def test_fit_pixels_keeps_aspect_within_bounds():
    image = Image.new("RGB", (640, 360))
    small = fit_pixels(image, max_pixels=224 * 224)
    assert small.size[0] * small.size[1] <= 224 * 224
    assert abs(small.size[0] / small.size[1] - 640 / 360) < 0.02
    large = fit_pixels(Image.new("RGB", (32, 18)), min_pixels=56 * 56)
    assert large.size[0] * large.size[1] >= 56 * 56
    assert fit_pixels(image, 1, 10**7) is image


def test_data_url_round_trip(sample_pair):
    template, _, _ = sample_pair
    url = to_data_url(template, max_pixels=100 * 100)
    assert url.startswith("data:image/jpeg;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert decoded.size[0] * decoded.size[1] <= 100 * 100
    png = to_data_url(template[:8, :8], fmt="PNG")
    assert png.startswith("data:image/png;base64,")
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1])))), template[:8, :8])
