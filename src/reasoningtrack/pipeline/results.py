"""What the ReasoningTracker yields: one FrameResult per frame, reasoning events, a run summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["ReasoningEvent", "FrameTimings", "FrameResult", "RunSummary", "EVENT_STATUSES", "FAILED_STATUSES"]

#: updated/kept/reverted/ignored: a usable answer under the policy (``updated``: the text changed);
#: reapplied: d=yes with the text already in use (nothing changed); error: the reasoner raised;
#: timeout: no answer within ``timeout_s``; unusable: garbage; dropped: the sequence ended first.
EVENT_STATUSES = ("updated", "reapplied", "kept", "reverted", "ignored", "error", "timeout", "unusable", "dropped")
#: Statuses of a reasoning call that failed (counted against the run: see RunSummary.errors).
FAILED_STATUSES = ("error", "timeout", "unusable")


@dataclass
class ReasoningEvent:
    """One reasoning call and what it did.

    ``frame``: the frame the reasoner looked at. ``applied_from``: the first frame tracked with the
    resulting text (``frame + 1`` in sync mode, later in async mode; None when nothing was applied).
    ``input_text``: the description the reasoner was asked about; ``text_before``/``text_applied``:
    the text in use before and after; ``kept_text``: what of ``text_applied`` the backbone sees.
    """

    frame: int
    triggers: list[str]
    template_frame: int
    input_text: str
    text_before: str
    status: str
    text_applied: str
    kept_text: str | None = None
    truncated: bool = False
    think: str | None = None
    decision: str | None = None  # "yes" | "no" | None (no usable answer)
    answer: str | None = None
    raw: str | None = None
    format_ok: bool | None = None
    strict_ok: bool | None = None
    applied_from: int | None = None
    latency_s: float | None = None
    error: str | None = None

    def to_dict(self, timings: bool = True) -> dict:
        """JSON-ready; ``timings=False`` leaves out the wall-clock latency (reproducible logs)."""
        out = asdict(self)
        if not timings:
            out.pop("latency_s")
        return out


@dataclass
class FrameTimings:
    """Seconds spent on this frame: backbone ``track``, reasoning in the tracking thread (sync
    waits; 0 in async mode) and the whole step."""

    track_s: float = 0.0
    reason_s: float = 0.0
    total_s: float = 0.0


@dataclass
class FrameResult:
    """One frame: the box, the backbone's score, the text tracked with, an event resolved here."""

    index: int
    box: np.ndarray
    score: float | None
    text: str
    event: ReasoningEvent | None = None
    timings: FrameTimings = field(default_factory=FrameTimings)


@dataclass
class RunSummary:
    """Counts of one run. ``updates``: answers that changed the text; ``reverts``: answers that
    brought the initial description back; ``reapplied``: d=yes answers whose text was already in
    use (no change, counted apart so that they never pass for updates); ``errors``: failed calls of
    any kind, of which ``timeouts`` hung and ``unusable`` answered garbage (the rest raised)."""

    frames: int = 0
    seconds: float = 0.0
    track_seconds: float = 0.0
    reasoning_calls: int = 0
    updates: int = 0
    reverts: int = 0
    reapplied: int = 0
    errors: int = 0
    timeouts: int = 0
    unusable: int = 0
    skipped_busy: int = 0
    dropped: int = 0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def text_changes(self) -> int:
        return self.updates + self.reverts

    def count(self, status: str) -> None:
        """Count one resolved call by its event status."""
        self.reasoning_calls += 1
        if status == "updated":
            self.updates += 1
        elif status == "reverted":
            self.reverts += 1
        elif status == "reapplied":
            self.reapplied += 1
        elif status in FAILED_STATUSES:
            self.errors += 1
            self.timeouts += status == "timeout"
            self.unusable += status == "unusable"

    def failure_counts(self) -> dict:
        """Failed calls by kind (what a benchmark records per sequence)."""
        return {"error": self.errors - self.timeouts - self.unusable, "timeout": self.timeouts, "unusable": self.unusable}

    def to_dict(self) -> dict:
        out = asdict(self)
        out["fps"] = self.fps
        out["text_changes"] = self.text_changes
        return out

    def describe(self) -> str:
        failed = ""
        if self.errors:
            kinds = ", ".join(f"{n} {k}" for k, n in self.failure_counts().items() if n)
            failed = f", {self.errors} failed ({kinds})"
        return (
            f"{self.frames} frames in {self.seconds:.2f} s ({self.fps:.1f} fps); "
            f"{self.reasoning_calls} reasoning calls: {self.text_changes} text changes "
            f"({self.updates} updates, {self.reverts} reverts), {self.reapplied} re-applied the text in use"
            + failed
            + (f", {self.skipped_busy} skipped (reasoner busy)" if self.skipped_busy else "")
            + (f", {self.dropped} dropped at the end" if self.dropped else "")
        )
