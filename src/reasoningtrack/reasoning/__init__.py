"""Reasoners: weight-free baselines, Qwen2.5-VL in-process, OpenAI-compatible servers."""

from .base import REASONERS, Reasoner, ReasonerError, ReasoningRequest
from .types import Reasoning, ReasoningContext

__all__ = ["REASONERS", "Reasoner", "ReasonerError", "ReasoningRequest", "Reasoning", "ReasoningContext"]
