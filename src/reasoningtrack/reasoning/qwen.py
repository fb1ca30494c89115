"""Qwen2.5-VL in-process through transformers: a hub id or a local folder, optionally a LoRA adapter.

Greedy by default (reproducible benchmark runs); ``temperature > 0`` samples. Several requests
(e.g. one per sequence in a benchmark) run as one left-padded ``generate``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..config import ConfigError
from .base import ReasonerError, ReasoningRequest
from .generation import GenerationConfig
from .images import to_pil
from .prompted import PromptedReasoner

__all__ = ["QwenConfig", "QwenReasoner", "build_qwen", "DEFAULT_MODEL"]

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"


@dataclass(frozen=True)
class QwenConfig(GenerationConfig):
    """Options of the in-process reasoner (CLI: ``--model``, ``--adapter``, ``--prompt``,
    ``--reasoner-opt key=value``); decoding and prompt options come from :class:`GenerationConfig`."""

    model: str = DEFAULT_MODEL
    """Hub id or local folder of a Qwen2.5-VL checkpoint."""
    adapter: str | None = None
    """Folder of a PEFT LoRA adapter (``PeftModel.save_pretrained``) applied on top of ``model``."""
    merge_adapter: bool = True
    """Fold the adapter into the weights after loading (faster generation, same outputs)."""
    device: str = "auto"
    """``auto`` (CUDA when available), ``cpu``, ``cuda``, ``cuda:1``, ..."""
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    """``auto``: bfloat16 on GPU, float32 on CPU."""
    min_new_tokens: int = 0
    """Force at least this many new tokens (benchmarks: equal work whatever the model writes)."""
    batch_size: int = 4
    """Requests per ``generate`` in ``reason_batch``."""
    local_files_only: bool = False
    """Never contact the hub (also implied by ``HF_HUB_OFFLINE=1``)."""
    hub_probe_timeout_s: float = 5.0
    """Before loading a hub id, open one TCP connection to the hub (or the HTTPS proxy) with this
    timeout; when it fails, a cached copy is loaded offline, else the load fails at once instead of
    after transformers' retries (minutes). 0 skips the probe."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.min_new_tokens <= self.max_new_tokens:
            raise ConfigError(f"min_new_tokens must be in [0, max_new_tokens], got {self.min_new_tokens}")
        if self.hub_probe_timeout_s < 0:
            raise ConfigError(f"hub_probe_timeout_s must be >= 0, got {self.hub_probe_timeout_s}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {self.batch_size}")


def _missing_weights_message(model: str, exc: BaseException) -> str:
    looks_like_hub_id = model.count("/") == 1 and not model.startswith((".", "/", "~")) and not Path(model).exists()
    hub_id = model if looks_like_hub_id else DEFAULT_MODEL
    return (
        f"cannot load the Qwen2.5-VL checkpoint {model!r}: {exc}\n"
        "Get the weights on a machine with internet access, e.g.\n"
        f"  hf download {hub_id} --local-dir ./qwen2.5-vl-3b\n"
        f"  (huggingface_hub < 1.0: huggingface-cli download {hub_id} --local-dir ./qwen2.5-vl-3b)\n"
        "then pass --model ./qwen2.5-vl-3b (a local folder), or unset HF_HUB_OFFLINE to let transformers "
        "download it. For an offline smoke test, build a tiny random model with "
        "`reasoningtrack dev tiny-vlm DIR` and pass --model DIR."
    )


