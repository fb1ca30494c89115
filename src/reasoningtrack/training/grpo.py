"""GRPO of the reasoner with format / strict-format / IoU / judge rewards (TRL ``GRPOTrainer``).

Data: sample rows with a ``prompt`` column (see :mod:`reasoningtrack.training.conversations`);
TRL fills the prompt's image placeholders from ``images`` and passes every other column to the
reward functions. The four rewards go to TRL as separate functions with
``reward_weights`` = (format, strict, IoU, judge), so each is logged on its own.

Start from a saved SFT folder: with ``beta`` > 0 and full fine-tuning TRL builds the reference
model from the policy's ``config._name_or_path``, i.e. the folder the policy was loaded from. With
LoRA, the reference is the base with the adapter disabled.

Batch sizes are given as the release gives them, in prompts: ``prompts_per_rollout`` prompts are
generated for at once (``num_generations`` completions each) and consumed in optimiser steps of
``prompts_per_step`` prompts. They map onto TRL as ``generation_batch_size`` = prompts_per_rollout
x num_generations and ``gradient_accumulation_steps`` = prompts_per_step x num_generations /
(per_device_train_batch_size x processes) (:meth:`GRPOConfig.batch_plan`). Prompts longer than
``max_prompt_length`` tokens are dropped first (EasyR1's filter_overlong_prompts; TRL has no such
limit), with a message saying how many.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..config import ConfigError
from .config import GRPOConfig
from .modeling import prepare_model, save_output, torch_threads, trainer_inputs, training_arguments
from .rewards import build_reward_functions

__all__ = ["train_grpo", "build_grpo_trainer"]


def build_grpo_trainer(
    cfg: GRPOConfig,
    train_dataset,
    *,
    backbone=None,
    reward_functions=None,
    reward_weights=None,
    callbacks=None,
    announce: Callable[[str], None] | None = None,
):
    """The configured TRL trainer (not started) and the processor.

    ``backbone`` overrides ``cfg.rewards.backbone`` (an instance, e.g. for tests);
    ``reward_functions``/``reward_weights`` replace the four rewards altogether."""
    from trl import GRPOConfig as TRLGRPOConfig
    from trl import GRPOTrainer

    from accelerate import PartialState

    plan = cfg.batch_plan(PartialState().num_processes)
    if "prompt" not in train_dataset.column_names:
        raise ConfigError("the GRPO dataset needs a 'prompt' column; build it with conversations.to_grpo_dataset")
    if reward_functions is None:
        reward_functions, reward_weights = build_reward_functions(cfg.rewards, backbone)
    elif reward_weights is None:
        reward_weights = [1.0] * len(reward_functions)
    model, processor, flags = prepare_model(cfg, announce)
    if cfg.max_prompt_length:
        train_dataset = drop_overlong_prompts(train_dataset, processor, cfg.max_prompt_length, announce)
    trl_options = dict(cfg.trl_options)
    common = training_arguments(cfg, flags)
    common["gradient_accumulation_steps"] = plan["gradient_accumulation_steps"]
    args = TRLGRPOConfig(
        **common,
        steps_per_generation=plan["steps_per_generation"],
        num_generations=cfg.num_generations,
        beta=cfg.beta,
        epsilon=cfg.epsilon,
        epsilon_high=cfg.epsilon_high,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_completion_length=cfg.max_completion_length,
        loss_type=cfg.loss_type,
        reward_weights=list(reward_weights),
        **cfg.vllm_arguments(),
        **trl_options,
    )
    trainer = GRPOTrainer(
        reward_funcs=list(reward_functions), args=args, **trainer_inputs(cfg, model, processor, train_dataset, callbacks)
    )
    return trainer, processor


def prompt_lengths(dataset, processor) -> list[int]:
    """Tokens of every row's prompt with its images, as the processor lays them out."""
    lengths = []
    for i in range(len(dataset)):
        row = dataset[i]
        ids = processor.apply_chat_template(
            _with_images(row["prompt"], row.get("images") or []), add_generation_prompt=True, tokenize=True,
            return_dict=True,
        )["input_ids"]
        lengths.append(len(ids[0]) if ids and isinstance(ids[0], list) else len(ids))
    return lengths


def _with_images(messages, images):
    images = list(images)
    out = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            content = [
                {"type": "image", "image": images.pop(0)} if part.get("type") == "image" and images else part
                for part in content
            ]
        out.append({**message, "content": content})
    return out


def drop_overlong_prompts(dataset, processor, limit: int, announce=None):
    """Rows whose prompt (images included) fits in ``limit`` tokens; says how many were dropped."""
    lengths = prompt_lengths(dataset, processor)
    keep = [i for i, n in enumerate(lengths) if n <= limit]
    if len(keep) < len(dataset):
        (announce or (lambda m: None))(
            f"dropped {len(dataset) - len(keep)} of {len(dataset)} prompts longer than max_prompt_length = {limit} tokens"
        )
        if not keep:
            raise ConfigError(f"every prompt is longer than max_prompt_length = {limit} tokens (longest {max(lengths)})")
        dataset = dataset.select(keep)
    return dataset


def train_grpo(cfg: GRPOConfig, train_dataset, *, backbone=None, callbacks=None, announce=None) -> Path:
    """Train and save to ``cfg.output_dir`` (loadable by the ``qwen`` reasoner)."""
    with torch_threads(cfg.torch_threads):
        trainer, processor = build_grpo_trainer(
            cfg, train_dataset, backbone=backbone, callbacks=callbacks, announce=announce
        )
        trainer.train()
        return save_output(trainer, processor, cfg, "grpo")
