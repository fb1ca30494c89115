"""Turn whatever a VLM wrote into a :class:`Reasoning`, by documented rules; never raises.

Two parsers. :func:`parse_release` is the release's rule (Open_VLTrack ``Evaluation/i2d.py``),
the default (``parser: release``): first-match, case-sensitive regexes per tag; a missing ``d`` is
"no", a missing answer is ``tracking the object`` (:data:`RELEASE_DEFAULT_ANSWER`); the answer is
used only when ``d`` is exactly ``yes`` after strip and the answer is not that default, and in every
other case the description reverts to the initial one. :func:`parse` is our lenient reading
(``parser: lenient``, an opt-in variant), whose rules follow.

The expected output is ``<think>…</think><d>yes|no</d><answer>…</answer>``. Real generations
deviate: thoughts that quote the tags (``put "yes" within <d></d>``), missing closing tags after
truncation, upper-case tags, empty or rambling answers. The rules (also in ``docs/reasoner.md``):

Reading the blocks (lenient, the default):
  * Tags are recognised case-insensitively, with optional whitespace inside the brackets
    (``< D >``, ``</Answer >``).
  * ``think`` is the first ``<think>`` block, up to the first ``</think>`` after it. A lone
    ``</think>`` (some chat templates put ``<think>`` in the prompt) makes everything before it
    the thought. Tags quoted inside the thought are ignored.
  * An unclosed ``<think>`` (truncated or forgotten) ends at the last ``<d>`` tag of the text, or
    else the last ``<answer>`` tag, or else at the end of the text.
  * ``d`` and ``answer`` are the first such blocks after the thought (repeated blocks: the first
    wins). An unclosed ``<d>`` runs to the next tag or the end of the text.
  * An unclosed ``<answer>`` is a truncated generation: its text is dropped (the release's regex
    finds no answer there either), so the previous description is kept.
Deciding:
  * ``d`` is normalised (whitespace, case, surrounding quotes and punctuation); anything other than
    ``yes`` means no (the release's rule).
  * The answer is cleaned: stray tags removed, whitespace collapsed to single spaces, matching
    surrounding quotes removed. It is *unusable* (and the previous description is kept) when it is
    empty or made only of stop words / placeholder words ("the", "same", "n/a", ...). With
    ``max_words`` set, a longer answer is cut to its first ``max_words`` words (a backbone such as
    DUTrack reads only the first word-pieces anyway).
  * ``update`` is true only when ``d`` says yes *and* the answer is usable: a "yes" with nothing to
    update to is no update.
Flags:
  * ``format_ok``: all three tag pairs (open and close) appear somewhere in the text.
  * ``strict_ok``: the whole text, ignoring leading/trailing whitespace, is exactly
    ``<think>T</think> <d> yes|no </d> <answer>A</answer>`` with lower-case tags and a lower-case yes/no, only whitespace
    between the blocks and around the decision, ``T`` free of ``</think>``, ``A`` free of
    ``</answer>`` (anything else, including quoted tags, may appear inside the thought).
  * ``strict=True`` uses only strict-valid outputs: any other output gives no update and the
    previous description (its thought is still reported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .types import Reasoning

__all__ = [
    "parse",
    "parse_release",
    "parse_with",
    "RELEASE_DEFAULT_ANSWER",
    "PARSERS",
    "extract_blocks",
    "format_output",
    "clean_answer",
    "is_useful_answer",
    "decision_is_yes",
    "TaggedOutput",
    "STOP_WORDS",
]

_TAG = re.compile(r"<\s*(/?)\s*(think|d|answer)\s*>", re.IGNORECASE)
_STRICT = re.compile(
    r"\A\s*<think>((?:(?!</think>).)*)</think>\s*"
    r"<d>\s*(yes|no)\s*</d>\s*"
    r"<answer>((?:(?!</answer>).)*)</answer>\s*\Z",
    re.DOTALL,
)
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "`": "`"}
_WORD = re.compile(r"[\w']+", re.UNICODE)

STOP_WORDS = frozenset(
    """a an the this that these those it its it's is are was were be been being am of in on at to
    for from by with as and or but not no yes so than then there here of into onto over under up
    down out off same unchanged none null nil n a na n/a original description text answer update
    updated change changes changed keep kept still as before previous""".split()
)
"""Words that alone say nothing a tracker can use: an answer made only of these is ignored."""


@dataclass(frozen=True)
class TaggedOutput:
    """The raw blocks of an output, before any decision (for rewards and diagnostics).

    ``decision`` and ``answer`` are ``None`` where no block was found; ``answer_closed`` tells a
    complete ``<answer>…</answer>`` from a truncated one."""

    think: str
    decision: str | None
    answer: str | None
    answer_closed: bool
    format_ok: bool
    strict_ok: bool


def _tags(text: str) -> list[tuple[int, int, bool, str]]:
    """All tags as (start, end, closing, name) in text order."""
    return [(m.start(), m.end(), m.group(1) == "/", m.group(2).lower()) for m in _TAG.finditer(text)]


def _first(tags, name: str, closing: bool, after: int):
    for tag in tags:
        if tag[0] >= after and tag[3] == name and tag[2] == closing:
            return tag
    return None


def _last(tags, name: str, closing: bool, after: int):
    found = None
    for tag in tags:
        if tag[0] >= after and tag[3] == name and tag[2] == closing:
            found = tag
    return found


def extract_blocks(text: str) -> TaggedOutput:
    """Locate the think / d / answer blocks by the module's rules; no cleaning, no decision."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    tags = _tags(text)
    names_open = {t[3] for t in tags if not t[2]}
    names_close = {t[3] for t in tags if t[2]}
    format_ok = {"think", "d", "answer"} <= (names_open & names_close)
    strict_ok = _STRICT.match(text) is not None

    think = ""
    rest_from = 0
    open_think = _first(tags, "think", False, 0)
    if open_think is not None:
        close_think = _first(tags, "think", True, open_think[1])
        if close_think is not None:
            think = text[open_think[1] : close_think[0]]
            rest_from = close_think[1]
        else:
            last_d = _last(tags, "d", False, open_think[1])
            last_answer = _last(tags, "answer", False, open_think[1])
            end = last_d[0] if last_d else (last_answer[0] if last_answer else len(text))
            think = text[open_think[1] : end]
            rest_from = end
    else:
        lone_close = _first(tags, "think", True, 0)
        if lone_close is not None:
            think = text[: lone_close[0]]
            rest_from = lone_close[1]

    decision = None
    open_d = _first(tags, "d", False, rest_from)
    if open_d is not None:
        following = [t for t in tags if t[0] >= open_d[1]]
        end = following[0][0] if following else len(text)
        decision = text[open_d[1] : end]

    answer = None
    answer_closed = False
    open_answer = _first(tags, "answer", False, rest_from)
    if open_answer is not None:
        close_answer = _first(tags, "answer", True, open_answer[1])
        if close_answer is not None:
            answer = text[open_answer[1] : close_answer[0]]
            answer_closed = True
        else:
            answer = text[open_answer[1] :]

    return TaggedOutput(think.strip(), decision, answer, answer_closed, format_ok, strict_ok)


