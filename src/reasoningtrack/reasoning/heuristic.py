"""The ``heuristic`` reasoner: a weight-free baseline that measures what it can without a model.

From the current frame and the boxes in the :class:`ReasoningContext` it measures
  * the target's dominant colour: every pixel of the box's central part (``inner_fraction``) is
    named from its HSV value with a fixed palette (red, orange, yellow, green, cyan, blue, purple,
    pink, white, gray, black, brown); the most frequent name wins, gray pixels counting
    ``gray_weight`` (shading turns part of any target gray);
  * its position in the frame: thirds of the width (left / center / right) and height (top /
    middle / bottom) holding the box centre;
  * its size change: area of the current box over the template box;
  * its motion: centre shift from ``previous_box`` (else ``template_box``) to ``current_box``;
  * its visibility: a backbone score under ``occlusion_score`` means the target may be occluded
    or out of view.

Decision rule (deterministic):
  * no current box, or a score under ``occlusion_score`` → ``no`` (the box may be on background,
    so what it measures says nothing about the target);
  * otherwise ``yes`` when the measured colour differs from the description's colour word (a
    description without one counts only with ``describe_missing_colour``), or the centre moved
    more than ``move_threshold`` of the frame size since the template, or the area changed by more
    than ``size_ratio`` either way;
  * else ``no``, and the answer is the description unchanged.

The answer keeps the description's noun: the head phrase is the text before the first
preposition, relative word or ``-ing`` word ("a man in a red shirt" → "a man"), and its noun is
the last word of that phrase that is not a stop, colour, size or position word ("target" when
there is none). The answer is ``<colour> <noun> <position> <motion>`` (for people ``<noun> in
<colour>``: the colour is their clothing's); the motion and then the position are dropped to stay
within ``max_words`` (DUTrack reads only 14 word-pieces).

Output: ``<think>…</think><d>yes|no</d><answer>…</answer>``, read back through the parser like
a model's output. ``latency`` adds a fixed sleep standing for a VLM's delay in benchmarks.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from ..config import Config, ConfigError
from ..describe import position_phrase, position_words
from .base import Reasoner
from .parser import STOP_WORDS, format_output, parse
from .types import Reasoning, ReasoningContext

__all__ = [
    "HeuristicConfig",
    "HeuristicReasoner",
    "build_heuristic",
    "COLOUR_NAMES",
    "colour_names",
    "dominant_colour",
    "head_noun",
    "description_colour",
]

COLOUR_NAMES = ("red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink", "white", "gray", "black", "brown")
_GRAY = COLOUR_NAMES.index("gray")
_COLOUR_SYNONYMS = {
    "grey": "gray",
    "silver": "gray",
    "violet": "purple",
    "magenta": "pink",
    "golden": "yellow",
    "gold": "yellow",
    "turquoise": "cyan",
    "navy": "blue",
    "dark": None,  # modifiers, not colours
    "light": None,
}
_SIZE_WORDS = frozenset("big bigger large larger small smaller tiny little huge tall short long".split())
_POSITION_WORDS = frozenset("left right top bottom middle centre center upper lower front back side".split())
_HEAD_BREAKERS = frozenset(
    """in on at with near behind beside under over above below from into onto of who which that
    while wearing holding carrying riding walking running moving and to toward towards across along
    between around inside outside""".split()
)
#: A word: letters of any script (``vélo``, ``Mädchen``), then letters, apostrophes or hyphens.
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['\u2019-])*")
#: Nouns for people: their measured colour is their clothing's ("man in red", never "red man").
_PERSON_NOUNS = frozenset(
    """person people man men woman women boy boys girl girls child children kid kids baby player
    players pedestrian pedestrians rider cyclist biker skier skater surfer runner athlete dancer
    driver worker soldier lady guy gentleman human swimmer diver jockey goalkeeper referee""".split()
)


@dataclass(frozen=True)
class HeuristicConfig(Config):
    """Thresholds of the heuristic reasoner (fractions are of the frame size unless stated)."""

    #: Backbone score under which the target is taken as occluded or out of view (no update then).
    occlusion_score: float = 0.5
    #: Centre shift (fraction of frame width/height, the larger) since the template that counts as moved.
    move_threshold: float = 0.15
    #: Area ratio (current/template, or its inverse) that counts as a size change.
    size_ratio: float = 1.5
    #: Centre shift since the previous box under which no motion direction is named.
    motion_min_shift: float = 0.01
    #: Central part of the box (per side) whose pixels name the colour (less background).
    inner_fraction: float = 0.6
    #: Saturation (0-1) under which a pixel is white/gray/black.
    achromatic_saturation: float = 0.25
    #: Value (0-1) under which a pixel is black.
    black_value: float = 0.3
    #: Value (0-1) over which an unsaturated pixel is white.
    white_value: float = 0.8
    #: Weight of a gray pixel in the vote: shading and shadows turn part of any target gray, so a
    #: mid-gray share only wins when it clearly dominates.
    gray_weight: float = 0.4
    #: Update a description that names no colour with the measured one.
    describe_missing_colour: bool = False
    #: Longest answer in words.
    max_words: int = 10
    #: Seconds slept per call (stands for a VLM's latency in benchmarks).
    latency: float = 0.0

    def __post_init__(self) -> None:
        checks = {
            "occlusion_score": self.occlusion_score >= 0,
            "move_threshold": self.move_threshold > 0,
            "size_ratio": self.size_ratio > 1,
            "motion_min_shift": self.motion_min_shift >= 0,
            "inner_fraction": 0 < self.inner_fraction <= 1,
            "achromatic_saturation": 0 <= self.achromatic_saturation <= 1,
            "black_value": 0 <= self.black_value <= 1,
            "white_value": 0 <= self.white_value <= 1,
            "gray_weight": 0 < self.gray_weight <= 1,
            "max_words": self.max_words >= 2,
            "latency": self.latency >= 0,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(
                f"HeuristicConfig: out-of-range value for {bad}: "
                "occlusion_score>=0, move_threshold>0, size_ratio>1, 0<inner_fraction<=1, "
                "saturation/value thresholds in [0,1], 0<gray_weight<=1, max_words>=2, latency>=0"
            )


def colour_names(rgb: np.ndarray, config: HeuristicConfig) -> np.ndarray:
    """Name every pixel of an HxWx3 uint8 RGB array (indices into ``COLOUR_NAMES``)."""
    import cv2

    hsv = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV_FULL).reshape(-1, 3).astype(np.float32)
    hue = hsv[:, 0] * (360.0 / 256.0)
    sat = hsv[:, 1] / 255.0
    val = hsv[:, 2] / 255.0
    idx = {name: i for i, name in enumerate(COLOUR_NAMES)}
    out = np.full(hue.shape, idx["gray"], dtype=np.int64)
    bands = [  # (upper hue bound in degrees, name)
        (15, "red"),
        (40, "orange"),
        (70, "yellow"),
        (160, "green"),
        (200, "cyan"),
        (260, "blue"),
        (290, "purple"),
        (345, "pink"),
        (361, "red"),
    ]
    chroma = np.digitize(hue, [b for b, _ in bands[:-1]])
    names = np.array([idx[n] for _, n in bands], dtype=np.int64)
    out[:] = names[chroma]
    warm = (out == idx["orange"]) | (out == idx["red"])
    out[warm & (val < 0.55) & (sat >= config.achromatic_saturation)] = idx["brown"]
    out[(out == idx["red"]) & (sat < 0.5) & (val > 0.7)] = idx["pink"]
    achromatic = sat < config.achromatic_saturation
    out[achromatic] = idx["gray"]
    out[achromatic & (val > config.white_value)] = idx["white"]
    out[val < config.black_value] = idx["black"]
    return out


def _crop(frame: np.ndarray, box, fraction: float) -> np.ndarray | None:
    """The central ``fraction`` of ``box`` (per side), clipped to the frame; None when empty."""
    height, width = frame.shape[:2]
    x, y, w, h = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
    cx, cy = x + w / 2, y + h / 2
    w, h = w * fraction, h * fraction
    x1, y1 = int(np.floor(max(cx - w / 2, 0))), int(np.floor(max(cy - h / 2, 0)))
    x2, y2 = int(np.ceil(min(cx + w / 2, width))), int(np.ceil(min(cy + h / 2, height)))
    if x2 <= x1 or y2 <= y1:
        return None
    return frame[y1:y2, x1:x2]


def dominant_colour(frame: np.ndarray, box, config: HeuristicConfig) -> tuple[str | None, float]:
    """The winning colour name in the box's centre (gray votes weighted by ``gray_weight``) and
    the share of the centre's pixels that carry it."""
    crop = _crop(frame, box, config.inner_fraction)
    if crop is None or crop.size == 0:
        return None, 0.0
    counts = np.bincount(colour_names(crop, config), minlength=len(COLOUR_NAMES)).astype(np.float64)
    votes = counts.copy()
    votes[_GRAY] *= config.gray_weight
    best = int(np.argmax(votes))  # ties go to the earlier palette entry: deterministic
    return COLOUR_NAMES[best], float(counts[best] / counts.sum())


