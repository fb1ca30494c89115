"""Typed configs of the training pipeline: sample building, teacher, rewards, SFT and GRPO.

Every value has a documented default taken from the ReasoningTrack release where the release
states one (DESIGN.md section 4), and every value can be overridden from a YAML file or from
``key=value`` overrides on the command line. The names end in ``...Settings``/``...Config`` of our
own; TRL's classes of the same purpose are imported under other names where they are needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..config import Config, ConfigError

__all__ = [
    "SampleConfig",
    "TeacherConfig",
    "RewardConfig",
    "LoraSettings",
    "SFTConfig",
    "GRPOConfig",
    "DEFAULT_IOU_WEIGHT",
    "RELEASE_IOU_WEIGHT",
]

#: Weight of the shaped IoU reward in the total. Non-zero so that the tracker-grounded signal the
#: paper describes is present; 0.5 makes the best IoU worth a little more than the three other
#: rewards together (0.1 + 0.1 + 0.15 = 0.35), so a description that helps the tracker is the main
#: goal while a well-formed, well-judged answer still counts. The paper does not publish its value.
DEFAULT_IOU_WEIGHT = 0.5
#: The release's ``iou_weight`` (it shipped the IoU reward switched off).
RELEASE_IOU_WEIGHT = 0.0


@dataclass
class SampleConfig(Config):
    """Frame pairs drawn from a dataset's training split, labelled by one run of the frozen backbone.

    The release's pairs are hundreds of frames apart, hence ``min_gap``/``max_gap``. ``track_steps``
    = 1 is the release's rule (initialise on frame 1, one ``track`` on frame 2); k > 1 tracks through
    k - 1 evenly spaced frames in between, which are stored in the ``between_images`` column so that
    the IoU reward can repeat the same run.
    """

    dataset: str = "synthetic"
    root: str | None = None
    split: str = "train"
    dataset_options: dict = field(default_factory=dict)
    sequences: list[str] = field(default_factory=list)
    pairs_per_sequence: int = 4
    min_gap: int = 100
    max_gap: int = 500
    backbone: str = "dutrack"
    backbone_options: dict = field(default_factory=dict)
    track_steps: int = 1
    #: Frames are downscaled (boxes with them) until width x height <= max_pixels; 0 keeps them.
    max_pixels: int = 512 * 512
    seed: int = 0
    shard_size: int = 64

    def __post_init__(self):
        if self.pairs_per_sequence < 1:
            raise ConfigError(f"pairs_per_sequence must be >= 1, got {self.pairs_per_sequence}")
        if self.min_gap < 1 or self.max_gap < self.min_gap:
            raise ConfigError(f"need 1 <= min_gap <= max_gap, got min_gap={self.min_gap}, max_gap={self.max_gap}")
        if self.track_steps < 1:
            raise ConfigError(f"track_steps must be >= 1, got {self.track_steps}")
        if self.shard_size < 1:
            raise ConfigError(f"shard_size must be >= 1, got {self.shard_size}")


@dataclass
class TeacherConfig(Config):
    """A teacher reasoner asked for ``<think>/<d>/<answer>`` on every sample.

    Only strictly parsed answers are kept. ``backbone`` labels IoU(new text) with the same rule the
    samples were built with; it should be the backbone that built them.
    """

    reasoner: str = "openai"
    reasoner_options: dict = field(default_factory=dict)
    backbone: str = "dutrack"
    backbone_options: dict = field(default_factory=dict)
    #: Prompt preset name or YAML file (None: the package default, as the reasoner uses).
    prompt: str | None = None
    keep_non_strict: bool = False
    shard_size: int = 32


@dataclass
class RewardConfig(Config):
    """Weights and options of the GRPO rewards (DESIGN.md section 4).

    total = format_weight * format + strict_weight * strict + iou_weight * shaped IoU
    + judge_weight * judge. ``preset: release`` sets ``iou_weight`` to the release's 0.
    """

    format_weight: float = 0.1
    strict_weight: float = 0.1
    iou_weight: float = DEFAULT_IOU_WEIGHT
    judge_weight: float = 0.15
    #: Shaping of the IoU reward: ``iou if iou > iou_threshold else iou / 2``.
    iou_threshold: float = 0.61
    #: ``d=yes`` is judged right only when IoU(new) > IoU(old) + judge_margin (0 = the release).
    judge_margin: float = 0.0
    backbone: str = "dutrack"
    backbone_options: dict = field(default_factory=dict)
    cache_size: int = 4096

    @classmethod
    def preset(cls, name: str, **changes) -> "RewardConfig":
        """``paper`` (our defaults, IoU on) or ``release`` (the released weights, IoU off)."""
        if name == "paper":
            base = cls()
        elif name == "release":
            base = cls(iou_weight=RELEASE_IOU_WEIGHT)
        else:
            raise ConfigError(f"unknown reward preset {name!r}; available: ['paper', 'release']")
        return base.replace(**changes) if changes else base

    def weights(self) -> list[float]:
        """In the order of :func:`reasoningtrack.training.rewards.build_reward_functions`."""
        return [self.format_weight, self.strict_weight, self.iou_weight, self.judge_weight]


@dataclass
class LoraSettings(Config):
    """LoRA through PEFT; ``enabled: false`` means full fine-tuning (the release's choice)."""

    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    #: Merge the adapter into the base weights when saving (one folder, no PEFT needed to load).
    merge: bool = False


@dataclass
class _TrainCommon(Config):
    model: str = "Qwen/Qwen2.5-VL-3B-Instruct"
    output_dir: str = "runs/reasoner"
    #: Prompt preset name or YAML file (None: the package default, as the reasoner uses).
    prompt: str | None = None
    lora: LoraSettings = field(default_factory=LoraSettings)
    #: Vision tower frozen (the release trains it; on small data, freezing it is safer).
    freeze_vision: bool = False
    #: Images are downscaled so that width x height <= max_pixels (the release: 512 x 512).
    max_pixels: int = 512 * 512
    num_train_epochs: float = 3.0
    max_steps: int = -1
    learning_rate: float = 5e-5
    lr_scheduler_type: str = "cosine"
    #: Warm-up: a number of steps, or a fraction of all steps when below 1.
    warmup_steps: float = 0.0
    weight_decay: float = 0.0
    per_device_train_batch_size: int = 1
    gradient_accumulation_steps: int = 8
    max_grad_norm: float = 1.0
    gradient_checkpointing: bool = False
    #: ``auto``: bf16 on a GPU that supports it, fp32 on CPU (with a message).
    precision: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    logging_steps: int = 1
    save_steps: int = 0
    save_total_limit: int = 1
    seed: int = 0
    report_to: list[str] = field(default_factory=list)
    dataloader_num_workers: int = 0
    optim: str = "adamw_torch"
    #: Extra keyword arguments passed to the TRL config as they are (any TRL option).
    trl_options: dict = field(default_factory=dict)
    #: CPU threads for torch during the run (None: torch's default). On a shared CPU, 1 avoids
    #: threads spin-waiting on each other (7x faster measured for a tiny model under load).
    torch_threads: int | None = None

    def _check_common(self):
        if self.per_device_train_batch_size < 1 or self.gradient_accumulation_steps < 1:
            raise ConfigError("per_device_train_batch_size and gradient_accumulation_steps must be >= 1")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate}")


