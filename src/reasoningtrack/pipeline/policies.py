"""Text policies: which description the reasoner is shown, and what its answer does to the text
the backbone tracks with.

- ``static``: the reasoner is still asked (its answers are logged) but the text never changes.
- ``initial`` (the release): the reasoner always sees the initial description; ``d=yes`` sets the
  answer, ``d=no`` reverts to the initial description.
- ``cascaded`` (paper ablation): the reasoner sees the text in use; ``d=yes`` sets the answer,
  ``d=no`` keeps the text in use.
- ``dynamic+static`` (the paper's most robust variant): the reasoner sees the initial description;
  ``d=yes`` sets ``answer + separator + initial`` (``dynamic-first``, default) or ``initial +
  separator + answer`` (``static-first``); ``d=no`` reverts to the initial description. Backbones
  with a short text window (DUTrack keeps 14 word-pieces) cut the end: ``dynamic-first`` makes sure
  the new information survives, and the initial description fills what the window has left;
  ``fit`` keeps the answer first but shortens it (from its end) so that the whole initial
  description also fits the window, as the backbone reports through ``kept_text``.

What a failed call does (``on_failure``): ``revert`` (the release's rule, default) returns to the
initial description after a reasoner error, a timeout or an output the parser cannot use, exactly as
after ``d=no``, and hands every parsed answer to the policy (the parser decided); ``keep`` (ours)
leaves the text in use and lets only usable answers reach the policy.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable

from ..reasoning.types import Reasoning
from .config import PolicyConfig

__all__ = ["TextPolicy", "PolicyDecision", "clean_text", "answer_problem"]


def clean_text(text: str) -> str:
    """One line, single spaces: what a description may look like on the backbone's input."""
    return " ".join(str(text).split())


def answer_problem(answer: str, max_chars: int) -> str | None:
    """Why an answer must never become tracking text (None when it may): control characters
    (NUL, escape sequences, ...; whitespace is only collapsed) or more than ``max_chars``
    characters once cleaned. Such an answer counts as unusable output."""
    cleaned = clean_text(answer or "")
    bad = sorted({ch for ch in cleaned if unicodedata.category(ch) == "Cc"})
    if bad:
        shown = ", ".join(f"U+{ord(ch):04X}" for ch in bad[:5])
        return f"the answer contains control characters ({shown})"
    if len(cleaned) > max_chars:
        return f"the answer has {len(cleaned)} characters, more than policy.max_answer_chars={max_chars}"
    return None


def _comparable(text: str) -> str:
    """Letters and digits only, lower case: a word-piece tokenizer's decode of an untruncated text
    (lower-cased, re-spaced punctuation) compares equal to the text."""
    return "".join(ch for ch in str(text).lower() if ch.isalnum())


@dataclass(frozen=True)
class PolicyDecision:
    """The text in use after an answer, why, and what of it the backbone really sees."""

    text: str
    status: str  # updated | kept | reverted | ignored
    kept_text: str | None  # None for backbones that do not use text
    truncated: bool


class TextPolicy:
    """Per-sequence text state under one policy (``initial_text`` is the user's description;
    ``kept_text`` is the backbone's window, None for a backbone that ignores text)."""

    def __init__(self, config: PolicyConfig, initial_text: str, kept_text: Callable[[str], str] | None = None):
        self.config = config
        self.initial = clean_text(initial_text or "")
        self.current = self.initial
        self._kept_text = kept_text

    def reasoner_input(self) -> str:
        """The description the reasoner is asked about."""
        return self.current if self.config.kind == "cascaded" else self.initial

    def combine(self, answer: str) -> str:
        """The dynamic+static text, in the configured order."""
        dynamic = clean_text(answer)
        if self.config.order == "static-first":
            return self._join(self.initial, dynamic)
        if self.config.order == "fit":
            return self._fit(dynamic)
        return self._join(dynamic, self.initial)

    def _join(self, first: str, second: str) -> str:
        if not first or not second:
            return first or second
        mark = self.config.separator.strip()
        if mark and first.endswith(mark[0]):  # "a car." + ". " must not give "a car.. "
            first = first[:-1].rstrip()
        return first + self.config.separator + second

    def _survives(self, text: str) -> bool:
        return self._kept_text is None or _comparable(self._kept_text(text)) == _comparable(text)

    def _fit(self, dynamic: str) -> str:
        """Dynamic first, shortened word by word from its end until the whole initial description
        also fits the backbone's window (the longest such prefix; binary search, as fewer words
        never fit worse). When even the initial description alone does not fit, dynamic-first."""
        words = dynamic.split()
        full = self._join(dynamic, self.initial)
        if self._survives(full) or not self._survives(self.initial):
            return full
        low, high = 0, len(words) - 1  # invariant: a prefix of `low` words fits, `high + 1` does not
        while low < high:
            middle = (low + high + 1) // 2
            if self._survives(self._join(" ".join(words[:middle]), self.initial)):
                low = middle
            else:
                high = middle - 1
        return self._join(" ".join(words[:low]), self.initial)

    def revert(self) -> PolicyDecision:
        """Back to the initial description (a failed call under ``on_failure: revert``)."""
        status = "reverted" if self.current != self.initial else "kept"
        self.current = self.initial
        return self._decision(self.initial, status)

    def _decision(self, text: str, status: str) -> PolicyDecision:
        if self._kept_text is None:  # a vision-only backbone: no text window to report
            return PolicyDecision(text=text, status=status, kept_text=None, truncated=False)
        kept = self._kept_text(text)
        return PolicyDecision(text=text, status=status, kept_text=kept, truncated=_comparable(kept) != _comparable(text))

    def apply(self, reasoning: Reasoning) -> PolicyDecision:
        kind = self.config.kind
        answer = clean_text(reasoning.answer)
        if kind == "static":
            status, text = "ignored", self.current
        elif reasoning.update:
            text = self.combine(answer) if kind == "dynamic+static" else answer
            status = "updated"
        elif kind == "cascaded":
            status, text = "kept", self.current
        else:
            text = self.initial
            status = "reverted" if text != self.current else "kept"
        self.current = text
        return self._decision(text, status)
