"""Samples as TRL conversations, in the exact message layout the reasoner uses at inference.

The prompt is :func:`reasoningtrack.reasoning.prompts.build_messages` with image placeholders
(``{"type": "image"}``); the frames travel in the ``images`` column, which TRL puts into the
placeholders in order (template frame, current frame). SFT rows are prompt/completion pairs
(loss on the completion only); GRPO rows are prompts plus every sample column, which TRL passes to
the reward functions by name.
"""

from __future__ import annotations

from typing import Any

__all__ = ["prompt_messages", "completion_messages", "to_grpo_dataset", "to_sft_dataset", "COMPLETION_COLUMN"]

#: Column of a taught sample dataset that holds the teacher's whole output text.
COMPLETION_COLUMN = "completion_text"


def prompt_messages(description: str, prompt: Any = None) -> list[dict]:
    """System + user turn with two image placeholders, as the ``qwen`` reasoner asks."""
    from ..reasoning.prompts import build_messages

    return build_messages(prompt, description, (None, None))


def completion_messages(text: str) -> list[dict]:
    return [{"role": "assistant", "content": [{"type": "text", "text": text}]}]


def to_grpo_dataset(samples, prompt: Any = None):
    """Add the ``prompt`` column; every sample column stays (the rewards read them)."""
    from ..reasoning.prompts import load_prompt

    preset = load_prompt(prompt)
    return samples.map(lambda row: {"prompt": prompt_messages(row["description"], preset)}, desc="prompts")


def to_sft_dataset(samples, prompt: Any = None, completion_column: str = COMPLETION_COLUMN):
    """``prompt`` / ``completion`` / ``images`` rows from samples that carry a teacher output."""
    from ..reasoning.prompts import load_prompt

    if completion_column not in samples.column_names:
        raise KeyError(
            f"the SFT data needs a {completion_column!r} column (the teacher's output); columns: {samples.column_names}. "
            "Run `reasoningtrack data teach` first or import the release's LLaMA-Factory JSON."
        )
    preset = load_prompt(prompt)
    keep = {"images", "sample_id"} & set(samples.column_names)
    return samples.map(
        lambda row: {
            "prompt": prompt_messages(row["description"], preset),
            "completion": completion_messages(row[completion_column]),
        },
        remove_columns=[c for c in samples.column_names if c not in keep],
        desc="conversations",
    )
