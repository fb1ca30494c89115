"""ReasoningTracker: the backbone on every frame, the reasoner when the schedule asks.

Per frame ``t >= 1``: (async) apply an answer that has arrived; ``backbone.track``; let the template
memory and the schedule see the result; if the schedule fires, ask the reasoner about frame ``t``
(sync: wait, the text applies from ``t + 1``; async: hand the request to a worker thread and go
on, the text applies from the first frame after the answer arrives). A reasoner that raises, hangs
past ``timeout_s`` or answers garbage is logged as an event; the text then reverts to the initial
description (``policy.on_failure: revert``, the release's rule) or stays (``keep``, ours).
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Iterable, Iterator

import numpy as np

from ..reasoning.types import Reasoning, ReasoningContext
from ..trackers.base import Backbone
from ..reasoning.base import Reasoner
from .async_reasoning import CallOutcome, PendingCall, ReasonerWorker
from .config import PipelineConfig
from .policies import TextPolicy, answer_problem, clean_text
from .results import FrameResult, FrameTimings, ReasoningEvent, RunSummary
from .schedules import build_schedule
from .templates import TemplateMemory

__all__ = ["ReasoningTracker", "TrackingRun"]

log = logging.getLogger(__name__)


def unusable_reason(value) -> str | None:
    """Why a reasoner's return value cannot change the text (None when it can)."""
    if not isinstance(value, Reasoning):
        return f"the reasoner returned {type(value).__name__}, not a Reasoning"
    if not value.format_ok:
        return "the answer is not in the <think>/<d>/<answer> format"
    if value.update and not clean_text(value.answer or ""):
        return "d=yes with an empty answer"
    return None


class ReasoningTracker:
    """A backbone, a reasoner and a :class:`PipelineConfig`; ``run`` tracks one sequence."""

    def __init__(self, backbone: Backbone, reasoner: Reasoner | None, config: PipelineConfig | None = None):
        self.backbone = backbone
        self.reasoner = reasoner
        self.config = config or PipelineConfig()

    def run(self, frames: Iterable[np.ndarray], init_box, text: str | None) -> "TrackingRun":
        """Track ``frames`` (the first is the init frame) from ``init_box`` with description ``text``."""
        return TrackingRun(self, frames, init_box, text or "")

    def close(self) -> None:
        self.backbone.close()
        if self.reasoner is not None:
            self.reasoner.close()


