"""A few GRPO steps of a random-weight Qwen2.5-VL of real size: step time and peak memory as JSON.

Prepared for a GPU machine (bf16, CUDA); also runs on a CPU in a tiny setting, which is how it is
checked here:

    python benchmarks/gpu_grpo_steps.py --size 3b --steps 4            # on a GPU
    python benchmarks/gpu_grpo_steps.py --device cpu --tiny --steps 2  # anywhere

The model is built offline with ``reasoningtrack.reasoning.tiny.build_tiny_qwen`` at the chosen
size (random weights; the embedding is padded to Qwen2.5-VL's 151,936-token vocabulary so that
memory is realistic, while the BPE tokenizer stays small). The data are toy-world pairs rendered
at ``--image-size`` pixels; the rewards are the real format / strict / IoU / judge functions run
through the toy backbone. A random model writes ``--completion-length`` tokens every time, so
every step does the same work. Everything printed is measured in this run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

#: Qwen2.5-VL sizes (text hidden, layers, heads, kv heads, MLP; vision depth, hidden, heads, MLP).
SIZES = {
    "tiny": dict(text_hidden=32, layers=1, heads=4, kv_heads=2, intermediate=64,
                 vision_depth=1, vision_hidden=32, vision_heads=2, vision_intermediate=64),
    "0.5b": dict(text_hidden=896, layers=24, heads=14, kv_heads=2, intermediate=4864,
                 vision_depth=32, vision_hidden=1280, vision_heads=16, vision_intermediate=3420),
    "3b": dict(text_hidden=2048, layers=36, heads=16, kv_heads=2, intermediate=11008,
               vision_depth=32, vision_hidden=1280, vision_heads=16, vision_intermediate=3420),
    "7b": dict(text_hidden=3584, layers=28, heads=28, kv_heads=4, intermediate=18944,
               vision_depth=32, vision_hidden=1280, vision_heads=16, vision_intermediate=3420),
}
QWEN_VOCAB = 151936


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="3b", help="model size preset")
    parser.add_argument("--tiny", action="store_true", help="shorthand for --size tiny with small data (CPU check)")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--steps", type=int, default=4, help="GRPO optimiser steps (the first is reported apart)")
    parser.add_argument("--generations", type=int, default=5, help="completions per prompt (the release: 5)")
    parser.add_argument("--prompts-per-step", type=int, default=2)
    parser.add_argument("--completion-length", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=448, help="toy frames are N x N pixels (<= 512)")
    parser.add_argument("--lora", action="store_true", help="LoRA instead of full fine-tuning")
    parser.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--workdir", type=Path, default=None, help="where to build the model (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON report here")
    args = parser.parse_args(argv)
    if args.tiny:
        args.size = "tiny"
        args.image_size = min(args.image_size, 56)
        args.completion_length = min(args.completion_length, 16)
        args.generations = min(args.generations, 2)
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # before torch is imported
    import torch
    from transformers import AutoModelForImageTextToText, TrainerCallback

    from reasoningtrack.reasoning.tiny import build_tiny_qwen
    from reasoningtrack.training.config import GRPOConfig, LoraSettings
    from reasoningtrack.training.conversations import to_grpo_dataset
    from reasoningtrack.training.grpo import build_grpo_trainer
    from reasoningtrack.training.toy import ToyBackbone, ToyConfig, toy_reward_config, toy_samples, toy_tokenizer_corpus

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("no CUDA device visible: run with --device cpu --tiny for the CPU check")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="gpu_grpo_"))
    report: dict = {"size": args.size, "device": args.device, "args": {k: str(v) for k, v in vars(args).items()}}
    if args.device == "cuda":
        report["gpu"] = torch.cuda.get_device_name(0)

    t0 = time.perf_counter()
    pixels = args.image_size**2
    model_dir = build_tiny_qwen(
        workdir / f"qwen-{args.size}", seed=0, tokenizer_corpus=toy_tokenizer_corpus(), min_pixels=56 * 56,
        max_pixels=max(pixels, 56 * 56), **SIZES[args.size],
    )
    if args.size != "tiny":  # a real vocabulary's embedding and head (memory), tokenizer unchanged
        model = AutoModelForImageTextToText.from_pretrained(model_dir)
        model.resize_token_embeddings(QWEN_VOCAB)
        model.save_pretrained(model_dir)
        del model
    report["build_s"] = time.perf_counter() - t0

    world = ToyConfig(image_size=args.image_size)
    samples = toy_samples(args.prompts_per_step * max(args.steps, 1) * 2, seed=0, config=world)
    prompt_file = workdir / "toy-prompt.yaml"
    from reasoningtrack.training.toy import write_toy_prompt

    write_toy_prompt(prompt_file)
    batch = args.prompts_per_step * args.generations
    cfg = GRPOConfig(
        model=str(model_dir), output_dir=str(workdir / "out"), max_steps=args.steps, learning_rate=1e-6,
        per_device_train_batch_size=batch, prompts_per_step=args.prompts_per_step,
        prompts_per_rollout=args.prompts_per_step, num_generations=args.generations, min_pixels=0,
        max_prompt_length=None, prompt_layout="inference",
        max_completion_length=args.completion_length, max_pixels=pixels, prompt=str(prompt_file),
        gradient_checkpointing=args.gradient_checkpointing, precision="auto" if args.device == "cuda" else "fp32",
        lora=LoraSettings(enabled=args.lora), rewards=toy_reward_config(), logging_steps=1,
        trl_options={"disable_tqdm": True, "top_k": 0},
    )

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times: list[float] = []
            self.memory: list[float] = []
            self._start = 0.0

        def on_step_begin(self, *a, **k):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self._start = time.perf_counter()

        def on_step_end(self, *a, **k):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
                self.memory.append(torch.cuda.max_memory_allocated() / 2**30)
            self.times.append(time.perf_counter() - self._start)

    timer = StepTimer()
    messages: list[str] = []
    t0 = time.perf_counter()
    trainer, _ = build_grpo_trainer(
        cfg, to_grpo_dataset(samples, str(prompt_file)), backbone=ToyBackbone(), callbacks=[timer], announce=messages.append
    )
    report["trainer_init_s"] = time.perf_counter() - t0
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    trainer.train()
    params = sum(p.numel() for p in trainer.model.parameters())
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    steady = timer.times[1:] or timer.times
    report.update(
        precision=messages,
        parameters=params,
        trainable_parameters=trainable,
        completions_per_step=batch,
        step_s=timer.times,
        first_step_s=timer.times[0] if timer.times else None,
        steady_step_s=sum(steady) / len(steady) if steady else None,
        completion_tokens_per_s=(batch * args.completion_length / (sum(steady) / len(steady))) if steady else None,
        peak_memory_gib=max(timer.memory) if timer.memory else None,
        rewards=[e.get("reward") for e in trainer.state.log_history if "reward" in e],
    )
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
