"""The message layouts the models are trained with: the release's GRPO prompt, the release's
LLaMA-Factory SFT prompt (each sample's own instruction), and the inference layout."""

from __future__ import annotations

import json

import pytest

from reasoningtrack.training.conversations import to_grpo_dataset, to_sft_dataset
from reasoningtrack.training.instructions import load_instruction
from reasoningtrack.training.llamafactory import read_llamafactory, samples_to_dataset
from reasoningtrack.training.toy import toy_samples


def _texts(message):
    return [part.get("text") for part in message["content"] if part["type"] == "text"]


def test_release_grpo_prompt_is_the_problem_then_a_space_then_the_system_prompt(shared_data):
    system = (shared_data / "prompts" / "release-system-prompt.txt").read_text(encoding="utf-8")
    samples = toy_samples(3, seed=1)
    rows = to_grpo_dataset(samples, "release", layout="release")
    for row, description in zip(rows, samples["description"]):
        (user,) = row["prompt"]  # one user turn, no system turn
        assert user["role"] == "user"
        assert [part["type"] for part in user["content"]] == ["image", "image", "text"]
        want = "response based on the system prompts, the initial language description is " + description + " " + system
        assert _texts(user) == [want]
        # The reward's "original description" is the problem text after its first 88 characters.
        problem = "<image><image>response based on the system prompts, the initial language description is " + description
        assert problem[88:] == description
    inference = to_grpo_dataset(samples, "release", layout="inference")[0]["prompt"]
    assert inference[0]["role"] == "system" and _texts(inference[0]) == [system]
    with pytest.raises(ValueError, match="layout"):
        to_grpo_dataset(samples, "release", layout="nope")


def test_llamafactory_sft_rows_keep_each_samples_instruction(shared_data):
    files = sorted((shared_data / "reasoningtrack-release" / "sft").glob("*.json"))
    records = [r for f in files for r in json.loads(f.read_text(encoding="utf-8"))]
    samples = [s for f in files for s in read_llamafactory(f)]
    pick = [0, 1, len(samples) - 1] + [i for i, r in enumerate(records) if "<d>" not in r["instruction"]][:2]
    dataset = samples_to_dataset([samples[i] for i in pick], source="release")
    rows = to_sft_dataset(dataset, conversation="llamafactory")
    for row, i in zip(rows, pick):
        (user,) = row["prompt"]
        assert [p["type"] for p in user["content"]][:3] == ["text", "image", "image"]
        # LLaMA-Factory joins instruction and input with a newline; input = <image><image>description.
        assert "".join(_texts(user)) == records[i]["instruction"] + "\n" + records[i]["input"].replace("<image>", "")
        assert row["completion"][0]["content"][0]["text"] == records[i]["output"]
    # Taught rows (no instruction column) get the release's SFT instruction.
    taught = to_sft_dataset(toy_samples(2, seed=0), conversation="llamafactory")
    assert _texts(taught[0]["prompt"][0])[0] == load_instruction("release-sft") + "\n"


def test_overlong_prompts_are_dropped_with_a_message(tiny_qwen_dir):
    from transformers import AutoProcessor

    from reasoningtrack.training.grpo import drop_overlong_prompts, prompt_lengths

    processor = AutoProcessor.from_pretrained(tiny_qwen_dir)
    samples = toy_samples(3, seed=2)
    long = ["the red circle " + "and so on " * 60, samples["description"][1], samples["description"][2]]
    samples = samples.remove_columns("description").add_column("description", long)
    rows = to_grpo_dataset(samples, "release", layout="release")
    lengths = prompt_lengths(rows, processor)
    assert lengths[0] > max(lengths[1:]) + 100  # the long description adds its tokens
    said = []
    kept = drop_overlong_prompts(rows, processor, max(lengths[1:]), said.append)
    assert kept["sample_id"] == rows["sample_id"][1:] and "dropped 1 of 3" in said[0]
    with pytest.raises(Exception, match="every prompt is longer"):
        drop_overlong_prompts(rows, processor, 5)