def hub_unreachable(timeout_s: float) -> str | None:
    """Why the Hugging Face hub cannot be reached from here (None when a TCP connection to it, or
    to the HTTPS proxy in the environment, opens within ``timeout_s``)."""
    import socket
    from urllib.parse import urlparse

    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    proxy = next((os.environ[k] for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy") if os.environ.get(k)), None)
    target = urlparse(proxy if proxy and "://" in proxy else (f"http://{proxy}" if proxy else endpoint))
    host = target.hostname or ""
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        via = f" through the proxy {host}:{port}" if proxy else ""
        return f"the Hugging Face hub {endpoint} is unreachable{via} ({host}:{port}: {exc or type(exc).__name__})"
    return None


def _cached(model: str) -> bool:
    """Whether a hub id's config.json is already in the local Hugging Face cache."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except Exception:  # an id the cache helper refuses is simply not cached
        return False


class QwenReasoner(PromptedReasoner):
    """Qwen2.5-VL (``Qwen2_5_VLForConditionalGeneration`` + ``AutoProcessor``) in this process."""

    name = "qwen"

    def __init__(self, config: QwenConfig | None = None):
        self.config = config or QwenConfig()
        self._load_prompt()
        self.last_prompt_tokens = 0
        self.last_generated_tokens = 0
        self._load()

    def _load(self) -> None:
        cfg = self.config
        local = Path(cfg.model).expanduser()
        offline = cfg.local_files_only or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        if not offline and not local.exists() and cfg.hub_probe_timeout_s > 0:
            # transformers retries an unreachable hub for minutes before failing: probe it first
            problem = hub_unreachable(cfg.hub_probe_timeout_s)
            if problem is not None:
                if not _cached(cfg.model):
                    raise ReasonerError(_missing_weights_message(cfg.model, ConnectionError(problem)))
                offline = True  # a cached copy loads without the hub
        if offline and not local.exists() and not _cached(cfg.model):
            why = "local_files_only is set" if cfg.local_files_only else "HF_HUB_OFFLINE is set"
            raise ReasonerError(_missing_weights_message(
                cfg.model, FileNotFoundError(f"{why} and {cfg.model!r} is neither a local folder nor in the Hugging Face cache")))
        try:
            import torch
            from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration
        except ImportError as exc:
            raise ReasonerError(
                f"the qwen reasoner needs torch, torchvision and transformers: {exc} "
                '(pip install "reasoningtrack[vlm]")'
            ) from exc
        if cfg.device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        else:
            device = cfg.device
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ReasonerError(f"device {device!r} requested but CUDA is not available")
        if cfg.dtype == "auto":
            dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        else:
            dtype = getattr(torch, cfg.dtype)
        if local.exists() and not (local / "config.json").is_file():
            raise ReasonerError(
                _missing_weights_message(cfg.model, FileNotFoundError(f"no config.json in folder {local}"))
            )
        source = str(local) if local.exists() else cfg.model
        try:
            processor = AutoProcessor.from_pretrained(source, local_files_only=offline)
            model = Qwen2_5_VLForConditionalGeneration.from_pretrained(
                source, dtype=dtype, local_files_only=offline
            )
        except (OSError, ValueError) as exc:
            raise ReasonerError(_missing_weights_message(cfg.model, exc)) from exc
        if not hasattr(processor, "image_processor"):
            raise ReasonerError(
                f"AutoProcessor for {cfg.model!r} returned {type(processor).__name__} without an image "
                "processor; transformers needs torchvision for Qwen2.5-VL's processor "
                '(pip install "reasoningtrack[vlm]")'
            )
        if cfg.adapter:
            model = self._apply_adapter(model, cfg.adapter)
        self.torch = torch
        self.device = torch.device(device)
        self.dtype = dtype
        self.model = model.to(self.device).eval()
        self.processor = processor
        self.processor.tokenizer.padding_side = "left"
        size = dict(getattr(processor.image_processor, "size", {}) or {})
        if cfg.min_pixels is not None:
            size["shortest_edge"] = cfg.min_pixels
        if cfg.max_pixels is not None:
            size["longest_edge"] = cfg.max_pixels
        self._image_size = size or None

    def _apply_adapter(self, model, adapter: str):
        path = Path(adapter).expanduser()
        if not (path / "adapter_config.json").is_file():
            raise ReasonerError(
                f"adapter {adapter!r} is not a PEFT adapter folder (no adapter_config.json); "
                "pass the folder written by PeftModel.save_pretrained / `reasoningtrack train`"
            )
        try:
            from peft import PeftModel
        except ImportError as exc:
            raise ReasonerError(f'loading an adapter needs peft: {exc} (pip install "reasoningtrack[vlm]")') from exc
        try:
            peft_model = PeftModel.from_pretrained(model, str(path))
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise ReasonerError(f"cannot apply adapter {path} to {self.config.model!r}: {exc}") from exc
        return peft_model.merge_and_unload() if self.config.merge_adapter else peft_model

    def _generation_kwargs(self) -> dict:
        cfg = self.config
        from transformers import GenerationConfig as HFGenerationConfig

        base = self.model.generation_config.to_dict()
        base.update(max_new_tokens=cfg.max_new_tokens, min_new_tokens=cfg.min_new_tokens or None)
        if cfg.temperature > 0:
            base.update(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p, top_k=None)
        else:
            base.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        for key in ("transformers_version", "_from_model_config"):
            base.pop(key, None)
        return {"generation_config": HFGenerationConfig(**base)}

    def _texts(self, requests: list[ReasoningRequest]) -> list[str]:
        cfg = self.config
        images, texts = [], []
        for request in requests:
            pair = [to_pil(request.template), to_pil(request.current)]
            messages = self.messages(request, pair)
            texts.append(self.processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
            images.append(pair)
        extra = {"size": self._image_size} if self._image_size else {}
        try:
            inputs = self.processor(
                text=texts, images=images, padding=True, padding_side="left", return_tensors="pt", **extra
            )
        except (ValueError, TypeError) as exc:
            raise ReasonerError(f"cannot prepare the model inputs: {exc}") from exc
        inputs = inputs.to(self.device)
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.dtype)
        torch = self.torch
        if cfg.temperature > 0 and cfg.seed is not None:
            torch.manual_seed(cfg.seed)
        try:
            with torch.inference_mode():
                output = self.model.generate(**inputs, **self._generation_kwargs())
        except (RuntimeError, ValueError) as exc:
            raise ReasonerError(f"generation failed on {self.device}: {exc}") from exc
        prompt_length = inputs["input_ids"].shape[1]
        new_tokens = output[:, prompt_length:]
        self.last_prompt_tokens = int(inputs["attention_mask"].sum())
        pad_id = self.processor.tokenizer.pad_token_id
        self.last_generated_tokens = int((new_tokens != pad_id).sum()) if pad_id is not None else new_tokens.numel()
        return self.processor.batch_decode(new_tokens, skip_special_tokens=True)

    def generate(self, requests: list[ReasoningRequest]) -> list[str]:
        """All requests, ``batch_size`` at a time, each chunk as one left-padded ``generate``."""
        step = self.config.batch_size
        return [text for start in range(0, len(requests), step) for text in self._texts(requests[start : start + step])]

    def close(self) -> None:
        self.model = None
        self.processor = None


def build_qwen(**options) -> QwenReasoner:
    """Registry factory: options are :class:`QwenConfig` fields (unknown ones are a ConfigError)."""
    return QwenReasoner(QwenConfig.from_dict(options, where="qwen reasoner"))


build_qwen.config_class = QwenConfig  # the options it takes (profiles fill only these)