class TrackingRun:
    """An iterable of :class:`FrameResult` (one per frame, the init frame first).

    After iteration, ``summary`` holds the counts and ``closing_events`` the requests that were
    still unanswered when the frames ran out (async mode: dropped, logged).
    """

    def __init__(self, tracker: ReasoningTracker, frames: Iterable[np.ndarray], init_box, text: str):
        self.tracker = tracker
        self.config = tracker.config
        self.frames = frames
        self.init_box = np.asarray(init_box, dtype=np.float64).reshape(4).copy()
        self.text = text
        self.summary = RunSummary()
        self.closing_events: list[ReasoningEvent] = []
        #: The frame of the result just yielded (for writers that draw on it).
        self.last_frame: np.ndarray | None = None
        self._started = False

    # -- the loop -----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[FrameResult]:
        if self._started:
            raise RuntimeError("a TrackingRun can be iterated only once; call tracker.run(...) again")
        self._started = True
        return self._loop()

    def _loop(self) -> Iterator[FrameResult]:
        cfg = self.config
        backbone = self.tracker.backbone
        reasoner = self.tracker.reasoner
        schedule = build_schedule(cfg.schedule)
        templates = TemplateMemory(cfg.template)
        policy = TextPolicy(cfg.policy, self.text, backbone.kept_text if backbone.uses_text else None)
        worker = ReasonerWorker(cfg.timeout_s)
        self._policy, self._backbone, self._templates, self._worker = policy, backbone, templates, worker
        summary = self.summary
        pending: PendingCall | None = None
        clock = time.perf_counter
        run_start = clock()

        iterator = iter(self.frames)
        try:
            first = next(iterator)
        except StopIteration:
            return
        t0 = clock()
        backbone.initialize(first, self.init_box.copy(), policy.current)
        init_s = clock() - t0
        height, width = first.shape[:2]
        schedule.reset(self.init_box, (width, height))
        templates.reset(first, self.init_box)
        summary.frames = 1
        summary.track_seconds += init_s
        previous_box = self.init_box
        self.last_frame = first
        summary.seconds = clock() - run_start
        yield FrameResult(0, self.init_box.copy(), None, policy.current, None, FrameTimings(init_s, 0.0, clock() - t0))

        index = 0
        try:
            for frame in iterator:
                index += 1
                step_start = clock()
                event, pending = self._collect(pending, index, step_start)
                text_in_use = policy.current

                t_track = clock()
                prediction = backbone.track(frame)
                track_s = clock() - t_track
                box = np.asarray(prediction.box, dtype=np.float64).reshape(4)
                score = None if prediction.score is None else float(prediction.score)
                templates.observe(index, frame, box, score)

                reason_s = 0.0
                fired = schedule.observe(index, box, score) if reasoner is not None else []
                if fired:
                    if worker.busy or pending is not None:
                        summary.skipped_busy += 1
                        schedule.declined()  # no call: the motion gate's reference stays (the release's rule)
                    else:
                        ask, payload = self._request(reasoner, fired, index, frame, box, score, previous_box)
                        if cfg.mode == "async":
                            pending = worker.submit(ask, payload)
                        else:
                            t_reason = clock()
                            outcome = worker.wait(worker.submit(ask, payload)) if worker.timeout_s > 0 else worker.run_inline(ask)
                            reason_s = clock() - t_reason
                            event = self._resolve(payload, outcome, index + 1)

                previous_box = box
                summary.frames += 1
                summary.track_seconds += track_s
                self.last_frame = frame
                yield FrameResult(index, box, score, text_in_use, event, FrameTimings(track_s, reason_s, clock() - step_start))
        finally:
            if pending is not None:
                worker.abandon(pending, "the sequence ended")
                outcome = pending.outcome() if pending.done.is_set() else None
                self.closing_events.append(self._dropped(pending.payload, outcome))
            summary.seconds = clock() - run_start

    def _collect(self, pending: PendingCall | None, index: int, now: float) -> tuple[ReasoningEvent | None, PendingCall | None]:
        """An asynchronous call's answer, once there (or its timeout), as the event applied from
        frame ``index``; the call still pending otherwise."""
        worker = self._worker
        if pending is None:
            return None, None
        if pending.done.is_set():
            return self._resolve(pending.payload, pending.outcome(), index), None
        if worker.timed_out(pending, now):
            worker.abandon(pending, "timeout")
            outcome = CallOutcome("timeout", error=f"no answer within {worker.timeout_s:g} s", latency_s=now - pending.started)
            return self._resolve(pending.payload, outcome, index), None
        return None, pending

    def _request(self, reasoner, fired: list[str], index: int, frame, box, score, previous_box) -> tuple[Callable, dict]:
        """The reasoner call for frame ``index`` (template and current image, the text to judge,
        the context) and its log payload."""
        images = self._templates.images(frame, box)
        context = ReasoningContext(
            frame_index=index,
            template_index=images.template_index,
            template_box=images.template_box,
            current_box=box,
            previous_box=previous_box,
            score=score,
        )
        input_text = self._policy.reasoner_input()
        payload = {"frame": index, "triggers": fired, "template_frame": images.template_index, "input_text": input_text}

        def ask():
            return reasoner.reason(images.template, images.current, input_text, context)

        return ask, payload

    # -- events -------------------------------------------------------------------------------
    def _event(self, payload: dict, status: str, *, before: str | None = None, applied=None, **fields) -> ReasoningEvent:
        """The log record of one call: ``before`` is the text it replaced (default: the text in use)
        and ``applied`` the text policy's decision on it (none: the text stays)."""
        current = self._policy.current
        if applied is not None:
            fields.update(text_applied=applied.text, kept_text=applied.kept_text, truncated=applied.truncated)
        return ReasoningEvent(
            frame=payload["frame"],
            triggers=list(payload["triggers"]),
            template_frame=payload["template_frame"],
            input_text=payload["input_text"],
            text_before=current if before is None else before,
            status=status,
            **{"text_applied": current, **fields},
        )

    def _resolve(self, payload: dict, outcome: CallOutcome, applied_from: int) -> ReasoningEvent:
        """Turn a call's outcome into an event and, when usable, into the new text."""
        summary = self.summary
        revert = self.config.policy.on_failure == "revert"
        if outcome.status != "ok":
            summary.count(outcome.status)
            log.warning("reasoning on frame %d failed (%s): %s", payload["frame"], outcome.status, outcome.error)
            if revert:
                return self._reverted(payload, outcome.status, applied_from, latency_s=outcome.latency_s, error=outcome.error)
            return self._event(payload, outcome.status, latency_s=outcome.latency_s, error=outcome.error)
        value = outcome.value
        problem = unusable_reason(value)
        if revert and isinstance(value, Reasoning) and (value.update or value.format_ok):
            problem = None  # the parser decided (the release's rule): d=no reverts
        # (garbage -- no update and not in the format -- reverts too, but is counted as unusable:
        # a model that only answers garbage must not pass for one that chose d=no every time)
        if problem is None and isinstance(value, Reasoning) and value.update:
            # whatever the rule, text with control characters or a runaway length is never tracked with
            problem = answer_problem(value.answer, self.config.policy.max_answer_chars)
        answer_fields = {}
        if isinstance(value, Reasoning):
            answer_fields = dict(think=value.think, answer=value.answer, raw=value.raw, format_ok=value.format_ok, strict_ok=value.strict_ok)
        if problem is not None:
            summary.count("unusable")
            log.warning("reasoning on frame %d gave an unusable answer: %s", payload["frame"], problem)
            if not isinstance(value, Reasoning):
                answer_fields = {"raw": repr(value)[:2000]}
            if revert:
                return self._reverted(payload, "unusable", applied_from, latency_s=outcome.latency_s, error=problem, **answer_fields)
            return self._event(payload, "unusable", latency_s=outcome.latency_s, error=problem, **answer_fields)
        before = self._policy.current
        decision = self._policy.apply(value)
        if decision.text != before:
            self._backbone.set_text(decision.text)
        status = decision.status
        if status == "updated" and decision.text == before:
            status = "reapplied"  # d=yes with the text in use: nothing changed, not an update
        summary.count(status)
        return self._event(payload, status, before=before, applied=decision, applied_from=applied_from,
                           decision="yes" if value.update else "no", latency_s=outcome.latency_s, **answer_fields)

    def _reverted(self, payload: dict, status: str, applied_from: int, **fields) -> ReasoningEvent:
        """A failed call under ``on_failure: revert``: back to the initial description (logged)."""
        before = self._policy.current
        decision = self._policy.revert()
        if decision.text != before:
            self._backbone.set_text(decision.text)
            self.summary.reverts += 1  # a text change like any other (text_changes matches the log)
        return self._event(payload, status, before=before, applied=decision, applied_from=applied_from, **fields)

    def _dropped(self, payload: dict, outcome: CallOutcome | None) -> ReasoningEvent:
        self.summary.dropped += 1
        fields = {}
        if outcome is not None and outcome.status == "ok" and isinstance(outcome.value, Reasoning):
            value = outcome.value
            fields = dict(think=value.think, decision="yes" if value.update else "no", answer=value.answer, raw=value.raw,
                          format_ok=value.format_ok, strict_ok=value.strict_ok, latency_s=outcome.latency_s)
        log.info("reasoning requested on frame %d was dropped: the sequence ended first", payload["frame"])
        return self._event(payload, "dropped", error="the sequence ended before the answer was applied", **fields)
