"""Training in several processes on the CPU, launched as users launch it
(``torchrun --standalone --nproc_per_node 2 -m reasoningtrack.cli train ...``: a 2-process gloo
world), the shipped accelerate / DeepSpeed configs read by accelerate itself, and the vLLM
settings as TRL receives them (vLLM itself is not installed here).

Why SFT with 1 process x batch 4 and 2 processes x batch 2 must agree, and how closely:
both runs see the same global batch (sequential sampling: rows 0-3 at step 1, rows 4-7 at step 2;
process p of 2 takes rows 2p, 2p+1) from the same weights, and DDP all-reduces (averages) the
gradients. With token counts N_A, N_B on the two processes (N = N_A + N_B) and mean token losses
l_A, l_B, one process optimises S/N while two processes optimise the average of their own means,
(l_A + l_B) / 2; the difference is (1/2 - N_A/N)(l_A - l_B). The toy rows differ by a word or two
in length (N_A/N within 0.5 +- 0.05) and an untrained 300-token model puts nearly uniform loss on
every token (|l_A - l_B| < 0.05), so the step-1 losses may differ by up to 0.0025 in ~6.6,
i.e. below 4e-4 relative; we allow 1e-3 (measured: 2.7e-4). After two Adam steps (each moves every
weight by about the learning rate whatever the gradient's size) the weights may differ where the
gradients above differ in sign: measured 7 % of the update's norm; a run with another global batch
or without the all-reduce differs by about 100 % (measured 99 % for 1 process x batch 2), so the
bound is 25 %.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.training.configs import config_path
from reasoningtrack.training.toy import toy_tokenizer_corpus

RECORD = "reasoningtrack_training.json"
TIMEOUT_S = 420


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    from reasoningtrack.reasoning.tiny import build_tiny_qwen
    from reasoningtrack.training.modeling import torch_threads

    root = tmp_path_factory.mktemp("distributed")
    with torch_threads(1):
        model = build_tiny_qwen(
            root / "tiny", seed=0, text_hidden=32, layers=1, heads=4, kv_heads=2, intermediate=64, vision_depth=1,
            vocab_size=300, tokenizer_corpus=toy_tokenizer_corpus(), min_pixels=56 * 56, max_pixels=56 * 56,
        )
    result = CliRunner().invoke(app, ["dev", "toy-samples", str(root / "data"), "--n", "12", "--prompt-file", str(root / "toy.yaml")])
    assert result.exit_code == 0, result.output
    return root, model


def _torchrun() -> list[str]:
    found = shutil.which("torchrun")
    return [found] if found else [sys.executable, "-m", "torch.distributed.run"]


def _train(root: Path, args: list[str], processes: int) -> dict:
    launcher = [*_torchrun(), "--standalone", "--nproc_per_node", str(processes)] if processes > 1 else [sys.executable]
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    done = subprocess.run([*launcher, "-m", "reasoningtrack.cli", "train", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = root / args[args.index("--output-dir") + 1]
    return {"record": json.loads((out / RECORD).read_text()), "output": done.stdout + done.stderr, "dir": out}


def _losses(record: dict) -> list[float]:
    return [e["loss"] for e in record["log_history"] if "loss" in e]


def _relative_weight_difference(base: Path, one: Path, two: Path) -> float:
    from safetensors.torch import load_file

    start, a, b = (load_file(str(p / "model.safetensors")) for p in (base, one, two))
    moved = differ = 0.0
    for key, value in start.items():
        moved += float(((a[key].float() - value.float()) ** 2).sum())
        differ += float(((b[key].float() - a[key].float()) ** 2).sum())
    return (differ / moved) ** 0.5


@pytest.mark.slow
def test_sft_in_two_processes_matches_one_process_with_the_same_global_batch(toy):
    root, model = toy
    common = ["data", "--model", str(model), "--prompt", "toy.yaml", "--full", "--max-steps", "2",
              "--set", "max_pixels=3136", "--set", "torch_threads=1", "--set", "gradient_checkpointing=false",
              "--set", "gradient_accumulation_steps=1", "--set", "trl_options.train_sampling_strategy=sequential"]
    one = _train(root, ["sft", *common, "--output-dir", "one", "--set", "per_device_train_batch_size=4"], 1)
    two = _train(root, ["sft", *common, "--output-dir", "two", "--set", "per_device_train_batch_size=2"], 2)
    assert "[rank1]" in two["output"] or two["output"].count("SFT model saved") == 2  # a second process took part
    l1, l2 = _losses(one["record"]), _losses(two["record"])
    assert len(l1) == len(l2) == 2
    assert abs(l1[0] - l2[0]) <= 1e-3 * abs(l1[0]), (l1, l2)
    assert _relative_weight_difference(model, one["dir"], two["dir"]) < 0.25


@pytest.mark.slow
def test_grpo_runs_in_a_two_process_gloo_world(toy):
    root, model = toy
    run = _train(root, ["grpo", "data", "--model", str(model), "--output-dir", "grpo2", "--prompt", "toy.yaml", "--lora",
                        "--backbone", "toy", "--max-steps", "2", "--set", "max_pixels=3136", "--set", "min_pixels=0",
                        "--set", "torch_threads=1", "--set", "num_generations=2", "--set", "per_device_train_batch_size=2",
                        "--set", "prompts_per_step=2", "--set", "prompts_per_rollout=2", "--set", "max_completion_length=8",
                        "--set", "lora.r=4", "--set", "gradient_checkpointing=false"], 2)
    steps = [e for e in run["record"]["log_history"] if "rewards/iou_reward/mean" in e]
    assert len(steps) == 2 and all(0.0 <= e["rewards/iou_reward/mean"] <= 1.0 for e in steps)
    assert (run["dir"] / "adapter_config.json").is_file()


@pytest.mark.parametrize("name, kind, stage", [("ddp", "MULTI_GPU", None), ("zero2", "DEEPSPEED", 2), ("zero3", "DEEPSPEED", 3)])
def test_shipped_launch_configs_load_in_accelerate(name, kind, stage):
    from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file

    loaded = load_config_from_file(str(config_path(name)))  # accelerate's own reader: unknown keys fail here
    assert isinstance(loaded, ClusterConfig)
    assert loaded.distributed_type.name == kind and loaded.mixed_precision == "bf16" and loaded.num_machines == 1
    assert (loaded.deepspeed_config or {}).get("zero_stage") == stage
    if stage == 3:
        assert loaded.deepspeed_config["zero3_save_16bit_model"]  # a loadable model folder at the end


@pytest.mark.parametrize("mode", ["server", "colocate"])
def test_vllm_settings_reach_trl(toy, monkeypatch, mode):
    import trl

    from reasoningtrack.training.config import GRPOConfig
    from reasoningtrack.training.conversations import to_grpo_dataset
    from reasoningtrack.training.grpo import build_grpo_trainer
    from reasoningtrack.training.samples import load_samples

    root, model = toy
    cfg = GRPOConfig.from_dict({
        "model": str(model), "output_dir": str(root / f"vllm-{mode}"), "max_steps": 1, "num_generations": 2,
        "per_device_train_batch_size": 2, "prompts_per_step": 1, "prompts_per_rollout": 1, "max_pixels": 3136,
        "min_pixels": 0, "rewards": {"backbone": "toy"}, "use_vllm": True, "vllm_mode": mode,
        "vllm_server_base_url": "http://127.0.0.1:9", "vllm_server_timeout": 5, "vllm_gpu_memory_utilization": 0.5,
        "vllm_tensor_parallel_size": 1, "vllm_max_model_length": 4096,
    })
    captured = {}

    class Capture:  # stands in for GRPOTrainer only to see the arguments it is given
        def __init__(self, **kwargs):
            captured.update(kwargs)

    monkeypatch.setattr(trl, "GRPOTrainer", Capture)
    dataset = to_grpo_dataset(load_samples(root / "data"), prompt=str(root / "toy.yaml"))
    build_grpo_trainer(cfg, dataset)
    args = captured["args"]
    assert isinstance(args, trl.GRPOConfig) and args.use_vllm and args.vllm_mode == mode
    if mode == "server":
        assert (args.vllm_server_base_url, args.vllm_server_timeout) == ("http://127.0.0.1:9", 5)
    else:
        assert (args.vllm_gpu_memory_utilization, args.vllm_max_model_length) == (0.5, 4096)
    monkeypatch.undo()
    with pytest.raises(ImportError, match="vLLM is not available and `use_vllm` is set to True"):  # TRL's own check
        trl.GRPOTrainer(**captured)
