"""Samples as TRL conversations, in the message layout a model is trained (and later asked) with.

Three layouts:
- ``inference``: :func:`reasoningtrack.reasoning.prompts.build_messages` with image placeholders,
  i.e. exactly what the ``qwen`` reasoner sends at inference (system prompt + user turn).
- ``release`` GRPO prompt (EasyR1's format prompt in the release): no system turn, one user turn
  = two images, then the text "response based on the system prompts, the initial language
  description is {desc}", a space and the release's system prompt.
- ``llamafactory`` SFT prompt (the release's LLaMA-Factory alpaca data, template qwen2_vl): no
  system turn (the chat template's default system text applies, as in LLaMA-Factory's template),
  one user turn = the sample's instruction, a newline, the two images, the description.

The frames travel in the ``images`` column, which TRL puts into the placeholders in order
(template frame, current frame). SFT rows are prompt/completion pairs (loss on the completion
only); GRPO rows are prompts plus every sample column, which TRL passes to the rewards by name.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "prompt_messages",
    "completion_messages",
    "release_grpo_messages",
    "llamafactory_messages",
    "RELEASE_GRPO_PROBLEM",
    "to_grpo_dataset",
    "to_sft_dataset",
    "COMPLETION_COLUMN",
]

#: Column of a taught sample dataset that holds the teacher's whole output text.
COMPLETION_COLUMN = "completion_text"
#: The release's GRPO problem text (its "<image><image>" prefix becomes the two image parts).
RELEASE_GRPO_PROBLEM = "response based on the system prompts, the initial language description is {description}"


def prompt_messages(description: str, prompt: Any = None) -> list[dict]:
    """System + user turn with two image placeholders, as the ``qwen`` reasoner asks."""
    from ..reasoning.prompts import build_messages

    return build_messages(prompt, description, (None, None))


def completion_messages(text: str) -> list[dict]:
    return [{"role": "assistant", "content": [{"type": "text", "text": text}]}]


def release_grpo_messages(description: str, system: str) -> list[dict]:
    """The release's GRPO prompt: EasyR1 trims the problem, appends " " + the format prompt's
    text (the release's system prompt) and turns each ``<image>`` into an image part."""
    text = RELEASE_GRPO_PROBLEM.format(description=description).strip() + " " + system
    return [{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": text}]}]


def llamafactory_messages(instruction: str, description: str) -> list[dict]:
    """The release's SFT prompt: alpaca ``instruction`` + newline + ``input`` (two images, then
    the description) as one user turn, without a system turn."""
    content = [{"type": "text", "text": instruction + "\n"}, {"type": "image"}, {"type": "image"}]
    if description:
        content.append({"type": "text", "text": description})
    return [{"role": "user", "content": content}]


def to_grpo_dataset(samples, prompt: Any = None, layout: str = "inference"):
    """Add the ``prompt`` column; every sample column stays (the rewards read them).

    ``layout="release"`` uses the release's GRPO prompt with ``prompt``'s system text (the
    release preset by default); ``"inference"`` the reasoner's own messages."""
    from ..reasoning.prompts import load_prompt

    preset = load_prompt(prompt)
    if layout == "release":
        system, _ = preset.render("")
        return samples.map(lambda row: {"prompt": release_grpo_messages(row["description"], system)}, desc="prompts")
    if layout != "inference":
        raise ValueError(f"unknown GRPO prompt layout {layout!r}; valid: ['release', 'inference']")
    return samples.map(lambda row: {"prompt": prompt_messages(row["description"], preset)}, desc="prompts")


def to_sft_dataset(
    samples,
    prompt: Any = None,
    completion_column: str = COMPLETION_COLUMN,
    *,
    conversation: str = "inference",
    instruction: str = "release-sft",
):
    """``prompt`` / ``completion`` / ``images`` rows from samples that carry a teacher output.

    ``conversation="llamafactory"``: each row's own ``instruction`` (imported release data), else
    the named built-in instruction or file; ``"inference"``: the reasoner's messages (``prompt``)."""
    from ..reasoning.prompts import load_prompt

    if completion_column not in samples.column_names:
        raise KeyError(
            f"the SFT data needs a {completion_column!r} column (the teacher's output); columns: {samples.column_names}. "
            "Run `reasoningtrack data teach` first or import the release's LLaMA-Factory JSON."
        )
    keep = {"images", "sample_id"} & set(samples.column_names)
    remove = [c for c in samples.column_names if c not in keep]
    if conversation == "llamafactory":
        from .instructions import load_instruction

        fallback = load_instruction(instruction)
        has_own = "instruction" in samples.column_names

        def row_messages(row):
            own = row["instruction"] if has_own else None
            return llamafactory_messages(own if own is not None else fallback, row["description"])

    elif conversation == "inference":
        preset = load_prompt(prompt)

        def row_messages(row):
            return prompt_messages(row["description"], preset)

    else:
        raise ValueError(f"unknown SFT conversation layout {conversation!r}; valid: ['llamafactory', 'inference']")
    return samples.map(
        lambda row: {"prompt": row_messages(row), "completion": completion_messages(row[completion_column])},
        remove_columns=remove,
        desc="conversations",
    )
