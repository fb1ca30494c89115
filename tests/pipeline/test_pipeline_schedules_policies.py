"""Schedules, text policies and templates on constructed cases, through the ReasoningTracker."""

from __future__ import annotations

import numpy as np
import pytest
from pipeline_fakes import ReplayBackbone, ScriptedReasoner, answer, numbered_frames

from reasoningtrack.config import ConfigError
from reasoningtrack.pipeline import PipelineConfig, ReasoningTracker
from reasoningtrack.pipeline.config import MotionGateConfig, PolicyConfig, ScheduleConfig
from reasoningtrack.pipeline.policies import TextPolicy
from reasoningtrack.pipeline.schedules import MotionGate


def run(backbone, reasoner, count, text="a red car on the road", **config):
    cfg = PipelineConfig.from_dict(config)
    tracker = ReasoningTracker(backbone, reasoner, cfg)
    results = list(tracker.run(numbered_frames(count), backbone.boxes[0], text))
    return results


def event_frames(results):
    return [r.index for r in results if r.event is not None]


def always(update=True, text="new text"):
    return lambda n, description, context: answer(update, f"{text} {n}")


# -- schedules -----------------------------------------------------------------------------------


def test_interval_fires_every_u_frames_and_text_applies_on_next_frame(still_boxes):
    backbone = ReplayBackbone(still_boxes(31))
    reasoner = ScriptedReasoner(always())
    results = run(backbone, reasoner, 31, schedule={"triggers": ["interval"], "interval": {"every": 7}})
    assert event_frames(results) == [7, 14, 21, 28]
    assert [c["frame"] for c in reasoner.calls] == [7, 14, 21, 28]
    for k, t in enumerate([7, 14, 21, 28]):
        event = results[t].event
        assert event.applied_from == t + 1 and event.status == "updated"
        assert backbone.texts_used[t + 1] == f"new text {k}"
        assert results[t + 1].text == f"new text {k}"
    assert backbone.texts_used[7] == "a red car on the road"  # frame 7 itself is tracked with the old text


def motion_case():
    """Image 96x64: the gate fires when the top-left corner moved more than 64/32 = 2 px
    (Euclidean, from the reference box) or the area ratio fell below 0.95."""
    base = np.array([40.0, 20.0, 20.0, 20.0])
    boxes = np.tile(base, (71, 1))
    boxes[1:10] = base + [30, 30, 10, 10]  # wild moves between checks are never looked at
    boxes[10] = base + [0, 2.0, 0, 0]  # distance exactly 2: not more -> no
    boxes[11:20] = boxes[10]
    boxes[20] = base + [1.8, 1.8, 0, 0]  # 1.8 px on each axis, 2.55 px Euclidean > 2 -> fire
    boxes[21:30] = boxes[20]
    boxes[30] = boxes[20] + [1.5, 0, 0, 0]  # 1.5 px from the reference of frame 20 -> no
    boxes[31:40] = boxes[30]
    boxes[40] = boxes[20] + [2.5, 0, 0, 0]  # slow drift accumulates: 2.5 px from frame 20 -> fire
    boxes[41:50] = boxes[40]
    boxes[50] = boxes[40] * [1, 1, 1, 0.96]  # area ratio 0.96 >= 0.95 -> no
    boxes[51:60] = boxes[50]
    boxes[60] = boxes[40] * [1, 1, 1, 0.94]  # area ratio 0.94 < 0.95 -> fire
    boxes[61:70] = boxes[60]
    boxes[70] = boxes[60] * [1, 1, 1.06, 1]  # growth: min/max = 1/1.06 = 0.943 -> fire
    return boxes


def test_motion_gate_fires_exactly_where_the_rule_says():
    backbone = ReplayBackbone(motion_case())
    reasoner = ScriptedReasoner(always())
    results = run(backbone, reasoner, 71, schedule={"triggers": ["motion"]})
    assert event_frames(results) == [20, 40, 60, 70]
    assert all(results[t].event.triggers == ["motion"] for t in (20, 40, 60, 70))


