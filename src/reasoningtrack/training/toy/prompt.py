"""The toy's prompt, its oracle teacher, and the strings its tiny tokenizer is trained on."""

from __future__ import annotations

from ...datasets.toy_world import ToyConfig, ToyPair

__all__ = ["toy_prompt", "write_toy_prompt", "oracle_completion", "toy_tokenizer_corpus"]


def toy_prompt():
    """A short prompt for the toy (long system prompts only slow a tiny CPU model down)."""
    from ...reasoning.prompts import PromptPreset

    return PromptPreset(
        name="toy",
        system="Compare the two frames. Reply <think>...</think><d>yes|no</d><answer>...</answer>.",
        user="{description}",
        about="toy world: say whether the shape changed colour and name it",
    )


def write_toy_prompt(path) -> str:
    """Save the toy prompt as a prompt YAML file (``--prompt FILE`` for every command)."""
    import yaml

    preset = toy_prompt()
    path.write_text(
        yaml.safe_dump({"name": preset.name, "about": preset.about, "system": preset.system, "user": preset.user}),
        encoding="utf-8",
    )
    return str(path)


def oracle_completion(pair: ToyPair) -> str:
    """The teacher's output for the toy: short, right by construction, and a real chain of
    thought: it names what each frame shows, then decides by comparing the two."""
    think = f"frame 1: {pair.colour1} {pair.shape}. frame 2: {pair.colour2} {pair.shape}."
    return f"<think>{think}</think><d>{'yes' if pair.changed else 'no'}</d><answer>{pair.answer}</answer>"


def toy_tokenizer_corpus(config: ToyConfig | None = None) -> list[str]:
    """Every string the toy's prompts and answers use (to train a small offline tokenizer on)."""
    cfg = config or ToyConfig()
    texts = []
    for shape in cfg.shapes:
        for c1 in cfg.colours:
            for c2 in cfg.colours:
                pair = ToyPair("", (None, None), (None, None), c1, c2, shape)  # type: ignore[arg-type]
                texts += [pair.description, oracle_completion(pair)]
    return texts
