"""Options every model-backed reasoner shares: the prompt, decoding, answer budget, image bounds.

The in-process (``qwen``) and HTTP (``openai``) reasoners subclass :class:`GenerationConfig`, so
one YAML block means the same thing to both backends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..config import Config, ConfigError
from .prompts import DEFAULT_PROMPT

__all__ = ["GenerationConfig", "RELEASE_MIN_PIXELS", "RELEASE_MAX_PIXELS"]

#: The release's image bounds (Reinforcement Learning/examples/config.yaml, ``data.min_pixels`` /
#: ``data.max_pixels``): every image the model was trained on had 244x244 to 512x512 pixels, so a
#: call costs what the paper's did (each 512x512 image is 324 vision tokens after the 2x2 merge).
RELEASE_MIN_PIXELS = 244 * 244
RELEASE_MAX_PIXELS = 512 * 512


@dataclass(frozen=True)
class GenerationConfig(Config):
    prompt: str = DEFAULT_PROMPT
    """Built-in preset name (``reasoningtrack``, ``release``) or a prompt YAML file."""
    max_new_tokens: int = 512
    """Upper bound on generated tokens (sent as ``max_tokens`` to servers, which may otherwise
    generate thousands)."""
    temperature: float = 0.0
    """0 = greedy decoding; above 0 samples with this temperature and ``top_p``."""
    top_p: float = 1.0
    seed: int | None = None
    """Seed for sampling (ignored when greedy)."""
    max_words: int | None = None
    """Answer budget: fills the prompt's ``{max_words}`` and cuts longer answers (None: the preset's)."""
    strict: bool = False
    """Use only strict-format outputs (lenient parser only; see the parser's rules)."""
    parser: Literal["release", "lenient"] = "release"
    """How an output becomes a decision: ``release`` (the release's regexes and rule, default) or
    ``lenient`` (ours: tolerant tag reading, answer cleaning, ``max_words`` cut)."""
    min_pixels: int | None = RELEASE_MIN_PIXELS
    """Lower bound on width*height per image: the release's 244x244 (GRPO ``config.yaml``
    ``min_pixels: 59536``); lowered to ``max_pixels`` when that is smaller; None: the
    processor's or the server's own."""
    max_pixels: int | None = RELEASE_MAX_PIXELS
    """Upper bound on width*height per image: the release's 512x512 (``max_pixels: 262144``)."""

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.min_pixels == RELEASE_MIN_PIXELS and self.max_pixels and self.max_pixels < RELEASE_MIN_PIXELS:
            object.__setattr__(self, "min_pixels", self.max_pixels)  # the default minimum never contradicts a smaller cap
        for name in ("min_pixels", "max_pixels", "max_words"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be positive, got {value}")
        if self.min_pixels and self.max_pixels and self.min_pixels > self.max_pixels:
            raise ConfigError(f"min_pixels {self.min_pixels} is larger than max_pixels {self.max_pixels}")
