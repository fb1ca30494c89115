"""Typed configuration of the tracking pipeline: when to reason, how answers change the text, which
images the reasoner sees, and whether reasoning blocks tracking.

Every field is loadable from YAML and overridable from the CLI (``--set schedule.interval.every=50``).
The defaults follow the paper (fixed interval u = 100, the release's ``initial`` text policy, the
first frame as template, synchronous reasoning).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ..config import Config, ConfigError
from ..profiles import DEFAULT_PROFILE, PROFILES

__all__ = [
    "IntervalConfig",
    "MotionConfig",
    "MotionGateConfig",
    "ConfidenceConfig",
    "ScheduleConfig",
    "PolicyConfig",
    "TemplateConfig",
    "PipelineConfig",
    "TrackRunConfig",
    "BenchmarkConfig",
    "TRIGGER_NAMES",
    "POLICY_NAMES",
]

TRIGGER_NAMES = ("interval", "motion", "confidence")
POLICY_NAMES = ("static", "initial", "cascaded", "dynamic+static")


def _check_profile(name: str) -> None:
    if name not in PROFILES:
        raise ConfigError(f"profile: unknown profile {name!r}; valid profiles: {list(PROFILES)}")


@dataclass(frozen=True)
class IntervalConfig(Config):
    """Reason on frames ``every, 2*every, ...`` (0-based frame indices; frame 0 is the init frame)."""

    every: int = 100

    def __post_init__(self):
        if self.every < 1:
            raise ConfigError(f"schedule.interval.every must be >= 1, got {self.every}")


@dataclass(frozen=True)
class MotionConfig(Config):
    """The release's trigger: look every ``check_every`` frames; reason when the box changed.

    At a check frame the current box is compared with the reference box (the init box, replaced by
    the current box each time the gate fires, and only then): it fires when ``min(area_now,
    area_ref) / max(area_now, area_ref) < area_ratio`` or the Euclidean distance between the two
    top-left corners exceeds ``shift_fraction`` times the image height or times the image width.
    Defaults and rule: the release's DUTrack tracker file (``ifupdata``); see docs/fidelity.md.
    """

    check_every: int = 10
    area_ratio: float = 0.95
    shift_fraction: float = 1.0 / 32.0

    def __post_init__(self):
        if self.check_every < 1:
            raise ConfigError(f"schedule.motion.check_every must be >= 1, got {self.check_every}")
        if not 0.0 < self.area_ratio <= 1.0:
            raise ConfigError(f"schedule.motion.area_ratio must be in (0, 1], got {self.area_ratio}")
        if not self.shift_fraction >= 0:  # NaN fails too
            raise ConfigError(f"schedule.motion.shift_fraction must be >= 0, got {self.shift_fraction}")


#: Former name of :class:`MotionConfig`.
MotionGateConfig = MotionConfig


@dataclass(frozen=True)
class ConfidenceConfig(Config):
    """Reason when the backbone's score falls below ``threshold`` or below ``(1 - drop_ratio)`` times
    a running reference (an exponential average of earlier scores with weight ``momentum`` on the
    past). After firing it stays quiet for ``cooldown`` frames so that a long low-score stretch does
    not ask on every frame. Backbones without a score never fire it."""

    threshold: float = 0.3
    drop_ratio: float = 0.5
    momentum: float = 0.9
    cooldown: int = 10

    def __post_init__(self):
        if not math.isfinite(self.threshold):
            raise ConfigError(f"schedule.confidence.threshold must be a finite number, got {self.threshold}")
        if not 0.0 <= self.drop_ratio <= 1.0:
            raise ConfigError(f"schedule.confidence.drop_ratio must be in [0, 1], got {self.drop_ratio}")
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"schedule.confidence.momentum must be in [0, 1), got {self.momentum}")
        if self.cooldown < 0:
            raise ConfigError(f"schedule.confidence.cooldown must be >= 0, got {self.cooldown}")


@dataclass(frozen=True)
class ScheduleConfig(Config):
    """Which triggers ask the reasoner, and how they combine (``any``: one suffices; ``all``: every
    listed trigger must fire on the same frame). An empty ``triggers`` list never reasons."""

    triggers: list[str] = field(default_factory=lambda: ["interval"])
    combine: Literal["any", "all"] = "any"
    interval: IntervalConfig = field(default_factory=IntervalConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    confidence: ConfidenceConfig = field(default_factory=ConfidenceConfig)

    def __post_init__(self):
        names = []
        for name in self.triggers:
            key = str(name).strip().lower()
            if key in ("", "none", "never"):
                continue
            if key not in TRIGGER_NAMES:
                raise ConfigError(f"schedule.triggers: unknown trigger {name!r}; valid: {list(TRIGGER_NAMES)}")
            if key not in names:
                names.append(key)
        object.__setattr__(self, "triggers", names)  # normalised once, at load time


@dataclass(frozen=True)
class PolicyConfig(Config):
    """How a reasoning answer changes the text the backbone uses.

    ``order`` (dynamic+static only): ``dynamic-first`` puts the reasoner's answer first so that it
    survives a short text window and the initial description fills what is left; ``static-first``
    does the opposite (the initial description always survives); ``fit`` puts the answer first,
    shortened from its end just enough for the whole initial description to fit the window too.

    ``on_failure``: after a reasoner error, a timeout or an unusable output, ``revert`` to the
    initial description (the release's rule: Evaluation/i2d.py falls back to the initial text in
    every case but a usable ``d=yes``) or ``keep`` the text in use (ours, opt-in).

    ``max_answer_chars``: an answer longer than this (after whitespace is collapsed), or one with
    control characters, never becomes tracking text; it counts as unusable output. The 500
    default is our assumption, not the paper's: a description is one sentence (the release's
    prompts ask for one, DUTrack reads 14 word-pieces of it), 500 characters is about 80 words,
    far above any real description and far below a runaway generation.
    """

    kind: Literal["static", "initial", "cascaded", "dynamic+static"] = "initial"
    on_failure: Literal["revert", "keep"] = "revert"
    separator: str = ". "
    order: Literal["dynamic-first", "static-first", "fit"] = "dynamic-first"
    max_answer_chars: int = 500

    def __post_init__(self):
        if self.max_answer_chars < 1:
            raise ConfigError(f"policy.max_answer_chars must be >= 1, got {self.max_answer_chars}")


@dataclass(frozen=True)
class TemplateConfig(Config):
    """Which image the reasoner compares with the current frame.

    ``source``: ``first`` (the release) or ``last-confident`` (the latest frame whose score was at
    least ``confidence``; the first frame until then, and always for score-less backbones).
    ``mark``: draw the target's box on no image, on the template only, or on both images.
    """

    source: Literal["first", "last-confident"] = "first"
    confidence: float = 0.5
    mark: Literal["none", "template", "both"] = "none"
    mark_color: tuple[int, int, int] = (255, 0, 0)
    mark_thickness: int = 2

    def __post_init__(self):
        if not math.isfinite(self.confidence):
            raise ConfigError(f"template.confidence must be a finite number, got {self.confidence}")
        if len(self.mark_color) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in self.mark_color):
            raise ConfigError(f"template.mark_color must be three integers R,G,B in 0..255, got {list(self.mark_color)}")
        if self.mark_thickness < 1:
            raise ConfigError(f"template.mark_thickness must be >= 1 pixel, got {self.mark_thickness}")


@dataclass(frozen=True)
class PipelineConfig(Config):
    """The whole ReasoningTracker loop.

    ``mode``: ``sync`` asks and waits (deterministic; benchmarks) or ``async`` (a worker thread asks
    while tracking goes on with the current text; at most one request in flight).
    ``timeout_s``: a reasoner call taking longer is logged as a timeout and its answer dropped
    (0 disables the timeout; in sync mode the call then runs in the tracking thread).
    """

    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    template: TemplateConfig = field(default_factory=TemplateConfig)
    mode: Literal["sync", "async"] = "sync"
    timeout_s: float = 120.0

    def __post_init__(self):
        if not 0 <= self.timeout_s < math.inf:  # NaN and inf fail too
            raise ConfigError(f"timeout_s must be a finite number >= 0 (0: no timeout), got {self.timeout_s}")


@dataclass(frozen=True)
class TrackRunConfig(Config):
    """One ``reasoningtrack track`` run; saved as ``config.yaml`` beside its outputs and reloadable
    with ``--config`` (the input path is stored absolute)."""

    renamed_keys: ClassVar[dict[str, str]] = {"tracker": "backbone", "tracker_options": "backbone_options"}

    input: str = ""
    box: list[float] | None = None
    text: str = ""
    backbone: str = "csrt"
    backbone_options: dict[str, Any] = field(default_factory=dict)
    reasoner: str = "heuristic"
    reasoner_options: dict[str, Any] = field(default_factory=dict)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    video: bool = True
    #: the annotated video gets a side panel (latest think text, event-colour legend) and small
    #: frames are enlarged to 360 px for readable text
    video_panel: bool = False
    #: the annotated video also draws the ground truth found beside the input (when there is one)
    show_gt: bool = False
    profile: str = DEFAULT_PROFILE
    """The named profile the pipeline and reasoner settings were resolved from (profiles/)."""
    strict_decode: bool = False
    """A video frame FFmpeg decoded with errors and concealed stops the run (default: a warning
    that names the frames)."""

    def __post_init__(self):
        _check_profile(self.profile)
        if self.box is not None and len(self.box) != 4:
            raise ConfigError(f"box must be 4 numbers x,y,w,h, got {self.box}")


@dataclass(frozen=True)
class BenchmarkConfig(Config):
    """One ``reasoningtrack benchmark`` configuration: what decides the results (saved as
    ``config.yaml``; a resumed run must match it). How the run is executed (workers, shard,
    executor, output folder) is not part of it."""

    renamed_keys: ClassVar[dict[str, str]] = {"tracker": "backbone", "tracker_options": "backbone_options"}

    dataset: str = "synthetic"
    root: str = ""
    split: str = "test"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    sequences: list[str] = field(default_factory=list)
    backbone: str = "csrt"
    backbone_options: dict[str, Any] = field(default_factory=dict)
    reasoner: str = "heuristic"
    reasoner_options: dict[str, Any] = field(default_factory=dict)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    result_name: str = ""
    profile: str = DEFAULT_PROFILE
    """The named profile the pipeline and reasoner settings were resolved from (profiles/)."""
    dataset_fingerprint: str = ""
    """Set by the runner: names and ground truth of the sequences run (datasets/fingerprint.py);
    results are never resumed against other data at the same root."""

    def __post_init__(self):
        _check_profile(self.profile)