@dataclass
class SFTConfig(_TrainCommon):
    """Supervised fine-tuning on teacher chain-of-thought (release: lr 5e-5 cosine, 3 epochs,
    effective batch 8, full fine-tune)."""

    max_length: int | None = 2048

    def __post_init__(self):
        self._check_common()


@dataclass
class GRPOConfig(_TrainCommon):
    """GRPO with format / strict / IoU / judge rewards (release: group 5, lr 1e-6, KL 1e-2,
    temperature 1.0, top-p 0.99, images <= 512 x 512, 2 epochs, full fine-tune)."""

    num_train_epochs: float = 2.0
    learning_rate: float = 1e-6
    lr_scheduler_type: str = "constant"
    per_device_train_batch_size: int = 5
    gradient_accumulation_steps: int = 1
    num_generations: int = 5
    beta: float = 1e-2
    epsilon: float = 0.2
    epsilon_high: float = 0.3
    temperature: float = 1.0
    top_p: float = 0.99
    max_completion_length: int = 256
    #: TRL's loss aggregation: "grpo" (per-sequence mean, the GRPO paper), or "dapo", "dr_grpo", ...
    loss_type: str = "grpo"
    rewards: RewardConfig = field(default_factory=RewardConfig)
    use_vllm: bool = False
    vllm_mode: Literal["server", "colocate"] = "colocate"

    def __post_init__(self):
        self._check_common()
        if self.num_generations < 2:
            raise ConfigError(f"num_generations must be >= 2 (GRPO compares a group), got {self.num_generations}")
        if self.beta < 0:
            raise ConfigError(f"beta must be >= 0, got {self.beta}")
