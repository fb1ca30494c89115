"""`reasoningtrack train sft|grpo` on CPU with a tiny Qwen2.5-VL: full and LoRA runs, and the
output folders load in the `qwen` reasoner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.config import ConfigError
from reasoningtrack.reasoning import REASONERS
from reasoningtrack.training.config import GRPOConfig, RewardConfig, SFTConfig
from reasoningtrack.training.modeling import TRAINING_RECORD, resolve_precision
from reasoningtrack.training.toy import toy_tokenizer_corpus

runner = CliRunner()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from reasoningtrack.reasoning.tiny import build_tiny_qwen
    from reasoningtrack.training.modeling import torch_threads

    root = tmp_path_factory.mktemp("train_cli")
    with torch_threads(1):  # many threads spin-wait on a busy CPU (28 s instead of 2 s here)
        model = build_tiny_qwen(
            root / "tiny", seed=0, text_hidden=32, layers=1, heads=4, kv_heads=2, intermediate=64, vision_depth=1,
            vocab_size=300, tokenizer_corpus=toy_tokenizer_corpus(), min_pixels=56 * 56, max_pixels=56 * 56,
        )
    result = runner.invoke(app, ["dev", "toy-samples", str(root / "data"), "--n", "12", "--prompt-file", str(root / "toy.yaml")])
    assert result.exit_code == 0, result.output
    return root, model


def _run(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def test_help_documents_the_commands():
    for group, command, words in [
        ("train", "sft", ["lr 5e-5 cosine", "--lora", "--full", "accelerate launch"]),
        ("train", "grpo", ["0.1 format", "--profile", "--print-config", "use_vllm", "SFT output folder"]),
        ("data", "build", ["IoU(old text)", "--min-gap", "--track-steps", "--profile", "full resolution"]),
        ("data", "teach", ["strict", "--base-url"]),
        ("data", "import-release", ["LLaMA-Factory"]),
        ("data", "export-release", ["byte for byte"]),
    ]:
        text = " ".join(_run([group, command, "--help"]).output.split())
        for word in words:
            assert word in text, (group, command, word)


def test_full_sft_then_lora_grpo_on_cpu_and_both_load_in_the_reasoner(tiny):
    root, model = tiny
    common = ["--prompt", str(root / "toy.yaml"), "--max-steps", "2", "--set", "max_pixels=3136", "--set", "torch_threads=1"]
    sft_out = root / "sft"
    result = _run(
        ["train", "sft", str(root / "data"), "--model", str(model), "--output-dir", str(sft_out), "--full", *common,
         "--set", "per_device_train_batch_size=4", "--set", "gradient_accumulation_steps=1", "--set", "gradient_checkpointing=false"]
    )
    assert "no GPU found: training on the CPU in fp32" in result.output
    record = json.loads((sft_out / TRAINING_RECORD).read_text())
    assert record["layout"] == "full" and record["load_with"] == {"model": str(sft_out)}
    assert [e["step"] for e in record["log_history"] if "loss" in e] == [1, 2]
    assert (sft_out / "sft_config.yaml").is_file()

    grpo_out = root / "grpo-lora"
    _run(
        ["train", "grpo", str(root / "data"), "--model", str(sft_out), "--output-dir", str(grpo_out), "--lora",
         "--backbone", "toy", *common, "--set", "num_generations=2", "--set", "per_device_train_batch_size=4",
         "--set", "prompts_per_step=2", "--set", "prompts_per_rollout=2", "--set", "min_pixels=0",
         "--set", "max_completion_length=12", "--set", "lora.r=4", "--set", "gradient_checkpointing=false"]
    )
    record = json.loads((grpo_out / TRAINING_RECORD).read_text())
    assert record["layout"] == "adapter" and record["load_with"] == {"model": str(sft_out), "adapter": str(grpo_out)}
    assert (grpo_out / "adapter_config.json").is_file() and not (grpo_out / "model.safetensors").exists()
    steps = [e for e in record["log_history"] if "rewards/iou_reward/mean" in e]
    assert len(steps) == 2 and all(0.0 <= e["rewards/judge_reward/mean"] <= 1.0 for e in steps)

    frame = np.zeros((56, 56, 3), np.uint8)
    for options in ({"model": str(sft_out)}, record["load_with"]):  # full folder; base + adapter
        reasoner = REASONERS.build("qwen", **options, prompt=str(root / "toy.yaml"), max_new_tokens=8, device="cpu")
        answer = reasoner.reason(frame, frame, "the red circle")
        assert isinstance(answer.raw, str) and answer.answer  # noise, but a parsed Reasoning
        reasoner.close()


def test_configs_validate_and_precision_is_chosen_for_cpu():
    flags, message = resolve_precision("auto")
    assert flags == {"bf16": False, "fp16": False, "use_cpu": True} and "CPU" in message
    with pytest.raises(ConfigError, match="needs a GPU"):
        resolve_precision("bf16")
    with pytest.raises(ConfigError, match="num_generations"):
        GRPOConfig(num_generations=1)
    sft = SFTConfig()
    assert (sft.learning_rate, sft.lr_scheduler_type, sft.num_train_epochs) == (5e-5, "cosine", 3.0)
    assert sft.per_device_train_batch_size * sft.gradient_accumulation_steps == 8 and not sft.lora.enabled
    grpo = GRPOConfig()
    assert (grpo.num_generations, grpo.learning_rate, grpo.beta, grpo.temperature, grpo.top_p) == (5, 1e-6, 1e-2, 1.0, 0.99)
    assert GRPOConfig().with_overrides(["lora.enabled=true", "beta=0.04"]).lora.enabled
    with pytest.raises(ConfigError, match="multiple of prompts_per_step"):
        GRPOConfig(prompts_per_rollout=200, prompts_per_step=128)
    with pytest.raises(ConfigError, match="contradicts prompts_per_step"):
        GRPOConfig(gradient_accumulation_steps=7).batch_plan(1)
    # Two processes halve the accumulation; the generation batch stays 256 prompts x 5.
    assert GRPOConfig().batch_plan(2) == {
        "gradient_accumulation_steps": 80, "steps_per_generation": 160, "generation_batch_size": 1280,
        "optimizer_steps_per_rollout": 2, "num_processes": 2,
    }


def _printed(args):
    import yaml

    return yaml.safe_load(_run(args).output)


def test_print_config_release_profile_has_the_release_numbers():
    grpo = _printed(["train", "grpo", "--print-config", "--profile", "release"])
    assert grpo["profile"] == "release"
    release = dict(
        num_generations=5, temperature=1.0, top_p=0.99, learning_rate=1e-6, lr_scheduler_type="constant",
        warmup_steps=0, weight_decay=1e-2, beta=1e-2, epsilon=0.2, epsilon_high=0.3, prompts_per_rollout=256,
        prompts_per_step=128, max_completion_length=2048, max_prompt_length=4096, min_pixels=59536,
        max_pixels=262144, num_train_epochs=2, freeze_vision=False, loss_type="dapo", prompt_layout="release",
        reward_weights=[0.1, 0.1, 0.0, 0.15],
    )
    assert {k: grpo[k] for k in release} == release
    assert grpo["lora"]["enabled"] is False
    assert grpo["rewards"]["iou_threshold"] == 0.61
    # TRL's batch settings for one process: 128 x 5 completions per step, 256 x 5 per generation.
    assert grpo["derived"]["gradient_accumulation_steps"] * grpo["per_device_train_batch_size"] == 640
    assert grpo["derived"]["generation_batch_size"] == 1280 and grpo["derived"]["optimizer_steps_per_rollout"] == 2

    sft = _printed(["train", "sft", "--print-config", "--profile", "release"])
    want = dict(
        learning_rate=5e-5, lr_scheduler_type="cosine", warmup_steps=0, num_train_epochs=3,
        per_device_train_batch_size=1, gradient_accumulation_steps=8, max_length=4096, freeze_vision=True,
        conversation="llamafactory", instruction="release-sft",
    )
    assert {k: sft[k] for k in want} == want and sft["lora"]["enabled"] is False


def test_profiles_defaults_and_precedence(tmp_path):
    from reasoningtrack.profiles import load_profile
    from reasoningtrack.training.config import SampleConfig, resolve_config

    # The dataclass defaults are the default (paper) profile; paper differs from release by the IoU weight.
    paper, release = load_profile("paper"), load_profile("release")
    for cls, section in ((SampleConfig, "data"), (SFTConfig, "sft"), (GRPOConfig, "grpo")):
        assert resolve_config(cls, profile="paper") == cls(), section
    assert release["grpo"]["rewards"]["iou_weight"] == 0.0 < paper["grpo"]["rewards"]["iou_weight"]
    assert GRPOConfig().rewards.iou_weight == paper["grpo"]["rewards"]["iou_weight"]
    # Options beat --set, which beats the file, which beats the profile; the printed file loads back.
    printed = _printed(["train", "grpo", "--print-config", "--profile", "release", "--set", "beta=0.02"])
    (tmp_path / "grpo.yaml").write_text(__import__("yaml").safe_dump(printed))
    again = _printed(["train", "grpo", "--print-config", "--config", str(tmp_path / "grpo.yaml"), "--set",
                      "reward_weights=[0.1,0.1,0.3,0.15]", "--max-steps", "5"])
    assert again["profile"] == "release" and again["beta"] == 0.02 and again["max_steps"] == 5
    assert again["reward_weights"] == [0.1, 0.1, 0.3, 0.15]
    clash = runner.invoke(app, ["train", "grpo", "--print-config", "--config", str(tmp_path / "grpo.yaml"), "--profile", "paper"])
    assert clash.exit_code != 0 and "profile" in clash.output
    result = runner.invoke(app, ["train", "grpo", "--print-config", "--profile", "nope"])
    assert result.exit_code != 0 and "nope" in result.output
    result = runner.invoke(app, ["train", "grpo"])
    assert result.exit_code == 2 and "missing DATA" in result.output