def decision_is_yes(decision: str | None) -> bool:
    """``<d>`` means yes only when it says yes (case, whitespace, quotes, punctuation ignored)."""
    if decision is None:
        return False
    return decision.strip().strip("\"'`.,;:!*()[]{} \t\n\u201c\u201d\u2018\u2019").lower() == "yes"


def clean_answer(answer: str, max_words: int | None = None) -> str:
    """Remove stray tags and surrounding quotes, collapse whitespace, cut to ``max_words`` words."""
    text = _TAG.sub(" ", answer)
    text = " ".join(text.split())
    while len(text) >= 2 and text[0] in _QUOTES and text[-1] == _QUOTES[text[0]]:
        text = text[1:-1].strip()
    if max_words is not None and max_words > 0:
        words = text.split()
        if len(words) > max_words:
            text = " ".join(words[:max_words])
    return text


def is_useful_answer(answer: str) -> bool:
    """A usable description names something: at least one word that is not a stop word."""
    words = [w.lower() for w in _WORD.findall(answer)]
    return any(w not in STOP_WORDS for w in words)


def parse(
    text: str,
    strict: bool = False,
    previous: str = "",
    max_words: int | None = None,
) -> Reasoning:
    """Read a model output; ``previous`` is the description to keep when there is no usable answer.

    Never raises (any input, even a non-string, gives a ``Reasoning``)."""
    raw = text if isinstance(text, str) else ("" if text is None else str(text))
    previous = previous if isinstance(previous, str) else ("" if previous is None else str(previous))
    try:
        blocks = extract_blocks(raw)
    except RecursionError:  # pathological inputs only; the regexes used are not recursive
        return Reasoning("", False, previous, raw, False, False)
    answer = previous
    update = False
    usable = blocks.answer is not None and blocks.answer_closed and (blocks.strict_ok or not strict)
    if usable:
        cleaned = clean_answer(blocks.answer, max_words)
        if is_useful_answer(cleaned):
            answer = cleaned
            update = decision_is_yes(blocks.decision)
    return Reasoning(
        think=blocks.think,
        update=update,
        answer=answer,
        raw=raw,
        format_ok=blocks.format_ok,
        strict_ok=blocks.strict_ok,
    )


