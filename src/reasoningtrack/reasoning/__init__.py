"""Reasoners: weight-free baselines, Qwen2.5-VL in-process, OpenAI-compatible servers."""

from .base import REASONERS, Reasoner, ReasonerError, ReasoningRequest
from .types import Reasoning, ReasoningContext
from .parser import parse, format_output, extract_blocks
from .prompts import build_messages, load_prompt

__all__ = ["REASONERS", "Reasoner", "ReasonerError", "ReasoningRequest", "Reasoning", "ReasoningContext"]
__all__ += ["parse", "format_output", "extract_blocks", "build_messages", "load_prompt"]

REASONERS.register("static", "reasoningtrack.reasoning.static:StaticReasoner", help="never updates the description")
REASONERS.register("heuristic", "reasoningtrack.reasoning.heuristic:build_heuristic", help="weight-free baseline: colour, position, size, motion, visibility")
REASONERS.register("qwen", "reasoningtrack.reasoning.qwen:build_qwen", help="Qwen2.5-VL in-process (transformers)")
REASONERS.register("openai", "reasoningtrack.reasoning.openai_compat:build_openai", help="any OpenAI-compatible chat-completions server (vLLM, transformers serve)")
