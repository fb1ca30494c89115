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
        ("train", "grpo", ["0.1 format", "--reward-preset", "use_vllm", "SFT output folder"]),
        ("data", "build", ["IoU(old text)", "--min-gap", "--track-steps"]),
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
    assert grpo.max_pixels == 512 * 512 and grpo.rewards.iou_weight > 0
    assert GRPOConfig.from_dict({"rewards": {"iou_weight": 0}}).rewards == RewardConfig.preset("release")
    assert GRPOConfig().with_overrides(["lora.enabled=true", "beta=0.04"]).lora.enabled
