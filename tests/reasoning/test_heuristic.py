"""The weight-free reasoners on generated images: what they measure and when they update."""

from __future__ import annotations

import time

import numpy as np
import pytest

from reasoningtrack.config import ConfigError
from reasoningtrack.reasoning import REASONERS, ReasoningContext
from reasoningtrack.reasoning.heuristic import (
    COLOUR_NAMES,
    HeuristicConfig,
    HeuristicReasoner,
    description_colour,
    dominant_colour,
    head_noun,
)
from reasoningtrack.reasoning.parser import parse
from reasoningtrack.reasoning.static import StaticReasoner

RGB = {
    "red": (220, 20, 20),
    "orange": (255, 140, 0),
    "yellow": (240, 230, 40),
    "green": (30, 180, 40),
    "cyan": (0, 220, 220),
    "blue": (20, 40, 220),
    "purple": (130, 40, 200),
    "pink": (255, 150, 200),
    "white": (250, 250, 250),
    "gray": (128, 128, 128),
    "black": (10, 10, 10),
    "brown": (120, 70, 20),
}
BOX = np.array([140.0, 100.0, 40.0, 40.0])  # centre of a 320x240 frame


def scene(colour, box=BOX, background=(90, 110, 70), size=(320, 240)) -> np.ndarray:
    frame = np.empty((size[1], size[0], 3), np.uint8)
    frame[:] = background
    x, y, w, h = (int(v) for v in box)
    frame[y : y + h, x : x + w] = RGB[colour] if isinstance(colour, str) else colour
    return frame


def context(current=BOX, template=BOX, previous=None, score=0.95) -> ReasoningContext:
    return ReasoningContext(
        frame_index=50, template_index=0, template_box=template, current_box=current, previous_box=previous, score=score
    )


@pytest.fixture()
def heuristic() -> HeuristicReasoner:
    return REASONERS.build("heuristic")


def assert_model_format(result, description):
    again = parse(result.raw, previous=description)
    assert result.format_ok and result.strict_ok
    assert (again.update, again.answer, again.think) == (result.update, result.answer, result.think)
    assert result.raw.startswith("<think>") and f"<d>{'yes' if result.update else 'no'}</d>" in result.raw


def test_red_square_turning_blue_is_updated(heuristic):
    result = heuristic.reason(scene("red"), scene("blue"), "a red square", context())
    assert result.update is True
    assert result.answer.split()[:2] == ["blue", "square"]
    assert "dominant colour is blue" in result.think and "the description says red" in result.think
    assert "In the template it was red" in result.think
    assert_model_format(result, "a red square")


def test_non_ascii_letters_stay_in_the_words(heuristic):
    """Words are letters of any script: "vélo" is one word, not "v" and "lo"."""
    assert head_noun("a red vélo on the road") == "vélo"
    assert head_noun("ein rotes Fahrrad") == "fahrrad"
    assert head_noun("the naïve man's café-chair") == "café-chair"
    result = heuristic.reason(scene("red"), scene("blue"), "a red vélo", context())
    assert result.update is True and result.answer.split()[:2] == ["blue", "vélo"]
    assert_model_format(result, "a red vélo")


def test_unchanged_target_is_not_updated(heuristic):
    result = heuristic.reason(scene("red"), scene("red"), "a red square", context(previous=BOX))
    assert result.update is False and result.answer == "a red square"
    assert "still fits" in result.think and "not moving" in result.think
    assert_model_format(result, "a red square")


@pytest.mark.parametrize("name", COLOUR_NAMES)
def test_palette_names_flat_targets(name):
    colour, share = dominant_colour(scene(name), BOX, HeuristicConfig())
    assert (colour, share) == (name, 1.0)


def test_colour_uses_the_box_centre_and_majority():
    frame = scene("green")
    frame[100:104, 140:180] = RGB["white"]  # a thin white border row: outside the central 60%
    frame[118:128, 140:180] = RGB["blue"]  # a stripe inside the centre, but a minority
    colour, share = dominant_colour(frame, BOX, HeuristicConfig())
    assert colour == "green" and 0.5 < share < 1.0


