"""When to ask the reasoner: triggers that watch the tracker's output frame by frame.

Each trigger sees every tracked frame (``observe``) and answers whether the reasoner should look at
that frame. The answer is applied from the next frame on (the release's behaviour), which the
tracker does. Triggers keep per-sequence state; ``reset`` forgets it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from .config import ConfidenceConfig, IntervalConfig, MotionConfig, ScheduleConfig

__all__ = ["Trigger", "IntervalTrigger", "MotionTrigger", "ConfidenceTrigger", "Schedule", "build_schedule", "TRIGGERS"]


class Trigger(ABC):
    name: str = ""

    def reset(self, init_box: np.ndarray, image_size: tuple[int, int]) -> None:
        """Start a sequence: ``image_size`` is ``(width, height)``."""

    @abstractmethod
    def observe(self, frame_index: int, box: np.ndarray, score: float | None) -> bool:
        """True when the reasoner should look at this frame."""

    def declined(self) -> None:
        """This trigger fired on the frame just observed but the reasoner was not asked (a call
        still in flight, or ``combine: all`` unmet): undo what firing changed, if anything."""


class IntervalTrigger(Trigger):
    """Every ``u`` frames: frames u, 2u, ... (the paper's update interval)."""

    name = "interval"

    def __init__(self, config: IntervalConfig):
        self.every = config.every

    def observe(self, frame_index, box, score):
        return frame_index > 0 and frame_index % self.every == 0


class MotionTrigger(Trigger):
    """The release's gate (its DUTrack tracker file, ``ifupdata`` and the ``frame_id % 10`` check):
    at every ``check_every``-th frame, fire when the box changed enough since the reference box.

    The reference is the init box and moves to the current box only when the gate fires and the
    reasoner is asked (the release sets it when it calls the VLM; a fire that finds a call still
    in flight is ``declined``), so slow drift accumulates until it fires. "Changed":
    area ratio (min over max) below ``area_ratio``, or the Euclidean distance between the two
    top-left corners above ``shift_fraction`` times the frame height or times the frame width
    (the release tests both, so the smaller side decides)."""

    name = "motion"

    def __init__(self, config: MotionConfig):
        self.config = config
        self._reference: np.ndarray | None = None
        self._before: np.ndarray | None = None
        self._height = 0
        self._width = 0

    def reset(self, init_box, image_size):
        self._reference = np.asarray(init_box, dtype=np.float64).copy()
        self._before = None
        self._width, self._height = int(image_size[0]), int(image_size[1])

    def changed(self, reference: np.ndarray, box: np.ndarray) -> bool:
        """The rule itself, on two boxes (exposed so that tests and docs state it once)."""
        area_ref = max(float(reference[2] * reference[3]), 0.0)
        area_now = max(float(box[2] * box[3]), 0.0)
        largest = max(area_ref, area_now)
        # Two empty boxes: the release divides by zero; we read "no size change".
        ratio = min(area_ref, area_now) / largest if largest > 0 else 1.0
        if ratio < self.config.area_ratio:
            return True
        distance = float(np.hypot(box[0] - reference[0], box[1] - reference[1]))
        fraction = self.config.shift_fraction
        return distance > fraction * self._height or distance > fraction * self._width

    def observe(self, frame_index, box, score):
        if frame_index <= 0 or frame_index % self.config.check_every != 0:
            return False
        if self._reference is None:
            raise RuntimeError("MotionTrigger.observe before reset(init_box, image_size)")
        box = np.asarray(box, dtype=np.float64)
        fired = self.changed(self._reference, box)
        self._before = self._reference if fired else None
        if fired:
            self._reference = box.copy()
        return fired

    def declined(self):
        # the release moves its reference when it calls the VLM: no call, no move
        if self._before is not None:
            self._reference, self._before = self._before, None


class ConfidenceTrigger(Trigger):
    """Fire when the score is below a threshold or drops by more than ``drop_ratio`` relative to a
    running average of the earlier scores; quiet for ``cooldown`` frames after firing."""

    name = "confidence"

    def __init__(self, config: ConfidenceConfig):
        self.config = config
        self._reference: float | None = None
        self._quiet_until = -1

    def reset(self, init_box, image_size):
        self._reference = None
        self._quiet_until = -1

    def observe(self, frame_index, box, score):
        if score is None or not np.isfinite(score):
            return False
        score = float(score)
        cfg = self.config
        low = score < cfg.threshold
        dropped = self._reference is not None and score < (1.0 - cfg.drop_ratio) * self._reference
        self._reference = score if self._reference is None else cfg.momentum * self._reference + (1 - cfg.momentum) * score
        if frame_index <= self._quiet_until or not (low or dropped):
            return False
        self._quiet_until = frame_index + cfg.cooldown
        return True


class Schedule:
    """Triggers combined with ``any`` or ``all``; every trigger observes every frame (their state
    must not depend on the others' answers)."""

    def __init__(self, triggers: list[Trigger], combine: str = "any"):
        self.triggers = list(triggers)
        self.combine = combine
        self._fired: list[Trigger] = []

    def reset(self, init_box, image_size) -> None:
        for trigger in self.triggers:
            trigger.reset(init_box, image_size)

    def observe(self, frame_index: int, box, score) -> list[str]:
        """Names of the triggers that fired when the combination fires, else an empty list."""
        if not self.triggers:
            return []
        self._fired = [t for t in self.triggers if t.observe(frame_index, box, score)]
        if self.combine == "all" and len(self._fired) != len(self.triggers):
            self.declined()
            return []
        return [t.name for t in self._fired]

    def declined(self) -> None:
        """The tracker did not ask the reasoner although the schedule fired (busy)."""
        for trigger in self._fired:
            trigger.declined()
        self._fired = []


#: Trigger class by schedule name (the class's ``name``; ``schedule.<name>`` holds its config).
TRIGGERS: dict[str, type[Trigger]] = {t.name: t for t in (IntervalTrigger, MotionTrigger, ConfidenceTrigger)}

#: Former names, kept for code written against them.
MotionGate = MotionTrigger
ConfidenceDrop = ConfidenceTrigger


def build_schedule(config: ScheduleConfig) -> Schedule:
    return Schedule([TRIGGERS[name](getattr(config, name)) for name in config.triggers], config.combine)
