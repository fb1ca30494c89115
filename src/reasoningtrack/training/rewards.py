"""GRPO rewards as plain functions with TRL's signature ``f(prompts, completions, **columns)``.

The four rewards follow the release's reward file (``Reinforcement Learning/examples/
reward_function/track.py`` of Event-AHU/Open_VLTrack) rule for rule; docs/fidelity.md lists them.

- ``format``: whitespace around every ``<``, ``>`` and ``/`` is removed first; then 1 when
  ``<think>…</think>``, ``<answer>…</answer>`` and ``<d>…</d>`` are each found anywhere
  (non-greedy, across lines).
- ``strict format``: on the same normalised text, ``think … d(…) … answer`` is *searched* for in
  that order (text before, between and after is allowed) and the ``d`` content, stripped and
  lower-cased, is ``yes`` or ``no``.
- ``IoU`` and ``judge`` read the *raw* completion: ``d`` is the first ``<d>…</d>`` stripped, and
  anything but exactly ``yes`` or ``no`` counts as ``no`` (case-sensitive); the answer is the first
  ``<answer>…</answer>`` stripped, ``"tracking the object"`` when there is none. The frozen
  backbone runs twice per sample at reward time, with clean state each time: initialised on frame
  1 with box 1 and the answer (then with the original description), one ``track`` on frame 2;
  both IoUs are taken against frame 2's box (``iou_new``, ``iou_old``). IoU reward = ``iou_new``
  if ``> 0.61`` else ``iou_new / 2`` (the answer counts even when ``d = no``); judge = 1 when
  (``d = no`` and ``iou_old >= iou_new``) or (``d = yes`` and ``iou_old < iou_new``). When the
  backbone fails on a sample, both IoUs are 0 (the release's rule; the failure is counted and
  logged, never silent).

Columns the IoU and judge rewards read (TRL passes every dataset column by name): ``sample_id``,
``images`` (frame 1, frame 2), ``box1``, ``box2``, ``description`` (the original description) and,
when the samples were built with ``track_steps`` > 1, ``between_images``. Completions are strings
or, for conversational data, lists of chat messages.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, Sequence

from .config import RewardConfig
from .labels import BackboneLabeller, LabelRequest, shaped_iou

__all__ = [
    "completion_text",
    "parse_completion",
    "normalise_tags",
    "release_decision",
    "RELEASE_DEFAULT_ANSWER",
    "format_reward",
    "strict_format_reward",
    "IoUReward",
    "JudgeReward",
    "TotalReward",
    "build_reward_functions",
    "RewardColumnError",
    "REWARD_NAMES",
]

log = logging.getLogger(__name__)

#: The answer the release uses when a completion has no ``<answer>`` block.
RELEASE_DEFAULT_ANSWER = "tracking the object"
#: Reward names in the order of their weights (format, strict, IoU, judge).
REWARD_NAMES = ("format", "strict", "iou", "judge")

_TAG_SPACE = re.compile(r"\s*([<>/])\s*")
_PAIRS = tuple(re.compile(rf"<{tag}>.*?</{tag}>", re.DOTALL) for tag in ("think", "answer", "d"))
_ORDERED = re.compile(r"<think>.*?</think>.*?<d>(.*?)</d>.*?<answer>.*?</answer>", re.DOTALL)
_D = re.compile(r"<d>(.*?)</d>", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


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
    """Parse with the reasoner's inference parser (used to measure, not to reward)."""
    from ..reasoning.parser import parse

    return parse(completion_text(completion), previous=previous)


def normalise_tags(text: str) -> str:
    """The release removes whitespace around every ``<``, ``>`` and ``/`` before the format checks
    (so ``< d >`` and ``</ answer>`` count; note that it also removes spaces around a ``/`` in the
    prose)."""
    return _TAG_SPACE.sub(r"\1", text)


def _format_ok(text: str) -> bool:
    text = normalise_tags(text)
    return all(p.search(text) for p in _PAIRS)


def _strict_ok(text: str) -> bool:
    match = _ORDERED.search(normalise_tags(text))
    return bool(match) and match.group(1).strip().lower() in ("yes", "no")


