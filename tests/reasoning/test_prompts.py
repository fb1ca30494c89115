"""Prompt presets as data, user prompt files, and the shared message layout."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from reasoningtrack.config import ConfigError
from reasoningtrack.reasoning.prompts import (
    DEFAULT_PROMPT,
    build_messages,
    load_prompt,
    preset_names,
    to_openai_messages,
)


def test_release_system_prompt_is_byte_for_byte(shared_data):
    shared = (shared_data / "prompts" / "release-system-prompt.txt").read_bytes()
    packaged = resources.files("reasoningtrack.reasoning.prompt_presets").joinpath("release-system-prompt.txt")
    assert packaged.read_bytes() == shared
    preset = load_prompt("release")
    assert preset.system.encode("utf-8") == shared
    system, user = preset.render("the wooden ship on the river")
    assert system.encode("utf-8") == shared
    assert user == "the wooden ship on the river"


def test_release_layout_system_then_two_images_then_description(shared_data):
    shared = (shared_data / "prompts" / "release-system-prompt.txt").read_text(encoding="utf-8")
    messages = build_messages("release", "the red car", ["IMG1", "IMG2"])
    assert messages == [
        {"role": "system", "content": [{"type": "text", "text": shared}]},
        {
            "role": "user",
            "content": [
                {"type": "image", "image": "IMG1"},
                {"type": "image", "image": "IMG2"},
                {"type": "text", "text": "the red car"},
            ],
        },
    ]


def test_builtin_presets():
    assert {"release", "reasoningtrack"} <= set(preset_names())
    assert DEFAULT_PROMPT == "release"  # issue 9, rule 8: the release's prompt by default
    default = load_prompt(None)
    assert default.name == "release" and default.max_words is None and "{" not in default.system
    ours = load_prompt("reasoningtrack")
    assert ours.name == "reasoningtrack" and ours.max_words == 10
    system, user = ours.render("a dog", max_words=7)
    assert "at most 7 words" in system and "<think>" in system and "<d>" in system and "<answer>" in system
    assert user.endswith("a dog")
    assert "at most 10 words" in ours.render("a dog")[0]


def test_placeholder_images_for_training_data():
    messages = build_messages("reasoningtrack", "a dog", [None, None])
    assert [p["type"] for p in messages[1]["content"]] == ["image", "image", "text"]
    assert all("image" not in p for p in messages[1]["content"][:2])


def test_user_prompt_file(tmp_path):
    (tmp_path / "sys.txt").write_bytes(b"Track it. Use {max_words} words.\n")
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\nsystem_file: sys.txt\nuser: 'Target: {description} {{literal}}'\n"
        "layout: [text, current, template]\nmax_words: 5\n"
    )
    preset = load_prompt(str(path))
    assert preset.name == "mine" and preset.layout == ("text", "current", "template")
    messages = build_messages(preset, "cat", ["T", "C"])
    assert messages[0]["content"][0]["text"] == "Track it. Use 5 words.\n"
    assert messages[1]["content"] == [
        {"type": "text", "text": "Target: cat {literal}"},
        {"type": "image", "image": "C"},
        {"type": "image", "image": "T"},
    ]


@pytest.mark.parametrize(
    "body, message",
    [
        ("system: hi {colour}\nuser: '{description}'\n", "unknown field"),
        ("system: hi\nuser: no description here\n", "never uses"),
        ("user: '{description}'\n", "exactly one of"),
        ("system: a\nsystem_file: b\nuser: '{description}'\n", "exactly one of"),
        ("system: a\nuser: '{description}'\nlayout: [text, template]\n", "layout"),
        ("system: a\nuser: '{description}'\nmax_words: 0\n", "max_words"),
        ("system: a\nuser: '{description}'\ncolour: red\n", "unknown key"),
        ("system: 'a {'\nuser: '{description}'\n", "invalid template"),
        ("- a\n- b\n", "expected a mapping"),
        ("system_file: missing.txt\nuser: '{description}'\n", "cannot read system_file"),
    ],
)
def test_bad_prompt_files_name_the_file(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message) as info:
        load_prompt(str(path))
    assert str(path) in str(info.value)


def test_unknown_prompt_and_missing_budget(tmp_path):
    with pytest.raises(ConfigError, match="neither a built-in preset"):
        load_prompt("no-such-preset")
    path = tmp_path / "p.yaml"
    path.write_text("system: 'at most {max_words}'\nuser: '{description}'\n")
    with pytest.raises(ConfigError, match="no max_words"):
        load_prompt(str(path)).render("x")
    with pytest.raises(ValueError, match="2 images"):
        build_messages("release", "x", ["only one"])


def test_openai_layout():
    messages = build_messages("release", "the red car", [np.zeros((2, 2, 3), np.uint8), "b"])
    out = to_openai_messages(messages, lambda image: f"url-{type(image).__name__}")
    assert out[1]["content"][:2] == [
        {"type": "image_url", "image_url": {"url": "url-ndarray"}},
        {"type": "image_url", "image_url": {"url": "url-str"}},
    ]
    assert out[1]["content"][2] == {"type": "text", "text": "the red car"}
    assert out[0]["role"] == "system"
