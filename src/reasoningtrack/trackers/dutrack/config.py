"""DUTrack configuration: the network's architecture and the test-time tracker's parameters.

Two configs because they change for different reasons: the architecture must match a checkpoint
(``dutrack-256``, ``dutrack-384`` or a JSON/YAML file such as the reference fixture's
``tiny_config.json``), the tracker parameters are the test-time choices of the official YAML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ...config import Config, ConfigError, load_yaml

__all__ = [
    "DUTrackNetConfig",
    "DUTrackTrackerConfig",
    "PRESETS",
    "load_net_config",
    "tracker_config_for",
]


@dataclass(frozen=True)
class DUTrackNetConfig(Config):
    """Hyper-parameters of the DUTrack network (Fast-iTPN backbone + text path + centre head)."""

    embed_dim: int = 512
    """Width of the attention stage (stage 3); the conv stages use embed_dim/4 and embed_dim/2."""
    depth_stage1: int = 3
    depth_stage2: int = 3
    depth: int = 24
    """Number of attention blocks."""
    num_heads: int = 8
    mlp_ratio: float = 3.0
    """SwiGLU hidden width of the attention blocks, as a multiple of embed_dim."""
    bridge_mlp_ratio: float = 3.0
    """Hidden width of the conv-MLP blocks of stages 1 and 2, as a multiple of their width."""
    patch_size: int = 16
    pretrain_img_size: int = 224
    """Image size of the pre-training; sets the unused ``pos_embed`` grid (224/16 = 14x14)."""
    template_size: int = 128
    search_size: int = 256
    text_tokens: int = 16
    vocab_size: int = 30522
    text_max_positions: int = 40
    text_type_vocab_size: int = 2
    text_norm_eps: float = 1e-12
    norm_eps: float = 1e-6
    head_channels: int = 256
    query_tokens: int = 3
    """How many output tokens are carried to the next frame as the temporal query (TOP_K)."""
    layer_scale_init: float = 0.1

    def __post_init__(self) -> None:
        for name in ("embed_dim", "depth", "num_heads", "patch_size", "template_size", "search_size",
                     "text_tokens", "vocab_size", "head_channels", "query_tokens"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"DUTrackNetConfig.{name} must be positive, got {getattr(self, name)}")
        if self.embed_dim % 4:
            raise ConfigError(f"DUTrackNetConfig.embed_dim must be divisible by 4, got {self.embed_dim}")
        if self.embed_dim % self.num_heads:
            raise ConfigError(
                f"DUTrackNetConfig.embed_dim ({self.embed_dim}) must be divisible by num_heads ({self.num_heads})"
            )
        for name in ("template_size", "search_size", "pretrain_img_size"):
            if getattr(self, name) % self.patch_size:
                raise ConfigError(
                    f"DUTrackNetConfig.{name} ({getattr(self, name)}) must be a multiple of patch_size ({self.patch_size})"
                )
        if self.patch_size != 16:
            raise ConfigError("DUTrackNetConfig.patch_size: only 16 (a 4x4 stem and two 2x2 merges) is supported")
        if self.text_tokens > self.text_max_positions or self.text_tokens > self.embed_dim:
            raise ConfigError(
                f"DUTrackNetConfig.text_tokens ({self.text_tokens}) must not exceed text_max_positions "
                f"({self.text_max_positions}) nor embed_dim ({self.embed_dim})"
            )
        if self.head_channels % 8:
            raise ConfigError(f"DUTrackNetConfig.head_channels must be divisible by 8, got {self.head_channels}")

    @property
    def template_grid(self) -> int:
        return self.template_size // self.patch_size

    @property
    def search_grid(self) -> int:
        return self.search_size // self.patch_size


PRESETS: dict[str, DUTrackNetConfig] = {
    "dutrack-256": DUTrackNetConfig(),
    "dutrack-384": DUTrackNetConfig(template_size=192, search_size=384),
}

# Constructor arguments of the official Fast-iTPN that are fixed in DUTrack: a file that sets one
# of them to another value describes a network this implementation does not build.
_FIXED_OFFICIAL_ARGS = {
    "qkv_bias": True, "convmlp": True, "naiveswiglu": True, "subln": True, "in_chans": 3,
    "qk_scale": None, "attn_head_dim": None, "patch_norm": False, "use_mean_pooling": False,
    "cls_token": False, "use_abs_pos_emb": True, "use_rel_pos_bias": False,
    "use_shared_rel_pos_bias": False, "use_shared_decoupled_rel_pos_bias": False,
    "postnorm": False, "deepnorm": False, "swiglu": False,
}
# Official arguments that only matter for training (dropout, drop-path, checkpointing).
_TRAINING_ONLY_ARGS = {"drop_path_rate", "drop_rate", "attn_drop_rate", "grad_ckpt", "stop_grad_conv1"}


def _from_official_description(data: dict, where: str) -> DUTrackNetConfig:
    """Read the reference fixture's format: official constructor arguments plus a few derived sizes."""
    args = dict(data["backbone_Fast_iTPN_args"])
    for key, expected in _FIXED_OFFICIAL_ARGS.items():
        if key in args and args.pop(key) != expected:
            raise ConfigError(f"{where}: backbone_Fast_iTPN_args.{key} must be {expected!r} for DUTrack")
    for key in _TRAINING_ONLY_ARGS:
        args.pop(key, None)
    norm = str(args.pop("norm_layer", "LayerNorm(eps=1e-6)"))
    eps = 1e-6
    if "eps=" in norm:
        try:
            eps = float(norm.split("eps=", 1)[1].rstrip(")"))
        except ValueError:
            raise ConfigError(f"{where}: cannot read the eps of norm_layer {norm!r}") from None
    mapping = {
        "img_size": "pretrain_img_size", "patch_size": "patch_size", "embed_dim": "embed_dim",
        "depth_stage1": "depth_stage1", "depth_stage2": "depth_stage2", "depth": "depth",
        "num_heads": "num_heads", "bridge_mlp_ratio": "bridge_mlp_ratio", "mlp_ratio": "mlp_ratio",
        "init_values": "layer_scale_init",
    }
    fields: dict = {"norm_eps": eps}
    for key, value in args.items():
        if key not in mapping:
            raise ConfigError(f"{where}: unknown backbone_Fast_iTPN_args entry {key!r}")
        fields[mapping[key]] = value
    unchanged = data.get("unchanged", {})
    for src, dst in (("template_size", "template_size"), ("search_size", "search_size"),
                     ("text_tokens", "text_tokens"), ("vocab_size", "vocab_size"),
                     ("bert_max_position_embeddings", "text_max_positions"),
                     ("bert_type_vocab_size", "text_type_vocab_size"),
                     ("bert_layer_norm_eps", "text_norm_eps")):
        if src in unchanged:
            fields[dst] = unchanged[src]
    top_k = unchanged.get("TOP_K (track_query tokens)")
    if top_k is not None:
        fields["query_tokens"] = top_k
    derived = data.get("derived", {})
    if "head_channels" in derived:
        fields["head_channels"] = derived["head_channels"][0]
    stride = unchanged.get("stride")
    if stride is not None and stride != fields.get("patch_size", 16):
        raise ConfigError(f"{where}: stride {stride} differs from patch_size; not a DUTrack network")
    return DUTrackNetConfig.from_dict(fields, where=where)