def test_motion_gate_rule_unit():
    gate = MotionGate(MotionGateConfig())
    gate.reset([0, 0, 10, 10], (640, 320))  # width 640, height 320: limits 20 px (W/32) and 10 px (H/32)
    assert not gate.changed(np.array([0, 0, 10, 10.0]), np.array([6, 8, 10, 10.0]))  # 10 px exactly
    assert gate.changed(np.array([0, 0, 10, 10.0]), np.array([6, 8.01, 10, 10.0]))
    assert gate.changed(np.array([0, 0, 10, 10.0]), np.array([10.01, 0, 10, 10.0]))  # > H/32 although < W/32
    assert not gate.changed(np.array([0, 0, 10, 10.0]), np.array([0, 0, 10, 9.5]))  # ratio 0.95 exactly
    assert gate.changed(np.array([0, 0, 10, 10.0]), np.array([0, 0, 10, 9.49]))


def test_confidence_trigger_threshold_drop_and_cooldown(still_boxes):
    scores = [None, 0.9, 0.9, 0.9, 0.4, 0.9, 0.9, 0.2, 0.2, 0.2, 0.2, 0.2, 0.9, 0.9]
    backbone = ReplayBackbone(still_boxes(len(scores)), scores=scores)
    reasoner = ScriptedReasoner(always())
    config = {"triggers": ["confidence"], "confidence": {"threshold": 0.3, "drop_ratio": 0.5, "momentum": 0.5, "cooldown": 3}}
    results = run(backbone, reasoner, len(scores), schedule=config)
    # 4: 0.4 < 0.5 * reference 0.9 (a sharp drop); 5-7 quiet (cooldown 3) though 7 is low;
    # 8: 0.2 below the threshold; 9-11 quiet; 12-13 high again.
    assert event_frames(results) == [4, 8]


def test_confidence_trigger_never_fires_without_scores(still_boxes):
    backbone = ReplayBackbone(still_boxes(30))
    results = run(backbone, ScriptedReasoner(always()), 30, schedule={"triggers": ["confidence"]})
    assert event_frames(results) == []


def test_triggers_combine_any_and_all():
    boxes = motion_case()
    any_results = run(ReplayBackbone(boxes), ScriptedReasoner(always()), 71,
                      schedule={"triggers": ["interval", "motion"], "combine": "any", "interval": {"every": 25}})
    assert event_frames(any_results) == [20, 25, 40, 50, 60, 70]
    assert any_results[50].event.triggers == ["interval"]
    all_results = run(ReplayBackbone(boxes), ScriptedReasoner(always()), 71,
                      schedule={"triggers": ["interval", "motion"], "combine": "all", "interval": {"every": 20}})
    assert event_frames(all_results) == [20, 40, 60]
    assert all_results[40].event.triggers == ["interval", "motion"]


def test_schedule_config_validation():
    with pytest.raises(ConfigError, match="unknown trigger"):
        ScheduleConfig.from_dict({"triggers": ["sometimes"]})
    with pytest.raises(ConfigError, match="every"):
        PipelineConfig().with_overrides(["schedule.interval.every=0"])
    assert ScheduleConfig.from_dict({"triggers": "none"}).triggers == []
    assert PipelineConfig().with_overrides(["schedule.triggers=interval,motion"]).schedule.triggers == ["interval", "motion"]


def test_non_finite_and_out_of_range_settings_are_refused():
    """NaN passes every ``x < limit`` check: the typed configs refuse it (and inf) by name."""
    for overrides, message in (
        (["timeout_s=nan"], r"timeout_s: expected a finite number, got 'nan'"),
        (["timeout_s=.inf"], r"timeout_s: expected a finite number"),
        (["schedule.confidence.threshold=nan"], r"schedule.confidence.threshold: expected a finite number"),
        (["template.confidence=nan"], r"template.confidence: expected a finite number"),
        (["schedule.motion.shift_fraction=-0.5"], r"shift_fraction must be >= 0"),
        (["template.mark_thickness=-3"], r"template.mark_thickness must be >= 1 pixel, got -3"),
        (["template.mark_color=[256,0,0]"], r"mark_color must be three integers R,G,B in 0..255, got \[256, 0, 0\]"),
        (["template.mark_color=[0,-1,0]"], r"mark_color must be three integers"),
        (["policy.max_answer_chars=0"], r"max_answer_chars must be >= 1"),
    ):
        with pytest.raises(ConfigError, match=message):
            PipelineConfig().with_overrides(overrides)
    # and built directly, bypassing the loader
    with pytest.raises(ConfigError, match="timeout_s must be a finite number >= 0"):
        PipelineConfig(timeout_s=float("nan"))
    with pytest.raises(ConfigError, match="threshold must be a finite number"):
        PipelineConfig().schedule.confidence.__class__(threshold=float("nan"))


