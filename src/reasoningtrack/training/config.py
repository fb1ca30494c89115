"""Typed configs of the training pipeline: sample building, teacher, rewards, SFT and GRPO.

Every value has a documented default taken from the ReasoningTrack release where the release
states one (docs/training.md, docs/fidelity.md), and every value can be overridden from a YAML file or from
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
    "resolve_config",
    "print_config",
]

#: Weight of the shaped IoU reward in the ``paper`` profile (the default). ASSUMPTION: the paper
#: names the IoU reward but not its weight (the release ships 0). Chosen by the toy reward-weight
#: comparison (``reasoningtrack dev toy-ablation``, docs/training.md section 7b): with format 0.1,
#: strict 0.1, judge 0.15 and IoU weight 0 / 0.1 / 0.25 / 0.5 / 1.0, 0.5 gave the best held-out
#: tracking IoU and total (seed 0, 40 GRPO steps; a small measurement, stated as such).
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

    #: The method profile this config was resolved from (``reasoningtrack.profiles``).
    profile: str = "paper"
    dataset: str = "synthetic"
    root: str | None = None
    #: Prefix of the sample ids (default: the dataset name); must differ between folders trained together.
    name: str | None = None
    split: str = "train"
    dataset_options: dict = field(default_factory=dict)
    sequences: list[str] = field(default_factory=list)
    pairs_per_sequence: int = 4
    min_gap: int = 100
    max_gap: int = 500
    backbone: str = "dutrack"
    backbone_options: dict = field(default_factory=dict)
    track_steps: int = 1
    #: Stored frames are downscaled (boxes with them) until width x height <= max_pixels; 0 (the
    #: release) keeps full resolution: labels and the IoU reward run on full-resolution frames and
    #: only the VLM's processor resizes (``grpo.min_pixels``/``max_pixels``).
    max_pixels: int = 0
    seed: int = 0
    shard_size: int = 64
    #: Share of d=yes samples to keep where the decision is known (``label_update`` or a teacher
    #: output): None keeps all; the release's SFT data has 70% (see :func:`samples.balance_yes_share`).
    yes_share: float | None = None

    def __post_init__(self):
        if self.pairs_per_sequence < 1:
            raise ConfigError(f"pairs_per_sequence must be >= 1, got {self.pairs_per_sequence}")
        if self.min_gap < 1 or self.max_gap < self.min_gap:
            raise ConfigError(f"need 1 <= min_gap <= max_gap, got min_gap={self.min_gap}, max_gap={self.max_gap}")
        if self.track_steps < 1:
            raise ConfigError(f"track_steps must be >= 1, got {self.track_steps}")
        if self.shard_size < 1:
            raise ConfigError(f"shard_size must be >= 1, got {self.shard_size}")
        if self.yes_share is not None and not 0.0 < self.yes_share < 1.0:
            raise ConfigError(f"yes_share must be in (0, 1) or null, got {self.yes_share}")


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
    """Weights and options of the GRPO rewards (docs/training.md).

    total = format_weight * format + strict_weight * strict + iou_weight * shaped IoU
    + judge_weight * judge. The release ships 0.1 / 0.1 / 0 / 0.15 (``--profile release``).
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
        """The rewards of a named profile (``release``: IoU weight 0 as shipped; ``paper``)."""
        from ..profiles import load_profile

        base = cls.from_dict(load_profile(name)["grpo"].get("rewards") or {})
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
    #: The method profile this config was resolved from (``reasoningtrack.profiles``).
    profile: str = "paper"
    model: str = "Qwen/Qwen2.5-VL-3B-Instruct"
    output_dir: str = "runs/reasoner"
    #: Prompt preset name or YAML file (None: the package default, as the reasoner uses).
    prompt: str | None = None
    lora: LoraSettings = field(default_factory=LoraSettings)
    #: Vision tower frozen (the release trains it; on small data, freezing it is safer).
    freeze_vision: bool = False
    #: The processor resizes images to min_pixels <= width x height <= max_pixels (0: its default).
    max_pixels: int = 512 * 512
    min_pixels: int = 0
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
    """Supervised fine-tuning on teacher chain-of-thought, as the release's LLaMA-Factory run
    (``Supervise fine-tuning/training_args.yaml``): full fine-tuning, lr 5e-5 cosine, no warm-up,
    3 epochs, batch 1 x accumulation 8, cutoff 4096, template qwen2_vl. The release sets no
    ``freeze_vision_tower``, so LLaMA-Factory's defaults applied: vision tower and projector
    (Qwen2.5-VL's ``visual`` incl. its merger) frozen, images 32x32..768x768 pixels."""

    freeze_vision: bool = True
    max_pixels: int = 768 * 768
    min_pixels: int = 32 * 32
    #: ``llamafactory``: the release's layout (no system turn, so the qwen2_vl template's default
    #: system text; one user turn = instruction, a newline, the two images, the description);
    #: ``inference``: the messages the reasoner is asked with at inference (``prompt``).
    conversation: Literal["llamafactory", "inference"] = "llamafactory"
    #: For ``llamafactory`` rows that carry no instruction of their own (taught samples): a
    #: built-in instruction name (``release-sft``, ``release-sft-no-d``) or a text file.
    instruction: str = "release-sft"
    max_length: int | None = 4096

    def __post_init__(self):
        self._check_common()