def release_decision(text: str) -> tuple[str, str]:
    """``(d, answer)`` as the release's IoU/judge reward reads a raw completion (no normalising)."""
    d_match, a_match = _D.search(text), _ANSWER.search(text)
    d = d_match.group(1).strip() if d_match else "no"
    if d not in ("yes", "no"):
        d = "no"
    answer = a_match.group(1).strip() if a_match else RELEASE_DEFAULT_ANSWER
    return d, answer


def format_reward(prompts: Sequence, completions: Sequence, **columns) -> list[float]:
    """1.0 when the three tag pairs are found anywhere, else 0.0 (the release's rule)."""
    return [1.0 if _format_ok(completion_text(c)) else 0.0 for c in completions]


def strict_format_reward(prompts: Sequence, completions: Sequence, **columns) -> list[float]:
    """1.0 when think, d and answer are found in this order with d in {yes, no}, else 0.0."""
    return [1.0 if _strict_ok(completion_text(c)) else 0.0 for c in completions]


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
    """Shared by IoU and judge: the two backbone runs of every completion, through one labeller
    (whose cache makes the second reward reuse the first one's runs)."""

    def __init__(self, labeller: BackboneLabeller, *, config: RewardConfig | None = None):
        self.labeller = labeller
        self.config = config or RewardConfig()

    def ious(self, completions: Sequence, columns: dict) -> tuple[list[float], list[float], list[str]]:
        """``(iou_new, iou_old, d)`` of every completion; both IoUs 0 where the backbone failed."""
        n = len(completions)
        ids = _column(columns, "sample_id", n)
        images = _column(columns, "images", n)
        box1 = _column(columns, "box1", n)
        box2 = _column(columns, "box2", n)
        descriptions = _column(columns, "description", n)
        between = columns.get("between_images") or [None] * n
        decisions = [release_decision(completion_text(c)) for c in completions]
        requests = []
        for i in range(n):
            frames = list(images[i])
            if len(frames) != 2:
                raise RewardColumnError(f"sample {ids[i]!r}: 'images' must hold 2 frames, got {len(frames)}")
            sequence = [frames[0], *list(between[i] or []), frames[1]]
            for text in (decisions[i][1], descriptions[i]):
                requests.append(LabelRequest(ids[i], sequence, box1[i], box2[i], text))
        labels = self.labeller.label(requests, on_error="zero")
        new, old = [], []
        for i in range(n):
            run_new, run_old = labels[2 * i], labels[2 * i + 1]
            v_new, v_old = run_new.iou, run_old.iou
            if not (run_new.ok and run_old.ok):  # the release: a failed tracker run gives both IoUs 0
                v_new = v_old = 0.0
            new.append(v_new)
            old.append(v_old)
        return new, old, [d for d, _ in decisions]


class IoUReward(_BackboneRewardBase):
    """Shaped IoU of the backbone's box when it tracks with the completion's answer."""

    __name__ = "iou_reward"

    def __call__(self, prompts: Sequence, completions: Sequence, **columns) -> list[float]:
        new, _, _ = self.ious(completions, columns)
        return [shaped_iou(v, self.config.iou_threshold) for v in new]


class JudgeReward(_BackboneRewardBase):
    """Was the yes/no decision right, given what the answer does to the backbone's box?"""

    __name__ = "judge_reward"

    def __call__(self, prompts: Sequence, completions: Sequence, **columns) -> list[float]:
        new, old, decisions = self.ious(completions, columns)
        margin = self.config.judge_margin
        out = []
        for iou_new, iou_old, d in zip(new, old, decisions):
            right = (iou_old + margin < iou_new) if d == "yes" else (iou_old >= iou_new)
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
    backbone weights at 0 the backbone is never built (the release's weights need no tracker);
    the IoU and judge rewards are then left out (TRL would log them as constant zeros).
    """
    needs_backbone = config.iou_weight != 0 or config.judge_weight != 0
    functions: list[Callable] = [format_reward, strict_format_reward]
    weights = [config.format_weight, config.strict_weight]
    if needs_backbone:
        if labeller is None:
            if backbone is None:
                from ..specs import BackboneSpec

                backbone = BackboneSpec.of(config).build()
            labeller = BackboneLabeller(backbone, cache_size=config.cache_size)
        functions += [IoUReward(labeller, config=config), JudgeReward(labeller, config=config)]
        weights += [config.iou_weight, config.judge_weight]
    return functions, weights
