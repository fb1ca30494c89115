"""Asynchronous reasoning never blocks tracking; failing, hanging and garbage reasoners are logged
and leave tracking running."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from pipeline_fakes import ReplayBackbone, ScriptedReasoner, answer, numbered_frames

from reasoningtrack.pipeline import PipelineConfig, ReasoningTracker
from reasoningtrack.pipeline.async_reasoning import THREAD_NAME
from reasoningtrack.reasoning.types import Reasoning


def reasoner_threads():
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def wait_for_no_reasoner_threads(limit=5.0):
    deadline = time.perf_counter() + limit
    while reasoner_threads() and time.perf_counter() < deadline:
        time.sleep(0.01)
    return reasoner_threads()


def make_run(backbone, reasoner, count, text="a red car", **config):
    tracker = ReasoningTracker(backbone, reasoner, PipelineConfig.from_dict(config))
    return tracker.run(numbered_frames(count), backbone.boxes[0], text)


def test_async_applies_answers_late_and_never_blocks(still_boxes):
    latency, step = 0.3, 0.01
    backbone = ReplayBackbone(still_boxes(80), track_delay=step)
    reasoner = ScriptedReasoner(lambda n, d, c: answer(True, f"dynamic {n}"), latency=latency)
    run = make_run(backbone, reasoner, 80, mode="async", schedule={"interval": {"every": 5}})
    results = list(run)
    assert len(results) == 80
    slowest = max(r.timings.total_s for r in results[1:])
    assert slowest < latency / 2, f"a tracking step waited for the reasoner ({slowest:.3f} s)"
    assert all(r.timings.reason_s == 0.0 for r in results)
    assert {c["thread"] for c in reasoner.calls} == {THREAD_NAME}
    events = [r.event for r in results if r.event is not None]
    assert events, "no answer arrived during the sequence"
    for event in events:
        # requested on frame f, applied when it arrived: about latency/step frames later, never at f + 1
        assert event.applied_from - event.frame >= 5
        assert results[event.applied_from].text == event.text_applied
        assert backbone.texts_used[event.applied_from] == event.text_applied
    # at most one request in flight: calls never overlap, and requests made while busy were skipped
    assert run.summary.skipped_busy > 0
    assert len(reasoner.calls) == len(events) + len(run.closing_events)
    assert run.summary.reasoning_calls == len(events)


def test_async_shutdown_drops_a_late_answer_and_leaves_no_thread(still_boxes):
    backbone = ReplayBackbone(still_boxes(12))
    reasoner = ScriptedReasoner(lambda n, d, c: answer(True, "too late"), latency=1.0)
    run = make_run(backbone, reasoner, 12, mode="async", schedule={"interval": {"every": 10}})
    start = time.perf_counter()
    results = list(run)
    assert time.perf_counter() - start < 0.5, "the end of the sequence waited for the reasoner"
    assert all(r.event is None for r in results)
    assert [e.status for e in run.closing_events] == ["dropped"]
    assert run.closing_events[0].frame == 10 and run.closing_events[0].applied_from is None
    assert run.summary.dropped == 1
    assert {r.text for r in results} == {"a red car"}
    assert wait_for_no_reasoner_threads() == []


def test_sync_mode_waits_and_is_deterministic(still_boxes):
    def go():
        backbone = ReplayBackbone(still_boxes(40))
        reasoner = ScriptedReasoner(lambda n, d, c: answer(n % 2 == 0, f"dynamic {n}"), latency=0.01)
        results = list(make_run(backbone, reasoner, 40, schedule={"interval": {"every": 4}}))
        return [(r.index, r.text, r.event.to_dict(timings=False) if r.event else None) for r in results], results

    first, results = go()
    second, _ = go()
    assert first == second
    assert all(results[t].timings.reason_s >= 0.01 for t in range(4, 40, 4))


@pytest.mark.parametrize("mode,on_failure", [("sync", "revert"), ("async", "revert"), ("sync", "keep"), ("async", "keep")])
def test_raising_reasoner_is_logged_and_tracking_goes_on(still_boxes, mode, on_failure):
    def respond(n, d, c):
        if n == 1:
            raise RuntimeError("server unreachable")
        return answer(True, f"dynamic {n}")

    backbone = ReplayBackbone(still_boxes(40))
    reasoner = ScriptedReasoner(respond)
    run = make_run(backbone, reasoner, 40, mode=mode, schedule={"interval": {"every": 10}}, policy={"on_failure": on_failure})
    results = list(run)
    assert len(results) == 40
    events = [r.event for r in results if r.event is not None]
    assert [e.status for e in events][:3] == ["updated", "error", "updated"]
    failed = events[1]
    assert "RuntimeError: server unreachable" in failed.error
    assert failed.text_before == "dynamic 0"
    # the release reverts to the initial description after a failed call; ours keeps the text
    assert failed.text_applied == ("a red car" if on_failure == "revert" else "dynamic 0")
    assert results[failed.applied_from or failed.frame + 1].text == failed.text_applied
    assert run.summary.errors == 1


def test_hanging_reasoner_times_out_in_sync_mode(still_boxes):
    release = threading.Event()

    def respond(n, d, c):
        if n == 0:
            release.wait(10)
            return answer(True, "far too late")
        return answer(True, f"dynamic {n}")

    backbone = ReplayBackbone(still_boxes(40))
    reasoner = ScriptedReasoner(respond)
    try:
        start = time.perf_counter()
        run = make_run(backbone, reasoner, 40, schedule={"interval": {"every": 10}}, timeout_s=0.2)
        results = list(run)
        elapsed = time.perf_counter() - start
        assert len(results) == 40 and elapsed < 2.0
        events = [r.event for r in results if r.event is not None]
        assert [e.status for e in events] == ["timeout"]
        assert "no answer within 0.2 s" in events[0].error
        # the abandoned call still occupies the reasoner: later requests are skipped, not stacked
        assert run.summary.skipped_busy == 2 and len(reasoner.calls) == 1
        assert {r.text for r in results} == {"a red car"}
    finally:
        release.set()
    assert wait_for_no_reasoner_threads() == []


def test_hanging_reasoner_times_out_in_async_mode(still_boxes):
    release = threading.Event()
    reasoner = ScriptedReasoner(lambda n, d, c: (release.wait(10), answer(True, "late"))[1])
    backbone = ReplayBackbone(still_boxes(60), track_delay=0.01)
    try:
        run = make_run(backbone, reasoner, 60, mode="async", schedule={"interval": {"every": 5}}, timeout_s=0.1)
        results = list(run)
        events = [r.event for r in results if r.event is not None]
        assert [e.status for e in events] == ["timeout"]
        assert max(r.timings.total_s for r in results[1:]) < 0.5  # a waiting step would take 10 s
        assert len(reasoner.calls) == 1
    finally:
        release.set()
    assert wait_for_no_reasoner_threads() == []


@pytest.mark.parametrize(
    "garbage",
    [
        "definitely not a Reasoning",
        None,
        Reasoning(think="", update=False, answer="", raw="lorem ipsum", format_ok=False, strict_ok=False),
        Reasoning(think="t", update=True, answer="   ", raw="<think>t</think><d>yes</d><answer> </answer>", format_ok=True, strict_ok=True),
    ],
)
def test_garbage_answer_is_logged_and_the_text_stays_under_keep(still_boxes, garbage):
    """Our variant ``on_failure: keep`` (the release's rule, revert, is tested in test_release_rules)."""
    replies = [answer(True, "a red car turning"), garbage, answer(True, "a red car parked")]
    backbone = ReplayBackbone(still_boxes(31))
    run = make_run(backbone, ScriptedReasoner(lambda n, d, c: replies[n]), 31, schedule={"interval": {"every": 10}},
                   policy={"on_failure": "keep"})
    results = list(run)
    assert len(results) == 31
    event = results[20].event
    assert event.status == "unusable" and event.error
    # under the initial policy a real d=no would revert; garbage must leave the text alone
    assert event.text_applied == "a red car turning" and results[21].text == "a red car turning"
    assert results[30].event.status == "updated"


def test_no_reasoner_tracks_with_the_backbone_alone(still_boxes):
    backbone = ReplayBackbone(still_boxes(25))
    run = ReasoningTracker(backbone, None, PipelineConfig()).run(numbered_frames(25), backbone.boxes[0], "x")
    results = list(run)
    assert len(results) == 25 and run.summary.reasoning_calls == 0
    np.testing.assert_array_equal(results[0].box, backbone.boxes[0])


def test_stopping_early_abandons_the_pending_call(still_boxes):
    backbone = ReplayBackbone(still_boxes(50))
    reasoner = ScriptedReasoner(lambda n, d, c: answer(True, "late"), latency=0.2)
    run = make_run(backbone, reasoner, 50, mode="async", schedule={"interval": {"every": 5}})
    iterator = iter(run)
    for result in iterator:
        if result.index == 6:
            break
    iterator.close()
    assert [e.status for e in run.closing_events] == ["dropped"]
    assert wait_for_no_reasoner_threads() == []