# -- text policies -------------------------------------------------------------------------------


@pytest.mark.parametrize("on_failure", ["revert", "keep"])
def test_answers_with_control_characters_or_runaway_length_are_never_tracking_text(still_boxes, on_failure):
    answers = ["a red\x00 car", "a red car \x1b[31m turning", "word " * 200, "a blue car", "a red car\tturning"]
    reasoner = ScriptedReasoner(lambda n, d, c: answer(True, answers[n]))
    backbone = ReplayBackbone(still_boxes(51))
    results = run(backbone, reasoner, 51, schedule={"interval": {"every": 10}},
                  policy={"kind": "initial", "on_failure": on_failure, "max_answer_chars": 300})
    events = [results[t].event for t in (10, 20, 30, 40, 50)]
    assert [e.status for e in events] == ["unusable", "unusable", "unusable", "updated", "updated"]
    assert "control characters (U+0000)" in events[0].error and "U+001B" in events[1].error
    assert "999 characters, more than policy.max_answer_chars=300" in events[2].error
    used = {text for _, text in backbone.set_text_calls} | {r.text for r in results}
    assert not any("\x00" in t or "\x1b" in t or len(t) > 300 for t in used)
    assert results[41].text == "a blue car" and results[51 - 1].text == "a blue car"
    assert "a red car turning" in backbone.set_text_calls[-1][1]  # a tab is whitespace: collapsed, kept
    assert tracker_summary(results).unusable == 3


def tracker_summary(results):
    from reasoningtrack.pipeline.results import RunSummary

    summary = RunSummary()
    for r in results:
        if r.event is not None:
            summary.count(r.event.status)
    return summary


def test_initial_policy_never_feeds_an_updated_text_and_no_reverts(still_boxes):
    decisions = [True, True, False, True]
    reasoner = ScriptedReasoner(lambda n, d, c: answer(decisions[n], f"dynamic {n}"))
    backbone = ReplayBackbone(still_boxes(41))
    results = run(backbone, reasoner, 41, policy={"kind": "initial"}, schedule={"interval": {"every": 10}})
    assert [c["description"] for c in reasoner.calls] == ["a red car on the road"] * 4
    assert [results[t].event.status for t in (10, 20, 30, 40)] == ["updated", "updated", "reverted", "updated"]
    assert results[31].text == "a red car on the road"
    assert results[21].text == "dynamic 1"


def test_cascaded_policy_feeds_the_last_text(still_boxes):
    decisions = [True, False, True, True]
    reasoner = ScriptedReasoner(lambda n, d, c: answer(decisions[n], f"dynamic {n}"))
    backbone = ReplayBackbone(still_boxes(41))
    results = run(backbone, reasoner, 41, policy={"kind": "cascaded"}, schedule={"interval": {"every": 10}})
    assert [c["description"] for c in reasoner.calls] == ["a red car on the road", "dynamic 0", "dynamic 0", "dynamic 2"]
    assert results[20].event.status == "kept" and results[21].text == "dynamic 0"


def test_static_policy_asks_but_never_changes_the_text(still_boxes):
    reasoner = ScriptedReasoner(always())
    backbone = ReplayBackbone(still_boxes(31))
    results = run(backbone, reasoner, 31, policy={"kind": "static"}, schedule={"interval": {"every": 10}})
    assert len(reasoner.calls) == 3
    assert {r.text for r in results} == {"a red car on the road"}
    assert backbone.set_text_calls == []
    assert [results[t].event.status for t in (10, 20, 30)] == ["ignored"] * 3