@dataclass
class GRPOConfig(_TrainCommon):
    """GRPO with format / strict / IoU / judge rewards, the release's EasyR1 run mapped onto TRL
    (``Reinforcement Learning/examples/config.yaml`` and the run script): group 5, temperature
    1.0, top-p 0.99, lr 1e-6 constant, weight decay 1e-2, low-variance KL 1e-2 as a loss, clip
    0.2/0.3, 256 prompts per rollout, 128 per optimiser step, completions up to 2048 tokens,
    prompts up to 4096, images 59536..262144 pixels, 2 epochs, full fine-tuning with the vision
    tower trainable, token-mean loss. docs/training.md lists what TRL cannot express."""

    num_train_epochs: float = 2.0
    learning_rate: float = 1e-6
    lr_scheduler_type: str = "constant"
    weight_decay: float = 1e-2
    max_pixels: int = 262144
    min_pixels: int = 59536
    #: Completions per micro-batch (EasyR1's micro_batch_size_per_device_for_update is 4; with a
    #: token-mean loss it changes memory, not the result).
    per_device_train_batch_size: int = 4
    #: 0: derived, = prompts_per_step x num_generations / (per_device_train_batch_size x processes).
    gradient_accumulation_steps: int = 0
    #: Prompts whose completions are generated at once (EasyR1's rollout_batch_size).
    prompts_per_rollout: int = 256
    #: Prompts per optimiser step (EasyR1's actor global_batch_size); 256/128 = 2 steps per rollout.
    prompts_per_step: int = 128
    num_generations: int = 5
    beta: float = 1e-2
    epsilon: float = 0.2
    epsilon_high: float = 0.3
    temperature: float = 1.0
    top_p: float = 0.99
    max_completion_length: int = 2048
    #: Prompts longer than this (in tokens, images included) are dropped before training, as
    #: EasyR1's filter_overlong_prompts does (TRL has no prompt limit of its own).
    max_prompt_length: int | None = 4096
    #: TRL's loss aggregation; "dapo" = mean over all completion tokens of the optimiser batch
    #: (EasyR1's token-mean). "grpo" (per-sequence mean) and the others are opt-ins.
    loss_type: str = "dapo"
    #: ``release``: one user turn "<image><image>response based on the system prompts, the initial
    #: language description is {desc}" + " " + the system prompt (EasyR1's format prompt);
    #: ``inference``: the messages the reasoner is asked with at inference (``prompt``).
    prompt_layout: Literal["release", "inference"] = "release"
    rewards: RewardConfig = field(default_factory=RewardConfig)
    #: Generate the rollouts with vLLM (TRL's ``use_vllm``; needs vLLM, i.e. a GPU machine):
    #: ``colocate`` runs vLLM inside every training process; ``server`` asks a separate
    #: ``trl vllm-serve`` process (docs/cluster.md). The ``vllm_*`` keys are TRL's, passed as they are.
    use_vllm: bool = False
    vllm_mode: Literal["server", "colocate"] = "colocate"
    vllm_server_base_url: str | None = None
    vllm_server_host: str = "0.0.0.0"
    vllm_server_port: int = 8000
    vllm_server_timeout: float = 240.0
    vllm_gpu_memory_utilization: float = 0.3
    vllm_tensor_parallel_size: int = 1
    vllm_max_model_length: int | None = None
    vllm_enable_sleep_mode: bool = False

    def vllm_arguments(self) -> dict:
        """The vLLM settings as TRL's ``GRPOConfig`` takes them (only what applies to the mode)."""
        args = {"use_vllm": self.use_vllm, "vllm_mode": self.vllm_mode}
        if not self.use_vllm:
            return args
        if self.vllm_mode == "server":
            args.update(vllm_server_base_url=self.vllm_server_base_url, vllm_server_host=self.vllm_server_host,
                        vllm_server_port=self.vllm_server_port, vllm_server_timeout=self.vllm_server_timeout)
        else:
            args.update(vllm_gpu_memory_utilization=self.vllm_gpu_memory_utilization,
                        vllm_tensor_parallel_size=self.vllm_tensor_parallel_size,
                        vllm_max_model_length=self.vllm_max_model_length)
        args["vllm_enable_sleep_mode"] = self.vllm_enable_sleep_mode
        return args

    def __post_init__(self):
        if self.per_device_train_batch_size < 1 or self.gradient_accumulation_steps < 0:
            raise ConfigError("per_device_train_batch_size must be >= 1 and gradient_accumulation_steps >= 0")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.num_generations < 2:
            raise ConfigError(f"num_generations must be >= 2 (GRPO compares a group), got {self.num_generations}")
        if self.beta < 0:
            raise ConfigError(f"beta must be >= 0, got {self.beta}")
        if self.prompts_per_step < 1 or self.prompts_per_rollout < self.prompts_per_step:
            raise ConfigError(
                f"need 1 <= prompts_per_step <= prompts_per_rollout, got {self.prompts_per_step} and {self.prompts_per_rollout}"
            )
        if not 0 < self.vllm_gpu_memory_utilization <= 1:
            raise ConfigError(f"vllm_gpu_memory_utilization must be in (0, 1], got {self.vllm_gpu_memory_utilization}")
        if self.vllm_tensor_parallel_size < 1:
            raise ConfigError(f"vllm_tensor_parallel_size must be >= 1, got {self.vllm_tensor_parallel_size}")
        if self.prompts_per_rollout % self.prompts_per_step:
            raise ConfigError(
                f"prompts_per_rollout ({self.prompts_per_rollout}) must be a multiple of prompts_per_step ({self.prompts_per_step})"
            )

    @classmethod
    def from_dict(cls, data: dict | None, *, where: str = ""):
        """Also accepts ``reward_weights: [format, strict, iou, judge]`` (what ``--print-config``
        prints) and ignores a ``derived:`` section (printed for information)."""
        data = dict(data or {})
        data.pop("derived", None)
        weights = data.pop("reward_weights", None)
        if weights is not None:
            if not isinstance(weights, (list, tuple)) or len(weights) != 4:
                raise ConfigError(f"{where or 'GRPOConfig'}: reward_weights must be 4 numbers (format, strict, iou, judge), got {weights!r}")
            names = ("format_weight", "strict_weight", "iou_weight", "judge_weight")
            rewards = dict(data.get("rewards") or {})
            rewards.update(zip(names, weights))
            data["rewards"] = rewards
        return super().from_dict(data, where=where)

    def batch_plan(self, num_processes: int = 1) -> dict:
        """TRL's batch settings for ``num_processes`` processes: completions per optimiser step
        = per_device_train_batch_size x processes x gradient_accumulation_steps."""
        per_step = self.prompts_per_step * self.num_generations
        per_rollout = self.prompts_per_rollout * self.num_generations
        micro = self.per_device_train_batch_size * num_processes
        if per_step % micro or per_rollout % micro:
            raise ConfigError(
                f"{self.prompts_per_step} prompts per step x {self.num_generations} generations = {per_step} completions "
                f"(and {per_rollout} per rollout) must be divisible by per_device_train_batch_size x processes = {micro}"
            )
        accumulation = per_step // micro
        if self.gradient_accumulation_steps and self.gradient_accumulation_steps != accumulation:
            raise ConfigError(
                f"gradient_accumulation_steps = {self.gradient_accumulation_steps} contradicts prompts_per_step = "
                f"{self.prompts_per_step} (which needs {accumulation} with {num_processes} process(es)); set it to 0"
            )
        return {
            "gradient_accumulation_steps": accumulation,
            "steps_per_generation": per_rollout // micro,
            "generation_batch_size": per_rollout,
            "optimizer_steps_per_rollout": self.prompts_per_rollout // self.prompts_per_step,
            "num_processes": num_processes,
        }


