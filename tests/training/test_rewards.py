"""GRPO rewards against the release's rules (issue 9, rules 3 and 4).

Each rule is written out below a second time, in plain string operations (no regular
expressions), and the package's rewards must agree with it on the 997 release teacher outputs
and on perturbed copies of them (preambles, trailing text, spaces inside tags, upper-case d,
missing closing tags).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from reasoningtrack.trackers.base import Backbone, BackboneError, Prediction
from reasoningtrack.training.config import RewardConfig
from reasoningtrack.training.labels import BackboneLabeller, shaped_iou
from reasoningtrack.training.rewards import (
    IoUReward,
    JudgeReward,
    RewardColumnError,
    TotalReward,
    build_reward_functions,
    completion_text,
    format_reward,
    strict_format_reward,
)

# ---------------------------------------------------------------- the rules, transcribed again


def squeeze_tag_spaces(text: str) -> str:
    """Drop every run of whitespace that touches a '<', '>' or '/' (one character at a time)."""
    for ch in "<>/":
        pieces = text.split(ch)
        text = ch.join(
            piece.lstrip() if i == len(pieces) - 1 and i else (piece.strip() if i else piece.rstrip())
            for i, piece in enumerate(pieces)
        )
    return text


def first_block(text: str, tag: str, start: int = 0):
    """(content, end) of the first <tag>...</tag> at or after ``start``, or None."""
    opening, closing = f"<{tag}>", f"</{tag}>"
    i = text.find(opening, start)
    if i < 0:
        return None
    j = text.find(closing, i + len(opening))
    if j < 0:
        return None
    return text[i + len(opening) : j], j + len(closing)


def rule_format(text: str) -> float:
    text = squeeze_tag_spaces(text)
    return float(all(first_block(text, tag) is not None for tag in ("think", "d", "answer")))


def rule_strict(text: str) -> float:
    text = squeeze_tag_spaces(text)
    think = first_block(text, "think")
    if think is None:
        return 0.0
    d = first_block(text, "d", think[1])
    if d is None or first_block(text, "answer", d[1]) is None:
        return 0.0
    return float(d[0].strip().lower() in ("yes", "no"))


def rule_d_and_answer(raw: str) -> tuple[str, str]:
    d = first_block(raw, "d")
    answer = first_block(raw, "answer")
    decision = d[0].strip() if d else "no"
    if decision not in ("yes", "no"):
        decision = "no"
    return decision, (answer[0].strip() if answer else "tracking the object")


def box_iou(a, b) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter = max(0.0, min(ax2, bx2) - max(a[0], b[0])) * max(0.0, min(ay2, by2) - max(a[1], b[1]))
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


# ---------------------------------------------------------------- data


@pytest.fixture(scope="module")
def release_outputs(shared_data):
    outputs = []
    for path in sorted((shared_data / "reasoningtrack-release" / "sft").glob("*.json")):
        outputs += [r["output"] for r in json.loads(path.read_text(encoding="utf-8"))]
    assert len(outputs) == 997
    return outputs


def perturbations(text: str) -> list[str]:
    return [
        text,
        "Sure, here is my analysis.\n" + text,
        text + "\nI hope this helps.",
        text.replace("<d>", "< d >").replace("</answer>", "</ answer >").replace("<think>", " <think> "),
        text.replace("<d>yes</d>", "<d>Yes</d>").replace("<d>no</d>", "<d> NO </d>"),
        text.replace("</answer>", ""),
        text.replace("</d>", ""),
        text.replace("</think>", ""),
        "<answer>first</answer>" + text,
        text.replace("<d>", "<d>\n").replace("</d>", " \n</d>"),
    ]


@pytest.fixture(scope="module")
def perturbed(release_outputs):
    return [p for text in release_outputs for p in perturbations(text)]


# ---------------------------------------------------------------- format rewards


def test_format_and_strict_follow_the_release_on_real_and_perturbed_outputs(perturbed):
    n, k_count = len(perturbed), len(perturbations(""))
    fmt = format_reward([None] * n, perturbed)
    strict = strict_format_reward([None] * n, perturbed)
    assert fmt == [rule_format(t) for t in perturbed]
    assert strict == [rule_strict(t) for t in perturbed]

    def passed(values, k):  # how many of the 997 pass under perturbation k
        return sum(values[k::k_count])

    # Real outputs: one lacks its closing </answer>, so 996 pass both.
    assert passed(fmt, 0) == passed(strict, 0) == 996
    # What a whole-string match refused: a preamble, trailing text, spaces in tags and an
    # upper-case d still score, for every real output that passes.
    assert [passed(strict, k) for k in (1, 2, 3, 4)] == [996] * 4
    # A missing closing tag fails both.
    assert [passed(fmt, k) for k in (5, 6, 7)] == [0, 0, 0]


HAND_MADE = [
    # text, format, strict
    ("<think>t</think><d>yes</d><answer>the red car</answer>", 1.0, 1.0),
    ("<think>t</think><d>maybe</d><answer>the car</answer>", 1.0, 0.0),  # d not yes/no
    ("<d>yes</d><think>t</think><answer>the car</answer>", 1.0, 0.0),  # d before think
    ("<think>t</think><answer>a</answer><d>no</d>", 1.0, 0.0),  # answer before d
    ("<THINK>t</THINK><d>yes</d><answer>x</answer>", 0.0, 0.0),  # tags are case-sensitive
    ("<think>t</think><d>YES</d><answer>x</answer> trailing", 1.0, 1.0),
    ("", 0.0, 0.0),
]


@pytest.mark.parametrize("text,fmt,strict", HAND_MADE)
def test_format_rewards_on_hand_made_completions(text, fmt, strict):
    assert (rule_format(text), rule_strict(text)) == (fmt, strict)
    assert format_reward([None], [text]) == [fmt]
    assert strict_format_reward([None], [text]) == [strict]


def test_conversational_completions_are_read_like_strings():
    good = HAND_MADE[0][0]
    as_messages = [{"role": "assistant", "content": good}]
    as_parts = [{"role": "assistant", "content": [{"type": "text", "text": good}]}]
    assert completion_text(as_messages) == good == completion_text(as_parts)
    assert strict_format_reward([None, None], [as_messages, as_parts]) == [1.0, 1.0]


# ---------------------------------------------------------------- IoU and judge rewards


class TextBackbone(Backbone):
    """Test double whose box on frame 2 depends on the text (and that refuses some texts).

    It also keeps a counter across ``track`` calls unless reset, and lets it shift the box: a
    labeller that forgot to clean the state between samples would see other boxes."""

    uses_text = True

    def __init__(self, truth, fail_word: str | None = None):
        self.truth = np.asarray(truth, float)
        self.fail_word = fail_word
        self.text = ""
        self.tracked = 0
        self.resets = 0

    def reset(self):
        self.tracked = 0
        self.resets += 1

    def initialize(self, frame, box, text=None):
        self.text = text or ""

    def track(self, frame):
        if self.fail_word and self.fail_word in self.text:
            raise BackboneError("refused")
        shift = (sum(map(ord, self.text)) % 23) + 7 * self.tracked
        self.tracked += 1
        return Prediction(self.truth + np.array([shift, shift / 2, 0.0, 0.0]), 1.0)


TRUTH = [40.0, 30.0, 50.0, 40.0]


def expected_ious(backbone_box_of, raw: str, description: str):
    """(iou_new, iou_old, d) as the release computes them."""
    d, answer = rule_d_and_answer(raw)
    return box_iou(backbone_box_of(answer), TRUTH), box_iou(backbone_box_of(description), TRUTH), d


def _columns(n, descriptions):
    img = Image.new("RGB", (128, 96))
    return dict(
        sample_id=[f"s{i % 5}" for i in range(n)],  # several completions per sample, as in a group
        images=[[img, img]] * n,
        box1=[[10.0, 10.0, 50.0, 40.0]] * n,
        box2=[TRUTH] * n,
        description=descriptions,
    )


def test_iou_and_judge_follow_the_release_on_real_and_perturbed_outputs(release_outputs):
    texts = [p for t in release_outputs[::4] for p in perturbations(t)[:7]]
    # One description per sample id (s0..s4), as in GRPO groups.
    descriptions = [f"the target number {i % 5}" for i in range(len(texts))]

    def fresh_box(text):
        shift = sum(map(ord, text)) % 23
        return list(np.asarray(TRUTH) + np.array([shift, shift / 2, 0, 0]))

    backbone = TextBackbone(TRUTH)
    labeller = BackboneLabeller(backbone)
    iou_reward, judge = IoUReward(labeller), JudgeReward(labeller)
    cols = _columns(len(texts), descriptions)
    got_iou = iou_reward([None] * len(texts), texts, **cols)
    got_judge = judge([None] * len(texts), texts, **cols)
    want_iou, want_judge = [], []
    for raw, desc in zip(texts, descriptions):
        new, old, d = expected_ious(fresh_box, raw, desc)
        want_iou.append(new if new > 0.61 else new / 2)
        want_judge.append(1.0 if (d == "no" and old >= new) or (d == "yes" and old < new) else 0.0)
    assert got_iou == pytest.approx(want_iou, abs=1e-12)
    assert got_judge == want_judge
    # Both outcomes of the judge occur, and clean state: one reset per backbone run.
    assert 0 < sum(got_judge) < len(texts)
    assert backbone.resets == labeller.backbone_runs


def test_decision_parsing_edge_cases():
    # d is case-sensitive for IoU/judge (only the strict-format reward lower-cases it), the
    # answer is used even when d = no, and a missing answer becomes "tracking the object".
    assert rule_d_and_answer("<d>Yes</d><answer>x</answer>") == ("no", "x")
    assert rule_d_and_answer("<d> yes </d>") == ("yes", "tracking the object")
    assert rule_d_and_answer("<d>yes</d><answer>  </answer>") == ("yes", "")
    seen = []

    class Recorder(TextBackbone):
        def initialize(self, frame, box, text=None):
            seen.append(text)
            super().initialize(frame, box, text)

    labeller = BackboneLabeller(Recorder(TRUTH))
    cols = _columns(3, ["old text"] * 3)
    cols["sample_id"] = ["a", "b", "c"]
    IoUReward(labeller)([None] * 3, ["<d>no</d><answer>new text</answer>", "garbage", "<d>yes</d><answer></answer>"], **cols)
    assert seen == ["new text", "old text", "tracking the object", "old text", "", "old text"]


def test_backbone_failure_gives_both_ious_zero():
    backbone = TextBackbone(TRUTH, fail_word="boom")
    labeller = BackboneLabeller(backbone)
    cols = _columns(2, ["the car", "the car"])
    cols["sample_id"] = ["a", "b"]
    texts = ["<d>yes</d><answer>boom car</answer>", "<d>no</d><answer>boom car</answer>"]
    assert IoUReward(labeller)([None] * 2, texts, **cols) == [0.0, 0.0]
    # iou_old = iou_new = 0: "no" is right (old >= new), "yes" is wrong.
    assert JudgeReward(labeller)([None] * 2, texts, **cols) == [0.0, 1.0]
    assert labeller.failures >= 2


def test_shaping_threshold():
    assert shaped_iou(0.62) == 0.62
    assert shaped_iou(0.61) == pytest.approx(0.305)
    assert shaped_iou(0.2) == pytest.approx(0.1)


def test_total_reward_uses_configured_weights_and_release_weights_need_no_backbone_for_iou():
    backbone = TextBackbone(TRUTH)
    config = RewardConfig()
    functions, weights = build_reward_functions(config, backbone)
    assert weights == config.weights() and len(functions) == 4
    good = "<think>t</think><d>yes</d><answer>the red car</answer>"
    total = TotalReward(functions, weights)
    parts = total.components([None], [good], **_columns(1, ["the car"]))
    value = total([None], [good], **_columns(1, ["the car"]))
    assert value == pytest.approx([sum(w * parts[name][0] for name, w in zip(parts, weights))])

    only_format = RewardConfig(iou_weight=0.0, judge_weight=0.0)
    functions, weights = build_reward_functions(only_format)  # would fail building dutrack if it tried
    assert len(functions) == 2 and weights == [0.1, 0.1]


def test_missing_column_is_a_clear_error():
    labeller = BackboneLabeller(TextBackbone(TRUTH))
    cols = _columns(1, ["x"])
    del cols["box2"]
    with pytest.raises(RewardColumnError, match="box2"):
        IoUReward(labeller)([None], ["<answer>x</answer>"], **cols)


def test_iou_reward_on_the_real_tnllt_pair_with_csrt(shared_data):
    from reasoningtrack.trackers import BACKBONES

    folder = shared_data / "reasoningtrack-release" / "sample0001"
    meta = json.loads((folder / "data.json").read_text())
    box1 = [float(v) for v in meta["img1_groundtruth"].split(",")]
    box2 = [float(v) for v in meta["img2_groundtruth"].split(",")]
    img1 = Image.open(folder / "img1.jpg").convert("RGB")
    img2 = Image.open(folder / "img2.jpg").convert("RGB")
    text = "the wooden ship on the river, now closer"

    direct = BACKBONES.build("csrt")
    direct.initialize(np.asarray(img1), np.asarray(box1), text)
    raw = box_iou(list(map(float, direct.track(np.asarray(img2)).box)), box2)
    assert 0.0 < raw <= 1.0

    reward = IoUReward(BackboneLabeller(BACKBONES.build("csrt")))
    completion = f"<think>the ship moved closer</think><d>yes</d><answer>{text}</answer>"
    columns = dict(
        sample_id=["JE_Assian_ship_v01:715:1091"],
        images=[[img1, img2]],
        box1=[box1],
        box2=[box2],
        description=[meta["language_description"]],
    )
    assert reward([None], [completion], **columns) == pytest.approx([raw if raw > 0.61 else raw / 2], abs=1e-9)
