"""GRPO rewards as plain functions with TRL's signature ``f(prompts, completions, **columns)``.

- ``format``: 1 when the three tag pairs ``<think>``, ``<d>``, ``<answer>`` are present.
- ``strict format``: 1 when they come in that order with ``d`` in {yes, no}.
- ``IoU``: the frozen backbone, initialised on frame 1 with its box and the completion's answer,
  tracks once on frame 2; the IoU with frame 2's ground truth, shaped ``iou if iou > 0.61 else
  iou / 2``. A completion without an answer keeps the old description (the release's rule).
- ``judge``: 1 when (``d=no`` and IoU(old) >= IoU(new)) or (``d=yes`` and IoU(old) < IoU(new));
  IoU(old) is the dataset column ``iou_old``, computed once when the samples were built.

Columns the IoU and judge rewards read (TRL passes every dataset column by name): ``sample_id``,
``images`` (frame 1, frame 2), ``box1``, ``box2``, ``description``, ``iou_old`` and, when the
samples were built with ``track_steps`` > 1, ``between_images``. Completions are strings or, for
conversational data, lists of chat messages.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .config import RewardConfig
from .labels import BackboneLabeller, LabelRequest, shaped_iou

__all__ = [
    "completion_text",
    "parse_completion",
    "format_reward",
    "strict_format_reward",
    "IoUReward",
    "JudgeReward",
    "TotalReward",
    "build_reward_functions",
    "RewardColumnError",
]


class RewardColumnError(KeyError):
    """A dataset column the reward needs is missing or of the wrong length."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or the assistant messages of a conversation."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    parts: list[str] = []
    for message in completion or []:
        content = message.get("content") if isinstance(message, dict) else message
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return "".join(parts)


def parse_completion(completion: Any, previous: str | None = None):
    """Parse with the reasoner's own parser, so that training and inference read answers alike."""
    from ..reasoning.parser import parse

    return parse(completion_text(completion), previous=previous)


def format_reward(prompts: Sequence, completions: Sequence, **columns) -> list[float]:
    """1.0 when all three tag pairs are present, else 0.0."""
    return [1.0 if parse_completion(c).format_ok else 0.0 for c in completions]


def strict_format_reward(prompts: Sequence, completions: Sequence, **columns) -> list[float]:
    """1.0 for ``<think>…</think><d>yes|no</d><answer>…</answer>`` in this order, else 0.0."""
    return [1.0 if parse_completion(c).strict_ok else 0.0 for c in completions]


def _column(columns: dict, name: str, n: int) -> list:
    if name not in columns:
        raise RewardColumnError(
            f"the reward needs the dataset column {name!r}; columns given: {sorted(k for k in columns if not k.startswith('log_'))}"
        )
    values = list(columns[name])
    if len(values) != n:
        raise RewardColumnError(f"column {name!r} has {len(values)} values for {n} completions")
    return values


class _BackboneRewardBase:
    """Shared by IoU and judge: turns (completion, columns) into labelled IoUs through one labeller."""

    def __init__(self, labeller: BackboneLabeller, *, config: RewardConfig | None = None):
        self.labeller = labeller
        self.config = config or RewardConfig()

    def new_ious(self, completions: Sequence, columns: dict) -> tuple[list[float], list]:
        """IoU(new text) of every completion, and the parsed completions."""
        n = len(completions)
        ids = _column(columns, "sample_id", n)
        images = _column(columns, "images", n)
        box1 = _column(columns, "box1", n)
        box2 = _column(columns, "box2", n)
        descriptions = _column(columns, "description", n)
        between = columns.get("between_images") or [None] * n
        parsed = [parse_completion(c, previous=d) for c, d in zip(completions, descriptions)]
        requests = []
        for i in range(n):
            frames = list(images[i])
            if len(frames) != 2:
                raise RewardColumnError(f"sample {ids[i]!r}: 'images' must hold 2 frames, got {len(frames)}")
            middle = list(between[i] or [])
            text = parsed[i].answer if parsed[i].answer else descriptions[i]
            requests.append(LabelRequest(ids[i], [frames[0], *middle, frames[1]], box1[i], box2[i], text))
        return self.labeller.iou(requests), parsed


class IoUReward(_BackboneRewardBase):
    """Shaped IoU of the backbone's box when it tracks with the completion's answer."""

    __name__ = "iou_reward"

    def __call__(self, prompts: Sequence, completions: Sequence, **columns) -> list[float]:
        values, _ = self.new_ious(completions, columns)
        return [shaped_iou(v, self.config.iou_threshold) for v in values]


class JudgeReward(_BackboneRewardBase):
    """Was the yes/no decision right, given what the new text does to the backbone's box?"""

    __name__ = "judge_reward"

    def __call__(self, prompts: Sequence, completions: Sequence, **columns) -> list[float]:
        new, parsed = self.new_ious(completions, columns)
        old = [float(v) for v in _column(columns, "iou_old", len(completions))]
        margin = self.config.judge_margin
        out = []
        for iou_new, iou_old, p in zip(new, old, parsed):
            right = (iou_new > iou_old + margin) if p.update else (iou_old >= iou_new)
            out.append(1.0 if right else 0.0)
        return out


class TotalReward:
    """The weighted sum of the four rewards as one function (for evaluation and logging).

    For training, pass the four functions and their weights to TRL instead
    (:func:`build_reward_functions`), so that each one is logged on its own.
    """

    __name__ = "total_reward"

    def __init__(self, functions: Sequence[Callable], weights: Sequence[float]):
        if len(functions) != len(weights):
            raise ValueError(f"{len(functions)} reward functions but {len(weights)} weights")
        self.functions = list(functions)
        self.weights = [float(w) for w in weights]

    def components(self, prompts, completions, **columns) -> dict[str, list[float]]:
        out = {}
        for fn, w in zip(self.functions, self.weights):
            name = getattr(fn, "__name__", type(fn).__name__)
            out[name] = fn(prompts, completions, **columns) if w != 0 else [0.0] * len(completions)
        return out

    def __call__(self, prompts, completions, **columns) -> list[float]:
        parts = self.components(prompts, completions, **columns)
        totals = [0.0] * len(completions)
        for (name, values), w in zip(parts.items(), self.weights):
            for i, v in enumerate(values):
                totals[i] += w * v
        return totals


def build_reward_functions(
    config: RewardConfig, backbone=None, *, labeller: BackboneLabeller | None = None
) -> tuple[list[Callable], list[float]]:
    """The four reward functions and their weights, in the order format, strict, IoU, judge.

    The backbone is built from ``config.backbone`` unless one (or a labeller) is given. With both
    backbone weights at 0 the backbone is never built (the release preset needs no tracker).
    """
    needs_backbone = config.iou_weight != 0 or config.judge_weight != 0
    functions: list[Callable] = [format_reward, strict_format_reward]
    weights = [config.format_weight, config.strict_weight]
    if needs_backbone:
        if labeller is None:
            if backbone is None:
                from ..trackers import BACKBONES

                backbone = BACKBONES.build(config.backbone, **dict(config.backbone_options))
            labeller = BackboneLabeller(backbone, cache_size=config.cache_size)
        functions += [IoUReward(labeller, config=config), JudgeReward(labeller, config=config)]
        weights += [config.iou_weight, config.judge_weight]
    return functions, weights