_SECTION_OF = {SampleConfig: "data", SFTConfig: "sft", GRPOConfig: "grpo"}


def resolve_config(cls, *, profile: str | None = None, file_data: dict | None = None, overrides: dict | None = None,
                   direct: dict | None = None, where: str = ""):
    """One config from, in increasing priority: the profile's section, a YAML file's mapping,
    ``--set`` overrides, the command's own options (those not None). A file that names a
    ``profile:`` selects it unless ``profile`` is given."""
    from ..config import deep_merge
    from ..profiles import DEFAULT_PROFILE, load_profile

    file_data = dict(file_data or {})
    overrides = dict(overrides or {})
    recorded = file_data.get("profile")
    if profile and recorded and str(profile).strip().lower() != str(recorded).strip().lower():
        raise ConfigError(
            f"{where or 'the config file'} was resolved with profile {recorded!r} but --profile {profile!r} was given; "
            "drop one (the file keeps the other profile's rules)"
        )
    name = profile or overrides.get("profile") or recorded or DEFAULT_PROFILE
    base = load_profile(name)[_SECTION_OF[cls]] if cls in _SECTION_OF else {}
    data = deep_merge(deep_merge(deep_merge(base, file_data), overrides), {k: v for k, v in (direct or {}).items() if v is not None})
    data["profile"] = str(name).strip().lower()
    return cls.from_dict(data, where=where)


def print_config(cfg) -> str:
    """The resolved config as YAML. For GRPO: TRL's key names for TRL's settings, the four reward
    weights as ``reward_weights`` (format, strict, iou, judge) and, under ``derived``, TRL's batch
    settings for one process (ignored when the file is loaded back)."""
    import yaml

    data = cfg.to_dict()
    if isinstance(cfg, GRPOConfig):
        rewards = data.pop("rewards")
        weights = [rewards.pop(k) for k in ("format_weight", "strict_weight", "iou_weight", "judge_weight")]
        out = {}
        for key, value in data.items():
            out[key] = value
            if key == "prompts_per_step":
                out["reward_weights"] = weights
        out["rewards"] = rewards
        out["derived"] = cfg.batch_plan(1)
        data = out
    return yaml.safe_dump(data, sort_keys=False)