def _centre(box) -> np.ndarray:
    b = np.asarray(box, dtype=np.float64).reshape(4)
    return b[:2] + b[2:] / 2


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


def description_colour(description: str) -> str | None:
    """The first palette colour word (or synonym) in the description."""
    for word in _words(description):
        if word in COLOUR_NAMES:
            return word
        mapped = _COLOUR_SYNONYMS.get(word)
        if mapped:
            return mapped
    return None


def head_noun(description: str) -> str:
    """The description's noun by the documented rule (see the module docstring)."""
    head: list[str] = []
    for word in _words(description):
        if head and (word in _HEAD_BREAKERS or (word.endswith("ing") and len(word) > 4)):
            break
        head.append(word)
    skip = STOP_WORDS | _SIZE_WORDS | _POSITION_WORDS | set(COLOUR_NAMES) | set(_COLOUR_SYNONYMS)
    for word in reversed(head):
        if word not in skip and word not in _HEAD_BREAKERS:
            return word
    return "target"


def _motion_word(shift: np.ndarray, frame_size: tuple[int, int], min_shift: float) -> str | None:
    dx, dy = shift[0] / frame_size[0], shift[1] / frame_size[1]
    if max(abs(dx), abs(dy)) < min_shift:
        return None
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"


class HeuristicReasoner(Reasoner):
    """Weight-free baseline answering in the model format; see the module docstring for the rules."""

    name = "heuristic"

    def __init__(self, config: HeuristicConfig | None = None):
        self.config = config or HeuristicConfig()

    def reason(
        self,
        template: np.ndarray,
        current: np.ndarray,
        description: str,
        context: ReasoningContext | None = None,
    ) -> Reasoning:
        if self.config.latency > 0:
            time.sleep(self.config.latency)
        description = description or ""
        think, update, answer = self._decide(template, current, description, context or ReasoningContext())
        return parse(format_output(think, update, answer), previous=description, max_words=self.config.max_words)

    def _decide(self, template, current, description: str, ctx: ReasoningContext) -> tuple[str, bool, str]:
        cfg = self.config
        if ctx.current_box is None or current is None:
            return "No box of the target is known in the current frame, so nothing can be measured.", False, description
        current = np.asarray(current)
        frame_size = (int(current.shape[1]), int(current.shape[0]))
        notes: list[str] = []
        reasons: list[str] = []

        if ctx.score is not None and ctx.score < cfg.occlusion_score:
            notes.append(
                f"The tracker's confidence is {ctx.score:.2f}, under {cfg.occlusion_score:.2f}: "
                "the target may be occluded or out of view, so the box may show background."
            )
            return " ".join(notes + ["The description is kept."]), False, description

        colour, share = dominant_colour(current, ctx.current_box, cfg)
        said = description_colour(description)
        if colour is None:
            notes.append("The box lies outside the frame; its colour cannot be measured.")
        else:
            notes.append(f"The target's dominant colour is {colour} ({share:.0%} of the box centre).")
            if template is not None and ctx.template_box is not None:
                before, _ = dominant_colour(np.asarray(template), ctx.template_box, cfg)
                if before is not None and before != colour:
                    notes.append(f"In the template it was {before}.")
            if said is not None and said != colour:
                reasons.append(f"the description says {said}")
            elif said is None and cfg.describe_missing_colour:
                reasons.append("the description names no colour")

        cx, cy = _centre(ctx.current_box)
        horizontal, vertical = position_words(cx, cy, *frame_size)
        position = position_phrase(horizontal, vertical)
        notes.append(f"It is {position} of the frame.")

        if ctx.template_box is not None:
            shift = _centre(ctx.current_box) - _centre(ctx.template_box)
            moved = max(abs(shift[0]) / frame_size[0], abs(shift[1]) / frame_size[1])
            if moved > cfg.move_threshold:
                reasons.append(f"it moved {moved:.0%} of the frame since the template")
            t_area = float(np.prod(np.asarray(ctx.template_box, dtype=np.float64).reshape(4)[2:]))
            c_area = float(np.prod(np.asarray(ctx.current_box, dtype=np.float64).reshape(4)[2:]))
            if t_area > 0 and c_area > 0:
                ratio = c_area / t_area
                if ratio > cfg.size_ratio:
                    reasons.append(f"it is larger than in the template (area x{ratio:.2f})")
                elif ratio < 1 / cfg.size_ratio:
                    reasons.append(f"it is smaller than in the template (area x{ratio:.2f})")

        reference = ctx.previous_box if ctx.previous_box is not None else ctx.template_box
        motion = None
        if reference is not None:
            motion = _motion_word(_centre(ctx.current_box) - _centre(reference), frame_size, cfg.motion_min_shift)
            notes.append(f"It is moving {motion}." if motion else "It is not moving noticeably.")
        if ctx.score is not None:
            notes.append(f"The tracker's confidence is {ctx.score:.2f}.")

        if not reasons:
            return " ".join(notes + ["The description still fits."]), False, description
        noun = head_noun(description)
        hue = colour or said
        subject = [noun, f"in {hue}"] if noun in _PERSON_NOUNS and hue else [hue or "", noun]
        parts = subject + [position, f"moving {motion}" if motion else ""]
        answer = self._fit(parts)
        return " ".join(notes + [f"Update: {'; '.join(reasons)}."]), True, answer

    def _fit(self, parts: list[str]) -> str:
        """Join the answer's parts, dropping motion then position until it fits ``max_words``."""
        parts = [p for p in parts if p]
        while len(" ".join(parts).split()) > self.config.max_words and len(parts) > 2:
            parts.pop()
        return " ".join(" ".join(parts).split()[: self.config.max_words])


def build_heuristic(**options) -> HeuristicReasoner:
    """Build from CLI/YAML options (:class:`HeuristicConfig` fields)."""
    return HeuristicReasoner(HeuristicConfig.from_dict(options))
