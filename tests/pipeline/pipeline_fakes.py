"""Fakes for pipeline tests: a backbone that replays given boxes and a scripted reasoner
(imported by the test modules; the fixtures are in conftest.py)."""

from __future__ import annotations

import threading
import time

import numpy as np
from reasoningtrack.reasoning.base import Reasoner
from reasoningtrack.reasoning.types import Reasoning
from reasoningtrack.trackers.base import Backbone, Prediction

#: Size of the synthetic world the ``synthetic_root`` fixture generates.
SYNTHETIC_SEQUENCES = 4
SYNTHETIC_FRAMES = 30


def numbered_frames(count: int, height: int = 64, width: int = 96):
    """Frames whose pixel (0, 0, 0) holds the frame index (mod 256), to recognise them later."""
    for i in range(count):
        frame = np.zeros((height, width, 3), dtype=np.uint8)
        frame[0, 0, 0] = i % 256
        yield frame


class ReplayBackbone(Backbone):
    """Returns ``boxes[t]`` (and ``scores[t]``) on frame t; remembers the text used per frame.

    ``window_words``: the backbone keeps only the first N words of a text (a short token window).
    """

    uses_text = True

    def __init__(self, boxes, scores=None, window_words: int | None = None, track_delay: float = 0.0):
        self.boxes = np.asarray(boxes, dtype=np.float64)
        self.scores = scores
        self.window_words = window_words
        self.track_delay = track_delay
        self.reset()

    def reset(self):
        self.index = 0
        self.text = None
        self.texts_used = {}
        self.set_text_calls = []

    def initialize(self, frame, box, text=None):
        self.reset()
        self.text = text
        self.texts_used[0] = text

    def track(self, frame):
        self.index += 1
        if self.track_delay:
            time.sleep(self.track_delay)
        self.texts_used[self.index] = self.text
        score = None if self.scores is None else float(self.scores[self.index])
        return Prediction(self.boxes[min(self.index, len(self.boxes) - 1)].copy(), score)

    def set_text(self, text):
        self.set_text_calls.append((self.index, text))
        self.text = text

    def kept_text(self, text):
        if self.window_words is None:
            return text
        return " ".join(text.split()[: self.window_words])


def answer(update: bool, text: str, think: str = "looked") -> Reasoning:
    d = "yes" if update else "no"
    raw = f"<think>{think}</think><d>{d}</d><answer>{text}</answer>"
    return Reasoning(think=think, update=update, answer=text, raw=raw, format_ok=True, strict_ok=True)


class ScriptedReasoner(Reasoner):
    """``respond(call_number, description, context)`` gives the answer; every call is recorded."""

    name = "scripted"

    def __init__(self, respond, latency: float = 0.0):
        self.respond = respond
        self.latency = latency
        self.calls = []
        self.lock = threading.Lock()

    def reason(self, template, current, description, context=None):
        with self.lock:
            number = len(self.calls)
            self.calls.append(
                {
                    "description": description,
                    "frame": context.frame_index if context else None,
                    "template_id": int(template[0, 0, 0]),
                    "current_id": int(current[0, 0, 0]),
                    "template": template,
                    "current": current,
                    "thread": threading.current_thread().name,
                }
            )
        if self.latency:
            time.sleep(self.latency)
        return self.respond(number, description, context)