def test_dynamic_static_order_and_window_truncation(still_boxes):
    dynamic = "a blue car turning left."
    reasoner = ScriptedReasoner(lambda n, d, c: answer(True, dynamic))
    backbone = ReplayBackbone(still_boxes(11), window_words=7)
    results = run(backbone, reasoner, 11, policy={"kind": "dynamic+static"}, schedule={"interval": {"every": 10}})
    event = results[10].event
    assert event.text_applied == "a blue car turning left. a red car on the road"  # no doubled full stop
    assert event.kept_text == "a blue car turning left. a red"  # the dynamic part survives the window
    assert event.truncated
    assert reasoner.calls[0]["description"] == "a red car on the road"

    backbone = ReplayBackbone(still_boxes(11), window_words=7)
    results = run(backbone, ScriptedReasoner(lambda n, d, c: answer(True, dynamic)), 11,
                  policy={"kind": "dynamic+static", "order": "static-first", "separator": " ; "},
                  schedule={"interval": {"every": 10}})
    event = results[10].event
    assert event.text_applied == "a red car on the road ; a blue car turning left."
    assert event.kept_text == "a red car on the road ;"
    assert backbone.text == event.text_applied  # the backbone gets the whole text; it cuts by itself

    wide = ReplayBackbone(still_boxes(11), window_words=50)
    results = run(wide, ScriptedReasoner(lambda n, d, c: answer(True, dynamic)), 11,
                  policy={"kind": "dynamic+static"}, schedule={"interval": {"every": 10}})
    assert not results[10].event.truncated


def test_dynamic_static_reverts_on_no():
    policy = TextPolicy(PolicyConfig(kind="dynamic+static"), "a dog")
    assert policy.apply(answer(True, "a dog running")).text == "a dog running. a dog"
    decision = policy.apply(answer(False, "whatever"))
    assert decision.text == "a dog" and decision.status == "reverted"


# -- templates -----------------------------------------------------------------------------------


def test_template_first_frame_by_default(still_boxes):
    reasoner = ScriptedReasoner(always())
    run(ReplayBackbone(still_boxes(31)), reasoner, 31, schedule={"interval": {"every": 10}})
    assert [c["template_id"] for c in reasoner.calls] == [0, 0, 0]
    assert [c["current_id"] for c in reasoner.calls] == [10, 20, 30]


def test_template_last_confident_frame(still_boxes):
    scores = [None] + [0.9] * 5 + [0.1] * 10 + [0.8] * 3 + [0.2] * 2  # frames 0..20
    reasoner = ScriptedReasoner(always())
    results = run(ReplayBackbone(still_boxes(21), scores=scores), reasoner, 21,
                  schedule={"interval": {"every": 10}}, template={"source": "last-confident", "confidence": 0.5})
    assert [c["template_id"] for c in reasoner.calls] == [5, 18]
    assert [results[t].event.template_frame for t in (10, 20)] == [5, 18]


def test_template_box_marking(still_boxes):
    box = (10.0, 12.0, 20.0, 16.0)
    reasoner = ScriptedReasoner(always())
    run(ReplayBackbone(still_boxes(11, box)), reasoner, 11, schedule={"interval": {"every": 10}},
        template={"mark": "template", "mark_color": [0, 255, 0]})
    call = reasoner.calls[0]
    assert tuple(call["template"][12, 20]) == (0, 255, 0)  # top edge of the box
    assert tuple(call["template"][20, 10]) == (0, 255, 0)  # left edge
    assert call["current"][12, 20].sum() == 0  # the current frame is left alone
    reasoner = ScriptedReasoner(always())
    run(ReplayBackbone(still_boxes(11, box)), reasoner, 11, schedule={"interval": {"every": 10}}, template={"mark": "both"})
    assert tuple(reasoner.calls[0]["current"][28, 20]) == (255, 0, 0)  # bottom edge, default red


