"""GRPO of the reasoner with format / strict-format / IoU / judge rewards (TRL ``GRPOTrainer``).

Data: sample rows with a ``prompt`` column (see :mod:`reasoningtrack.training.conversations`);
TRL fills the prompt's image placeholders from ``images`` and passes every other column to the
reward functions. The four rewards go to TRL as separate functions with
``reward_weights`` = (format, strict, IoU, judge), so each is logged on its own.

Start from a saved SFT folder: with ``beta`` > 0 and full fine-tuning TRL builds the reference
model from the policy's ``config._name_or_path``, i.e. the folder the policy was loaded from. With
LoRA, the reference is the base with the adapter disabled.

Batch sizes follow TRL: ``per_device_train_batch_size`` counts completions, and each optimisation
step generates ``per_device_train_batch_size x gradient_accumulation_steps x processes``
completions, ``num_generations`` per prompt (this product must be divisible by it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..config import ConfigError
from .config import GRPOConfig
from .modeling import peft_config, prepare_model, save_output, torch_threads, training_arguments
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

    generated = cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps
    if generated % cfg.num_generations:
        raise ConfigError(
            f"per_device_train_batch_size x gradient_accumulation_steps = {generated} completions per step is not "
            f"divisible by num_generations = {cfg.num_generations}"
        )
    if "prompt" not in train_dataset.column_names:
        raise ConfigError("the GRPO dataset needs a 'prompt' column; build it with conversations.to_grpo_dataset")
    if reward_functions is None:
        reward_functions, reward_weights = build_reward_functions(cfg.rewards, backbone)
    elif reward_weights is None:
        reward_weights = [1.0] * len(reward_functions)
    model, processor, flags = prepare_model(cfg, announce)
    trl_options = dict(cfg.trl_options)
    args = TRLGRPOConfig(
        **training_arguments(cfg, flags),
        num_generations=cfg.num_generations,
        beta=cfg.beta,
        epsilon=cfg.epsilon,
        epsilon_high=cfg.epsilon_high,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_completion_length=cfg.max_completion_length,
        loss_type=cfg.loss_type,
        reward_weights=list(reward_weights),
        use_vllm=cfg.use_vllm,
        vllm_mode=cfg.vllm_mode,
        **trl_options,
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=list(reward_functions),
        args=args,
        train_dataset=train_dataset,
        processing_class=processor,
        peft_config=peft_config(cfg.lora, cfg.freeze_vision) if cfg.lora.enabled else None,
        callbacks=callbacks,
    )
    return trainer, processor


def train_grpo(cfg: GRPOConfig, train_dataset, *, backbone=None, callbacks=None, announce=None) -> Path:
    """Train and save to ``cfg.output_dir`` (loadable by the ``qwen`` reasoner)."""
    with torch_threads(cfg.torch_threads):
        trainer, processor = build_grpo_trainer(
            cfg, train_dataset, backbone=backbone, callbacks=callbacks, announce=announce
        )
        trainer.train()
        return save_output(trainer, processor, cfg, "grpo")
