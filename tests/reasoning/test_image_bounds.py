"""The reasoners' default image bounds are the release's (244x244..512x512 pixels per image)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from reasoningtrack.config import ConfigError
from reasoningtrack.reasoning.generation import RELEASE_MAX_PIXELS, RELEASE_MIN_PIXELS
from reasoningtrack.reasoning.openai_compat import OpenAIConfig
from reasoningtrack.reasoning.qwen import QwenConfig, QwenReasoner


def test_defaults_are_the_release_bounds():
    assert (RELEASE_MIN_PIXELS, RELEASE_MAX_PIXELS) == (59536, 262144)  # GRPO config.yaml data.min/max_pixels
    for cls in (QwenConfig, OpenAIConfig):
        cfg = cls.from_dict({})
        assert (cfg.min_pixels, cfg.max_pixels) == (59536, 262144)
    # a smaller cap lowers the default minimum with it; an explicit contradiction is still an error
    assert QwenConfig.from_dict({"max_pixels": 56 * 56}).min_pixels == 56 * 56
    assert QwenConfig.from_dict({"min_pixels": None}).min_pixels is None
    with pytest.raises(ConfigError, match="min_pixels"):
        QwenConfig.from_dict({"min_pixels": 70000, "max_pixels": 60000})


def _resized(image: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))


def test_call_pays_the_release_image_tokens(tiny_qwen_dir, sample_pair, monkeypatch):
    """Image tokens of a real call equal Qwen2.5-VL's resize rule under the release's bounds: a
    small frame is enlarged to at least 244², a 1280x720 frame reduced to at most 512²."""
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    template, current, description = sample_pair
    reasoner = QwenReasoner(QwenConfig(model=str(tiny_qwen_dir), max_new_tokens=1))
    ip = reasoner.processor.image_processor
    factor = ip.patch_size * ip.merge_size

    def image_tokens(height: int, width: int) -> int:
        h, w = smart_resize(height, width, factor=factor, min_pixels=RELEASE_MIN_PIXELS, max_pixels=RELEASE_MAX_PIXELS)
        assert RELEASE_MIN_PIXELS <= h * w <= RELEASE_MAX_PIXELS
        return (h // factor) * (w // factor)

    prompts = {}
    for width, height in ((96, 64), (640, 360), (1280, 720)):
        reasoner.reason(_resized(template, width, height), _resized(current, width, height), description)
        prompts[(width, height)] = reasoner.last_prompt_tokens
    reasoner.close()
    text = prompts[(640, 360)] - 2 * image_tokens(360, 640)
    for (width, height), tokens in prompts.items():
        assert tokens == text + 2 * image_tokens(height, width), (width, height)
    assert prompts[(96, 64)] > text + 2 * (96 * 64) // factor**2  # enlarged, not the frame's own size
