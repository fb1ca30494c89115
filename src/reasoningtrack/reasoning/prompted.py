"""What every model-backed reasoner (``qwen`` in-process, ``openai`` over HTTP) does the same way:
load the prompt preset, fix the answer budget, build the chat messages, parse the model's text.

A backend only says how texts are generated (:meth:`PromptedReasoner.generate`); one request or
many, the parsing and the decision rule are the same, so the two backends cannot drift apart.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Sequence

from .base import Reasoner, ReasoningRequest
from .generation import GenerationConfig
from .parser import parse_with
from .prompts import PromptPreset, build_messages, load_prompt
from .types import Reasoning, ReasoningContext

__all__ = ["PromptedReasoner"]


class PromptedReasoner(Reasoner):
    """A reasoner that asks a vision-language model with a prompt preset and parses its answer."""

    config: GenerationConfig
    preset: PromptPreset
    max_words: int | None

    def _load_prompt(self) -> None:
        """The preset named by ``config.prompt`` and the answer budget (config first, then the
        preset's); a prompt that needs ``{max_words}`` without one fails here, not at the first call."""
        self.preset = load_prompt(self.config.prompt)
        self.max_words = self.config.max_words if self.config.max_words is not None else self.preset.max_words
        self.preset.render("x", self.max_words)

    def messages(self, request: ReasoningRequest, images: Sequence) -> list[dict]:
        """The chat messages for one request, ``images`` being its (template, current) pair."""
        return build_messages(self.preset, request.description, images, max_words=self.max_words)

    def parse(self, text: str, description: str) -> Reasoning:
        """The model's text as a decision and a new description (the configured parser's rule)."""
        return parse_with(self.config.parser, text, description, strict=self.config.strict, max_words=self.max_words)

    @abstractmethod
    def generate(self, requests: list[ReasoningRequest]) -> list[str]:
        """The model's raw text for each request, in request order."""

    def reason(self, template, current, description: str, context: ReasoningContext | None = None) -> Reasoning:
        return self.reason_batch([ReasoningRequest(template, current, description, context)])[0]

    def reason_batch(self, requests: list[ReasoningRequest]) -> list[Reasoning]:
        requests = list(requests)
        if not requests:
            return []
        return [self.parse(text, r.description) for text, r in zip(self.generate(requests), requests)]
