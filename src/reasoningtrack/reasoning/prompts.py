"""Prompt presets (data files with named fields) and the one function that lays out the messages.

A preset is a YAML file: ``system`` (or ``system_file``, a text file beside it, read byte for
byte), ``user`` (the text of the user turn), ``layout`` (the order of the user turn's parts:
``template``, ``current`` and ``text``), and an optional ``max_words`` (the answer budget). Fields
in ``system`` and ``user``: ``{description}`` and ``{max_words}``; write ``{{``/``}}`` for a literal
brace. Built-in presets live in ``prompt_presets/``; ``--prompt NAME`` picks one and ``--prompt
path/to/file.yaml`` loads a user's own.

:func:`build_messages` is shared by the in-process and HTTP reasoners and by training data
building, so a model is always asked in the layout it was trained with.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import yaml

from ..config import ConfigError

__all__ = [
    "PromptPreset",
    "DEFAULT_PROMPT",
    "FIELDS",
    "preset_names",
    "load_prompt",
    "build_messages",
    "to_openai_messages",
]

DEFAULT_PROMPT = "release"
"""The release's inference prompt (Evaluation/i2d.py); ours, ``reasoningtrack``, is opt-in."""
FIELDS = ("description", "max_words")
_PARTS = ("template", "current", "text")
_KEYS = {"name", "about", "system", "system_file", "user", "layout", "max_words"}
_PACKAGE = "reasoningtrack.reasoning.prompt_presets"


@dataclass(frozen=True)
class PromptPreset:
    name: str
    system: str
    user: str
    layout: tuple[str, ...] = _PARTS
    max_words: int | None = None
    about: str = ""
    source: str = ""

    def _uses(self, field: str) -> bool:
        return field in _fields(self.system) or field in _fields(self.user)

    def render(self, description: str, max_words: int | None = None) -> tuple[str, str]:
        """The system text and the user text for one request."""
        budget = max_words if max_words is not None else self.max_words
        if budget is None and self._uses("max_words"):
            raise ConfigError(f"prompt {self.name!r} ({self.source}) uses {{max_words}} but no max_words is set")
        values = {"description": description, "max_words": budget}
        return self.system.format_map(values), self.user.format_map(values)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _check_template(template: str, where: str) -> None:
    try:
        names = _fields(template)
    except ValueError as exc:
        raise ConfigError(f"{where}: invalid template ({exc}); write {{{{ and }}}} for literal braces") from exc
    unknown = sorted(n for n in names if n not in FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {unknown}; available fields: {list(FIELDS)}")


def preset_names() -> list[str]:
    """Names of the built-in presets."""
    folder = resources.files(_PACKAGE)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _from_mapping(data: Any, where: str, read_file) -> PromptPreset:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with 'system' and 'user', got {type(data).__name__}")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; valid keys: {sorted(_KEYS)}")
    if ("system" in data) == ("system_file" in data):
        raise ConfigError(f"{where}: give exactly one of 'system' (text) or 'system_file' (a file beside it)")
    system = data["system"] if "system" in data else read_file(str(data["system_file"]))
    user = data.get("user", "{description}")
    for key, value in (("system", system), ("user", user)):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: '{key}' must be text, got {value!r}")
        _check_template(value, f"{where}: {key}")
    if "description" not in _fields(user) | _fields(system):
        raise ConfigError(f"{where}: the prompt never uses {{description}}")
    layout = data.get("layout", list(_PARTS))
    if not isinstance(layout, list) or sorted(layout) != sorted(_PARTS):
        raise ConfigError(f"{where}: 'layout' must list template, current and text once each, got {layout!r}")
    max_words = data.get("max_words")
    if max_words is not None and (isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1):
        raise ConfigError(f"{where}: 'max_words' must be a positive integer, got {max_words!r}")
    return PromptPreset(
        name=str(data.get("name", "custom")),
        system=system,
        user=user,
        layout=tuple(layout),
        max_words=max_words,
        about=str(data.get("about", "")),
        source=where,
    )


def load_prompt(spec: str | Path | PromptPreset | None = None) -> PromptPreset:
    """A built-in preset by name, or a user's YAML file by path (``None``: the default preset)."""
    if isinstance(spec, PromptPreset):
        return spec
    spec = DEFAULT_PROMPT if spec is None or spec == "" else spec
    text_spec = str(spec)
    if text_spec in preset_names():
        folder = resources.files(_PACKAGE)
        where = f"built-in prompt {text_spec!r}"
        data = yaml.safe_load(folder.joinpath(f"{text_spec}.yaml").read_text(encoding="utf-8"))
        return _from_mapping(data, where, lambda name: folder.joinpath(name).read_bytes().decode("utf-8"))
    path = Path(text_spec)
    if not path.is_file():
        raise ConfigError(
            f"prompt {text_spec!r} is neither a built-in preset ({', '.join(preset_names())}) nor a file"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read prompt file: {exc}") from exc

    def read_beside(name: str) -> str:
        target = path.parent / name
        try:
            return target.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read system_file {target}: {exc}") from exc

    return _from_mapping(data, str(path), read_beside)


def build_messages(
    preset: PromptPreset | str | None,
    description: str,
    images: Sequence[Any] = (None, None),
    *,
    max_words: int | None = None,
) -> list[dict]:
    """Chat messages (transformers' format) for one request.

    ``images`` are the template frame and the current frame, in that order, as anything the
    consumer accepts (PIL images, arrays, URLs) or ``None`` for bare placeholders (training data
    whose images travel in a separate column). Parts follow the preset's ``layout``."""
    preset = load_prompt(preset)
    if len(images) != 2:
        raise ValueError(f"expected 2 images (template, current), got {len(images)}")
    system, user = preset.render(description, max_words)
    by_part = {"template": images[0], "current": images[1]}
    content: list[dict] = []
    for part in preset.layout:
        if part == "text":
            content.append({"type": "text", "text": user})
        else:
            image = by_part[part]
            content.append({"type": "image"} if image is None else {"type": "image", "image": image})
    messages: list[dict] = []
    if system:
        messages.append({"role": "system", "content": [{"type": "text", "text": system}]})
    messages.append({"role": "user", "content": content})
    return messages


def to_openai_messages(messages: list[dict], image_url) -> list[dict]:
    """The same messages in the chat-completions format; ``image_url(image) -> str`` (a data URL)."""
    out = []
    for message in messages:
        parts = []
        for part in message["content"]:
            if part["type"] == "text":
                parts.append({"type": "text", "text": part["text"]})
            else:
                parts.append({"type": "image_url", "image_url": {"url": image_url(part["image"])}})
        out.append({"role": message["role"], "content": parts})
    return out
