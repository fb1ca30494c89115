"""Supervised fine-tuning of the reasoner on teacher chain-of-thought (TRL ``SFTTrainer``).

Data: prompt/completion conversations with the two frames in ``images`` (see
:mod:`reasoningtrack.training.conversations`); the loss is on the completion only. Defaults are
the release's (full fine-tune, lr 5e-5 cosine, 3 epochs, effective batch 8 = 1 x 8 accumulation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .config import SFTConfig
from .modeling import prepare_model, save_output, torch_threads, trainer_inputs, training_arguments

__all__ = ["train_sft", "build_sft_trainer"]


def build_sft_trainer(cfg: SFTConfig, train_dataset, *, callbacks=None, announce: Callable[[str], None] | None = None):
    """The configured TRL trainer (not started) and the processor."""
    from trl import SFTConfig as TRLSFTConfig
    from trl import SFTTrainer

    model, processor, flags = prepare_model(cfg, announce)
    args = TRLSFTConfig(
        **training_arguments(cfg, flags),
        max_length=cfg.max_length,
        **dict(cfg.trl_options),
    )
    trainer = SFTTrainer(args=args, **trainer_inputs(cfg, model, processor, train_dataset, callbacks))
    return trainer, processor


def train_sft(cfg: SFTConfig, train_dataset, *, callbacks=None, announce=None) -> Path:
    """Train and save to ``cfg.output_dir`` (loadable by the ``qwen`` reasoner)."""
    with torch_threads(cfg.torch_threads):
        trainer, processor = build_sft_trainer(cfg, train_dataset, callbacks=callbacks, announce=announce)
        trainer.train()
        return save_output(trainer, processor, cfg, "sft")