def test_position_motion_and_size(heuristic):
    moved = np.array([250.0, 10.0, 40.0, 40.0])  # top right, far from the template
    result = heuristic.reason(
        scene("red"), scene("red", moved), "the red car", context(current=moved, previous=moved - [6, 0, 0, 0])
    )
    assert result.update is True
    assert result.answer == "red car at the top right moving right"
    assert "moved" in result.think
    up = heuristic.reason(scene("red"), scene("red"), "the red car", context(previous=BOX + [0, 8, 0, 0]))
    assert up.update is False and "moving up" in up.think

    big = np.array([120.0, 80.0, 80.0, 80.0])  # same centre, 4x the area
    grown = heuristic.reason(scene("red"), scene("red", big), "red car", context(current=big))
    assert grown.update is True and "larger than in the template (area x4.00)" in grown.think
    assert grown.answer == "red car in the center"
    small = np.array([150.0, 110.0, 20.0, 20.0])
    shrunk = heuristic.reason(scene("red"), scene("red", small), "red car", context(current=small))
    assert shrunk.update is True and "smaller than in the template" in shrunk.think


def test_low_score_means_possible_occlusion_and_no_update(heuristic):
    result = heuristic.reason(scene("red"), scene("blue"), "a red square", context(score=0.2))
    assert result.update is False and result.answer == "a red square"
    assert "the target may be occluded or out of view" in result.think
    assert_model_format(result, "a red square")


def test_without_a_box_nothing_is_measured(heuristic):
    result = heuristic.reason(scene("red"), scene("blue"), "a red square", None)
    assert result.update is False and result.answer == "a red square" and result.strict_ok


def test_missing_colour_word_only_counts_when_asked():
    plain = REASONERS.build("heuristic")
    assert plain.reason(scene("red"), scene("blue"), "the square", context()).update is False
    eager = REASONERS.build("heuristic", describe_missing_colour=True)
    result = eager.reason(scene("red"), scene("blue"), "the square", context())
    assert result.update is True and result.answer.startswith("blue square")


def test_answer_fits_the_word_budget():
    moved = np.array([250.0, 190.0, 40.0, 40.0])
    ctx = context(current=moved, previous=moved - [0, 9, 0, 0])
    full = REASONERS.build("heuristic").reason(scene("red"), scene("blue", moved), "red kite", ctx)
    assert full.answer == "blue kite at the bottom right moving down"
    short = REASONERS.build("heuristic", max_words=6).reason(scene("red"), scene("blue", moved), "red kite", ctx)
    assert short.answer == "blue kite at the bottom right"  # the motion goes first
    tiny = REASONERS.build("heuristic", max_words=3).reason(scene("red"), scene("blue", moved), "red kite", ctx)
    assert tiny.answer == "blue kite"
    person = REASONERS.build("heuristic").reason(scene("red"), scene("blue", moved), "a man in a red shirt", ctx)
    assert person.answer == "man in blue at the bottom right moving down"  # clothing, never "blue man"


def test_description_words():
    assert head_noun("a man in a red shirt walking on the road") == "man"
    assert head_noun("red car driving on the road") == "car"
    assert head_noun("the player wearing white") == "player"
    assert head_noun("the big grey dog on the left") == "dog"
    assert head_noun("the one") == "one"
    assert head_noun("the red") == "target"
    assert description_colour("a grey cat") == "gray"
    assert description_colour("a dark violet umbrella") == "purple"
    assert description_colour("the cat") is None


def test_deterministic_and_latency():
    reasoner = REASONERS.build("heuristic", latency=0.05)
    args = (scene("red"), scene("blue"), "a red square", context())
    start = time.perf_counter()
    first = reasoner.reason(*args)
    assert time.perf_counter() - start >= 0.05
    assert reasoner.reason(*args) == first


