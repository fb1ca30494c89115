"""What SFT and GRPO share: device and precision choice, loading, freezing, LoRA, saving.

The output folder of a run loads directly in the ``qwen`` reasoner:
- full fine-tuning, or LoRA with ``merge: true``: a complete checkpoint (``config.json``,
  ``model.safetensors``, the processor files) -> ``REASONERS.build("qwen", model=OUT)``;
- LoRA without merging: the adapter (``adapter_config.json``, ``adapter_model.safetensors``) and
  the processor files; ``adapter_config.json`` names the base model in
  ``base_model_name_or_path`` -> ``REASONERS.build("qwen", model=BASE, adapter=OUT)``.
Either way ``reasoningtrack_training.json`` records what was trained from what (base model, prompt,
kind of output, the full config).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..config import ConfigError
from ..fileio import atomic_write_json
from .config import LoraSettings

__all__ = [
    "resolve_precision",
    "load_model_and_processor",
    "freeze_vision_tower",
    "peft_config",
    "save_output",
    "training_arguments",
    "trainer_inputs",
    "TRAINING_RECORD",
    "torch_threads",
]

log = logging.getLogger(__name__)
TRAINING_RECORD = "reasoningtrack_training.json"


def resolve_precision(precision: str) -> tuple[dict, str]:
    """Trainer flags (``bf16``, ``fp16``, ``use_cpu``) for the requested precision, and why.

    ``auto`` takes bf16 on a GPU that supports it, else fp32; without a GPU it trains on the CPU in
    fp32 (CPUs gain nothing from bf16 autocast here and some kernels are missing)."""
    import torch

    cuda = torch.cuda.is_available()
    if precision == "auto":
        if cuda and torch.cuda.is_bf16_supported():
            return {"bf16": True, "fp16": False, "use_cpu": False}, "GPU found: training in bf16"
        if cuda:
            return {"bf16": False, "fp16": False, "use_cpu": False}, "GPU without bf16: training in fp32"
        return (
            {"bf16": False, "fp16": False, "use_cpu": True},
            "no GPU found: training on the CPU in fp32 (bf16 off); expect this to be slow for real model sizes",
        )
    if precision in ("bf16", "fp16") and not cuda:
        raise ConfigError(f"precision {precision!r} needs a GPU and none is visible; use precision: auto or fp32")
    return {"bf16": precision == "bf16", "fp16": precision == "fp16", "use_cpu": not cuda}, f"training in {precision}"


def load_model_and_processor(model: str, *, max_pixels: int, flags: dict, min_pixels: int = 0):
    """The vision-language model (fp32 master weights under bf16 autocast) and its processor,
    with the image budget set on the processor: frames are resized until min_pixels <= width x
    height <= max_pixels (0 keeps the processor's own bound)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    try:
        vlm = AutoModelForImageTextToText.from_pretrained(model)
        processor = AutoProcessor.from_pretrained(model)
    except OSError as exc:
        raise ConfigError(f"cannot load model {model!r}: {exc}") from exc
    if max_pixels > 0 and hasattr(processor, "image_processor"):
        size = processor.image_processor.size
        size["longest_edge"] = int(max_pixels)
        if size.get("shortest_edge") and size["shortest_edge"] > max_pixels:
            size["shortest_edge"] = int(max_pixels)
    if min_pixels > 0 and hasattr(processor, "image_processor"):
        size = processor.image_processor.size
        if max_pixels > 0 and min_pixels > max_pixels:
            raise ConfigError(f"min_pixels ({min_pixels}) > max_pixels ({max_pixels})")
        size["shortest_edge"] = int(min_pixels)
    return vlm, processor


def prepare_model(cfg, announce=None):
    """What SFT and GRPO both do first: choose the precision (and say why), load the model and
    its processor, freeze the vision tower when asked. Returns ``(model, processor, flags)``."""
    flags, why = resolve_precision(cfg.precision)
    (announce or log.warning)(why)
    model, processor = load_model_and_processor(
        cfg.model, max_pixels=cfg.max_pixels, flags=flags, min_pixels=getattr(cfg, "min_pixels", 0)
    )
    if cfg.freeze_vision:
        freeze_vision_tower(model)
    return model, processor, flags


def _vision_module(model):
    for owner in (model, getattr(model, "model", None)):
        module = getattr(owner, "visual", None) if owner is not None else None
        if module is not None:
            return module
    raise ConfigError(f"{type(model).__name__} has no vision tower ('visual') to freeze")


def freeze_vision_tower(model) -> int:
    """Stop training the vision tower (and its merger); returns the number of frozen parameters."""
    frozen = 0
    for param in _vision_module(model).parameters():
        param.requires_grad_(False)
        frozen += param.numel()
    return frozen


def peft_config(settings: LoraSettings, freeze_vision: bool):
    """A PEFT LoRA config on the language model's linear layers (and the vision tower's unless frozen)."""
    from peft import LoraConfig

    targets = list(settings.target_modules)
    # Qwen2.5-VL's vision blocks use "qkv"/"proj" and the same MLP names as the language model; a
    # regex keeps LoRA on the language model only when the vision tower is frozen.
    target: Any = targets
    if freeze_vision:
        target = r"^(?!.*visual).*\.(" + "|".join(targets) + r")$"
    return LoraConfig(
        r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout, target_modules=target, task_type="CAUSAL_LM"
    )


def _checkpointing_key() -> str:
    """transformers 5 renamed ``gradient_checkpointing`` to ``activation_checkpointing``."""
    import dataclasses

    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    return "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"


class torch_threads:
    """Context manager: run with ``n`` torch CPU threads (None: leave as is), restore after."""

    def __init__(self, n: int | None):
        self.n = n
        self.previous = None

    def __enter__(self):
        if self.n:
            import torch

            self.previous = torch.get_num_threads()
            torch.set_num_threads(int(self.n))
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            import torch

            torch.set_num_threads(self.previous)
        return False


def trainer_inputs(cfg, model, processor, train_dataset, callbacks=None) -> dict:
    """The keyword arguments every TRL trainer here takes: the model, the data, the processor, the
    LoRA adapter (when enabled) and the callbacks."""
    return dict(
        model=model,
        train_dataset=train_dataset,
        processing_class=processor,
        peft_config=peft_config(cfg.lora, cfg.freeze_vision) if cfg.lora.enabled else None,
        callbacks=callbacks,
    )


def training_arguments(cfg, flags: dict) -> dict:
    """Keyword arguments shared by TRL's SFT and GRPO configs."""
    checkpointing = {_checkpointing_key(): cfg.gradient_checkpointing}
    return dict(
        **checkpointing,
        output_dir=str(cfg.output_dir),
        num_train_epochs=cfg.num_train_epochs,
        max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler_type,
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        per_device_train_batch_size=cfg.per_device_train_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        max_grad_norm=cfg.max_grad_norm,
        logging_steps=cfg.logging_steps,
        save_strategy="steps" if cfg.save_steps > 0 else "no",
        save_steps=cfg.save_steps if cfg.save_steps > 0 else 500,
        save_total_limit=cfg.save_total_limit,
        seed=cfg.seed,
        report_to=list(cfg.report_to) or "none",
        dataloader_num_workers=cfg.dataloader_num_workers,
        optim=cfg.optim,
        **flags,
    )


def save_output(trainer, processor, cfg, kind: str) -> Path:
    """Save the trained model so that the ``qwen`` reasoner loads it (see the module doc)."""
    from peft import PeftModel

    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = trainer.model
    unwrapped = trainer.accelerator.unwrap_model(model) if hasattr(trainer, "accelerator") else model
    layout = "full"
    if isinstance(unwrapped, PeftModel):
        if cfg.lora.merge:
            merged = unwrapped.merge_and_unload()
            merged.save_pretrained(out)
            layout = "merged"
        else:
            unwrapped.save_pretrained(out)
            layout = "adapter"
    else:
        trainer.save_model(str(out))
    processor.save_pretrained(out)
    record = {
        "stage": kind,
        "layout": layout,
        "base_model": str(cfg.model),
        "prompt": cfg.prompt,
        "load_with": (
            {"model": str(cfg.model), "adapter": str(out)} if layout == "adapter" else {"model": str(out)}
        ),
        "config": cfg.to_dict(),
        "log_history": list(trainer.state.log_history),
    }
    atomic_write_json(out / TRAINING_RECORD, record, default=str)
    return out