RELEASE_DEFAULT_ANSWER = "tracking the object"
"""The release's stand-in for a missing ``<answer>`` block (never used as a description)."""

PARSERS = ("release", "lenient")


def _release_block(text: str, tag: str) -> str | None:
    """The release's ``re.search(r'<tag>(.*?)</tag>', text, re.DOTALL)``, stripped; None if absent."""
    match = re.search(f"<{tag}>(.*?)</{tag}>", text, re.DOTALL)
    return match.group(1).strip() if match else None


def parse_release(text: str, initial: str = "") -> Reasoning:
    """The release's decision: ``update`` only when ``d`` is exactly ``yes`` (after strip) and the
    answer is not :data:`RELEASE_DEFAULT_ANSWER`; then ``answer`` is the answer as written (stripped,
    even empty). Otherwise ``answer`` is ``initial``, the description to revert to. Never raises."""
    raw = text if isinstance(text, str) else ("" if text is None else str(text))
    initial = initial if isinstance(initial, str) else ("" if initial is None else str(initial))
    decision = _release_block(raw, "d")
    answer = _release_block(raw, "answer")
    decision = "no" if decision is None else decision
    answer = RELEASE_DEFAULT_ANSWER if answer is None else answer
    update = decision == "yes" and answer != RELEASE_DEFAULT_ANSWER
    try:
        blocks = extract_blocks(raw)
        format_ok, strict_ok = blocks.format_ok, blocks.strict_ok
    except RecursionError:
        format_ok = strict_ok = False
    return Reasoning(
        think=_release_block(raw, "think") or "",
        update=update,
        answer=answer if update else initial,
        raw=raw,
        format_ok=format_ok,
        strict_ok=strict_ok,
    )


def parse_with(parser: str, text: str, previous: str = "", *, strict: bool = False, max_words: int | None = None) -> Reasoning:
    """Dispatch on a reasoner's ``parser`` option: ``release`` (the default) or ``lenient``."""
    if parser == "release":
        return parse_release(text, previous)
    if parser == "lenient":
        return parse(text, strict=strict, previous=previous, max_words=max_words)
    raise ValueError(f"unknown parser {parser!r}; valid: {list(PARSERS)}")


def format_output(think: str, update: bool, answer: str) -> str:
    """The canonical output a model should produce (SFT targets, tests): the parser's inverse."""
    return f"<think>{think}</think><d>{'yes' if update else 'no'}</d><answer>{answer}</answer>"
