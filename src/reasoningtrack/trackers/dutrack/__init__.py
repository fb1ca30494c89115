"""DUTrack (CVPR 2025) as a ReasoningTrack backbone: a checkpoint-compatible PyTorch network and
the official test-time tracker, numerically identical to the official code on its reference
fixture. ``build_dutrack(**options)`` is the registry factory (``--backbone dutrack``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from ...config import Config, ConfigError
from ..base import BackboneError
from .config import PRESETS, DUTrackNetConfig, DUTrackTrackerConfig, load_net_config, tracker_config_for

__all__ = [
    "build_dutrack", "build_network", "DUTrackOptions", "DUTrackNetConfig", "DUTrackTrackerConfig", "PRESETS",
    "load_net_config",
]

log = logging.getLogger(__name__)

_DTYPES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16", "bf16": "bfloat16",
           "float16": "float16", "fp16": "float16"}


@dataclass
class DUTrackOptions(Config):
    """Options of ``--backbone dutrack`` (``--checkpoint``, ``--backbone-config``, ``--backbone-opt k=v``).

    Any field of :class:`DUTrackTrackerConfig` (e.g. ``hanning``, ``clip_margin``) is also accepted
    as an option and overrides the official test-time value.
    """

    checkpoint: str | None = None
    """An official checkpoint (``net`` key) or a bare state dict. Required unless random_init."""
    config: str = "dutrack-256"
    """Architecture: a preset (dutrack-256, dutrack-384) or a JSON/YAML file."""
    vocab: str | None = None
    """BERT vocabulary: a vocab.txt, a tokenizer folder or a hub name. Default: a vocab.txt /
    vocab-bert-base-uncased.txt beside the checkpoint or the architecture file, else the hub's
    bert-base-uncased."""
    lowercase: bool | None = None
    """Lower-case the text; default: true unless the vocab file is a cased one."""
    device: str = "auto"
    dtype: str = "float32"
    compile: bool = False
    threads: int | None = None
    attention: Literal["explicit", "sdpa"] = "explicit"
    """Attention of the reference kernels: ``sdpa`` uses PyTorch's fused attention (equal within
    float tolerance, not bit-exact). The fast kernels always use the fused attention."""
    kernels: Literal["fast", "reference", "onnxruntime"] = "reference"
    """``reference`` (default): the plain module, as the official code computes it (bit-exact
    traces). ``fast``: fused GEMMs and attention, channels-last convolutions, cached text tokens
    (trackers/dutrack/fast.py; same outputs up to float32 re-association, the official traces
    within 1e-4 px); measured 1.07x the forward and 1.11x ``track()`` on an idle 2-core CPU
    (docs/dutrack.md), too little to give up bit-exactness by default. ``onnxruntime``: the
    per-frame network exported from the plain module and run by ONNX Runtime (CPU, float32; extra
    ``reasoningtrack[onnx]``; exported once when the backbone is built, ~6 s and ~1 GB more memory
    for dutrack-256; same tolerances as fast; 1.2-1.3x the plain path on this 2-core CPU)."""
    strict: bool = True
    random_init: bool = False
    """Random weights, no checkpoint: only for speed measurements."""
    seed: int = 0


def build_network(config: str | DUTrackNetConfig | None = "dutrack-256", checkpoint: str | None = None,
                  strict: bool = True, random_init: bool = False, seed: int = 0, attention: str = "explicit"):
    """The network from an architecture config, with weights from ``checkpoint`` (on CPU, float32)."""
    import torch

    from .checkpoint import check_state_dict, load_checkpoint, read_state_dict
    from .model import DUTrackNet

    cfg = load_net_config(config)
    if checkpoint is None and not random_init:
        raise ConfigError("DUTrack needs a checkpoint (--checkpoint FILE); random_init=true only for benchmarks")
    if checkpoint is not None and strict:
        # Build without memory, then adopt the checkpoint's tensors: no random init of 105M numbers.
        state = read_state_dict(checkpoint)
        with torch.device("meta"):
            net = DUTrackNet(cfg, attention=attention)  # type: ignore[arg-type]
        given = check_state_dict(net, state, str(checkpoint))
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in given.items()},
                            strict=True, assign=True)
        return net.eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = DUTrackNet(cfg, attention=attention)  # type: ignore[arg-type]
        if random_init:
            _randomise(net)
    if checkpoint is not None:
        notes = load_checkpoint(net, checkpoint, strict=strict)
        if notes:
            log.warning("DUTrack checkpoint %s loaded non-strictly: %s", checkpoint, notes)
    return net.eval()


def _randomise(net) -> None:
    """Plausible random weights (a fresh build has zero position tables and unit norms)."""
    import torch

    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if tensor.is_floating_point() and ("pos_embed" in name or "temporal_token" in name):
                tensor.normal_(0, 0.02)


def _resolve_device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise BackboneError(f"device {name!r} requested but CUDA is not available")
    return name


def build_dutrack(**options):
    """Registry factory: ``BACKBONES.build("dutrack", checkpoint=..., config=..., vocab=...)``."""
    import torch

    from .tokenizer import TextTokenizer, vocab_beside
    from .tracker import DUTrackBackbone

    tracker_fields = {f.name for f in fields(DUTrackTrackerConfig)}
    tracker_overrides = {k: options.pop(k) for k in list(options) if k in tracker_fields}
    loading_fields = {f.name for f in fields(DUTrackOptions)}
    unknown = sorted(set(options) - loading_fields)
    if unknown:  # one list of everything --backbone-opt accepts, not just the loading options
        raise ConfigError(
            f"dutrack: unknown option(s) {unknown}; valid options: loading {sorted(loading_fields)}, "
            f"test-time tracker {sorted(tracker_fields)}")
    opts = DUTrackOptions.from_dict(options, where="dutrack")
    dtype_name = _DTYPES.get(str(opts.dtype).lower())
    if dtype_name is None:
        raise ConfigError(f"dutrack.dtype: {opts.dtype!r} is not one of float32, bfloat16, float16")
    device = _resolve_device(opts.device)
    if dtype_name == "float16" and device == "cpu":
        raise ConfigError("dutrack.dtype float16 is only supported on CUDA; use bfloat16 on CPU")
    if opts.threads is not None:
        if opts.threads <= 0:
            raise ConfigError(f"dutrack.threads must be positive, got {opts.threads}")
        torch.set_num_threads(opts.threads)
    net = build_network(opts.config, opts.checkpoint, opts.strict, opts.random_init, opts.seed, opts.attention)
    tracker_cfg = tracker_config_for(net.cfg, tracker_overrides)
    vocab = opts.vocab
    if vocab is None:  # a checkpoint folder may carry its vocabulary (works offline)
        config_file = opts.config if opts.config and Path(str(opts.config)).is_file() else None
        vocab = vocab_beside(opts.checkpoint, config_file, lowercase=opts.lowercase)
    tokenizer = TextTokenizer.from_options(vocab, opts.lowercase, net.cfg.text_tokens)
    return DUTrackBackbone(net, tokenizer, tracker_cfg, device=device, dtype=getattr(torch, dtype_name),
                           compile=opts.compile, kernels=opts.kernels)