def load_net_config(spec: str | Path | DUTrackNetConfig | dict | None) -> DUTrackNetConfig:
    """A preset name, a JSON/YAML file (our fields or the fixture's official description), or a dict."""
    if spec is None:
        return PRESETS["dutrack-256"]
    if isinstance(spec, DUTrackNetConfig):
        return spec
    if isinstance(spec, dict):
        return DUTrackNetConfig.from_dict(spec)
    name = str(spec)
    if name.lower() in PRESETS:
        return PRESETS[name.lower()]
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"DUTrack config {name!r} is neither a preset ({', '.join(PRESETS)}) nor an existing file"
        )
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
        except OSError as exc:
            raise ConfigError(f"cannot read DUTrack config {path}: {exc}") from exc
    else:
        data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    if "backbone_Fast_iTPN_args" in data:
        return _from_official_description(data, str(path))
    return DUTrackNetConfig.from_dict(data, where=str(path))


@dataclass(frozen=True)
class DUTrackTrackerConfig(Config):
    """Test-time parameters of the official ``dutrack_256_full.yaml`` and preprocessing rules.

    The three ``official_*`` switches reproduce accidents of the official code (on by default, for
    checkpoint fidelity); turning them off gives the geometrically exact variant.
    """

    template_factor: float = 2.0
    template_size: int = 128
    search_factor: float = 4.0
    search_size: int = 256
    template_number: int = 3
    """Templates chosen from memory besides the first one (so up to template_number + 1)."""
    memory_threshold: int = 1000
    """Official: beyond this many stored templates old ones move to CPU. Here the memory is always
    held as uint8 crops on the CPU, so it has no effect on results (kept for config compatibility)."""
    ce_loc: tuple[int, ...] = (3, 6, 9)
    """Official candidate-elimination layers: masks are built but never used at test time (no effect)."""
    hanning: bool = True
    clip_margin: float = 10.0
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    official_crop_rounding: bool = True
    """Python ``round`` (half to even) for the crop corner; False rounds halves up."""
    official_border_pixel: bool = True
    """A crop that touches/passes the right or bottom edge loses the last image column/row."""
    official_float32_box_scaling: bool = True
    """Scale the normalised box to pixels in float32 (as the official code); False uses float64."""
    score: Literal["raw_max", "hann_max"] = "raw_max"
    """Confidence reported with each box: the raw score map's maximum or the Hann-weighted one."""

    def __post_init__(self) -> None:
        for name in ("template_factor", "search_factor"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"DUTrackTrackerConfig.{name} must be positive, got {getattr(self, name)}")
        for name in ("template_size", "search_size", "template_number"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"DUTrackTrackerConfig.{name} must be positive, got {getattr(self, name)}")
        if any(s <= 0 for s in self.std):
            raise ConfigError(f"DUTrackTrackerConfig.std must be positive, got {self.std}")


def tracker_config_for(net: DUTrackNetConfig, overrides: dict | None = None) -> DUTrackTrackerConfig:
    """The official test-time parameters with crop sizes following the network's input sizes."""
    base = {"template_size": net.template_size, "search_size": net.search_size}
    base.update(overrides or {})
    cfg = DUTrackTrackerConfig.from_dict(base)
    if cfg.template_size != net.template_size or cfg.search_size != net.search_size:
        raise ConfigError(
            f"tracker crop sizes ({cfg.template_size}, {cfg.search_size}) must equal the network's input sizes "
            f"({net.template_size}, {net.search_size})"
        )
    return cfg