def test_dynamic_static_fit_shortens_the_answer_so_both_parts_survive():
    window = ReplayBackbone(np.zeros((1, 4)), window_words=9)
    policy = TextPolicy(PolicyConfig(kind="dynamic+static", order="fit"), "a red car on the road", window.kept_text)
    decision = policy.apply(answer(True, "a blue car turning left at the corner"))
    assert decision.text == "a blue car. a red car on the road"  # 3 + 6 words = the 9-word window
    assert decision.kept_text == decision.text and not decision.truncated
    # everything fits: nothing is shortened
    assert policy.apply(answer(True, "a blue car")).text == "a blue car. a red car on the road"
    # the initial description alone is too long for the window: plain dynamic-first
    tiny = ReplayBackbone(np.zeros((1, 4)), window_words=4)
    policy = TextPolicy(PolicyConfig(kind="dynamic+static", order="fit"), "a red car on the road", tiny.kept_text)
    assert policy.apply(answer(True, "a blue car")).text == "a blue car. a red car on the road"
    # a backbone that reads no text: nothing to fit
    policy = TextPolicy(PolicyConfig(kind="dynamic+static", order="fit"), "a red car", None)
    assert policy.apply(answer(True, "a blue car turning left")).text == "a blue car turning left. a red car"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_motion_gate_matches_the_rule_on_random_walks(seed):
    """Random boxes (slow drift with jumps and size changes) against the rule written out plainly."""
    rng = np.random.default_rng(seed)
    count, height, width, check = 300, 64, 96, 7
    boxes = [np.array([40.0, 20.0, 20.0, 20.0])]
    for _ in range(count - 1):
        step = rng.normal(0, 0.6, 4) * [1, 1, 0.2, 0.2]
        if rng.random() < 0.05:
            step[:2] += rng.normal(0, 4, 2)
        boxes.append(np.maximum(boxes[-1] + step, [0, 0, 4, 4]))
    boxes = np.array(boxes)
    expected, reference = [], boxes[0]
    for t in range(check, count, check):
        a_ref, a_now = reference[2] * reference[3], boxes[t][2] * boxes[t][3]
        moved = ((boxes[t][0] - reference[0]) ** 2 + (boxes[t][1] - reference[1]) ** 2) ** 0.5
        if min(a_ref, a_now) / max(a_ref, a_now) < 0.95 or moved > height / 32 or moved > width / 32:
            expected.append(t)
            reference = boxes[t]  # the reference moves only when the gate fires
    backbone = ReplayBackbone(boxes)
    tracker = ReasoningTracker(backbone, ScriptedReasoner(always()),
                              PipelineConfig.from_dict({"schedule": {"triggers": ["motion"], "motion": {"check_every": check}}}))
    results = list(tracker.run(numbered_frames(count, height, width), boxes[0], "a car"))
    assert 3 < len(expected) < len(range(check, count, check))  # the walk exercises both outcomes
    assert event_frames(results) == expected


def test_motion_reference_moves_only_when_the_reasoner_is_asked():
    """The release moves its reference box when it calls the VLM: a fire that finds a call still
    in flight (here: a timed-out one) asks nothing, so the same displacement fires again later."""
    import time

    count = 51
    boxes = np.tile([20.0, 20.0, 10.0, 10.0], (count, 1))
    boxes[5:] += [5.0, 0, 0, 0]  # a jump (5 px > 64/32): fires at 10
    boxes[15:] += [5.0, 0, 0, 0]  # another: fires at 20, while the first call is still in flight
    backbone = ReplayBackbone(boxes, track_delay=0.05)

    def respond(n, description, context):
        if n == 0:
            time.sleep(1.5)  # times out after 0.2 s and keeps the worker busy past frame 20
        return answer(True, f"new text {n}")

    reasoner = ScriptedReasoner(respond)
    config = PipelineConfig.from_dict({"schedule": {"triggers": ["motion"]}, "timeout_s": 0.2})
    results = list(ReasoningTracker(backbone, reasoner, config).run(numbered_frames(count), boxes[0], "a car"))
    assert results[10].event.status == "timeout" and results[20].event is None
    # the reference stayed at frame 10's box, so the displacement of frame 15 fires again once the
    # worker is free (without that rule the reference would have moved at 20 and nothing would fire)
    later = event_frames(results)[1:]
    assert len(later) == 1 and later[0] in (30, 40, 50) and [c["frame"] for c in reasoner.calls] == [10, later[0]]