def test_bad_options_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown option"):
        REASONERS.build("heuristic", model="qwen")
    with pytest.raises(ConfigError, match="size_ratio"):
        REASONERS.build("heuristic", size_ratio=0.5)


def test_static_never_updates():
    static = REASONERS.build("static")
    assert isinstance(static, StaticReasoner)
    result = static.reason(scene("red"), scene("blue"), "a red square", context())
    assert result.update is False and result.answer == "a red square"
    assert result.raw == f"<think>{result.think}</think><d>no</d><answer>a red square</answer>"
    assert_model_format(result, "a red square")
    with pytest.raises(ConfigError, match="no options"):
        REASONERS.build("static", model="x")


@pytest.fixture(scope="module")
def synthetic_world(tmp_path_factory):
    from reasoningtrack.datasets.synthetic import SyntheticDataset, WorldConfig, write_dataset

    root = write_dataset(
        tmp_path_factory.mktemp("synthetic"), sequences=6, seed=11, config=WorldConfig(frames=40), splits=("test",)
    )
    return SyntheticDataset(root, "test")


def _overlaps(a, b) -> bool:
    return not (a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1])


def test_measurements_match_the_synthetic_worlds_facts(synthetic_world):
    """Colour and position words against events.json, on frames where the truth is unambiguous."""
    config = HeuristicConfig()
    reasoner = REASONERS.build("heuristic")
    colour_checks, colour_misses, position_checks = 0, [], 0
    for name in synthetic_world.sequence_names():
        seq = synthetic_world.load(name)
        facts = synthetic_world.facts(name)["facts"]
        for index in range(0, len(seq), 3):
            fact, box = facts[index], seq.ground_truth[index]
            if not fact["visible"]:
                continue
            frame = seq.read_frame(index)
            if index % 9 == 0 and index > 0:  # the position the reasoner states is the truth's phrase
                ctx = context(current=box, template=seq.ground_truth[0], previous=seq.ground_truth[index - 1], score=1.0)
                result = reasoner.reason(seq.read_frame(0), frame, seq.description, ctx)
                assert f"It is {fact['position']} of the frame." in result.think, (name, index, result.think)
                position_checks += 1
            clean = fact["visible_fraction"] >= 0.95 and not fact["colour_changing"]
            if clean and not (fact["distractor"] and _overlaps(box, fact["distractor_box"])):
                colour_checks += 1
                colour, _ = dominant_colour(frame, box, config)
                if colour != fact["colour"]:
                    colour_misses.append((name, index, fact["colour"], colour))
    assert position_checks > 15 and colour_checks > 40
    assert len(colour_misses) <= colour_checks // 20, colour_misses  # >= 95% right


def test_colour_events_decide_the_update(synthetic_world):
    """Only colour may trigger here: yes exactly when the truth's colour left the description's."""
    reasoner = REASONERS.build("heuristic", move_threshold=1.0, size_ratio=100.0)
    decisions = disagreements = 0
    changed_seen = False
    for name in synthetic_world.sequence_names():
        seq = synthetic_world.load(name)
        data = synthetic_world.facts(name)
        facts, shape = data["facts"], data["shape"]
        template = seq.read_frame(0)
        initial_colour = facts[0]["colour"]
        for index in range(4, len(seq), 4):
            fact, box = facts[index], seq.ground_truth[index]
            if not fact["visible"] or fact["visible_fraction"] < 0.95 or fact["colour_changing"]:
                continue
            if fact["distractor"] and _overlaps(box, fact["distractor_box"]):
                continue
            ctx = context(current=box, template=seq.ground_truth[0], previous=seq.ground_truth[index - 1], score=1.0)
            result = reasoner.reason(template, seq.read_frame(index), seq.description, ctx)
            changed = fact["colour"] != initial_colour
            decisions += 1
            if result.update != changed:
                disagreements += 1
            elif changed:
                changed_seen = True
                assert result.answer.split()[:2] == [fact["colour"], shape], (name, index, result.answer)
            else:
                assert result.answer == seq.description
    assert decisions > 30 and changed_seen
    assert disagreements <= decisions // 20
