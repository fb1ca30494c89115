"""GRPO rewards: hand-made completions, the 997 release teacher outputs, the real TNLLT pair."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from reasoningtrack.trackers.base import Backbone, Prediction
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

GOOD = "<think>the car turned red</think><d>yes</d><answer>the red car</answer>"
CASES = [
    # text, format, strict
    (GOOD, 1.0, 1.0),
    ("<think>same</think>\n<d> no </d>\n<answer>the blue car</answer>\n", 1.0, 1.0),
    ("<think>t</think><d>maybe</d><answer>the car</answer>", 1.0, 0.0),  # d not yes/no
    ("<d>yes</d><think>t</think><answer>the car</answer>", 1.0, 0.0),  # wrong order
    ("<think>t</think><d>yes</d><answer>the red car", 0.0, 0.0),  # truncated answer
    ("the red car", 0.0, 0.0),
    ("", 0.0, 0.0),
    ("<THINK>t</THINK><d>yes</d><answer>x</answer>", 1.0, 0.0),  # upper-case tags: lenient only
    ("prefix <think>t</think><d>no</d><answer>the car</answer>", 1.0, 0.0),  # text before the blocks
]


@pytest.mark.parametrize("text,fmt,strict", CASES)
def test_format_rewards_on_hand_made_completions(text, fmt, strict):
    assert format_reward([None], [text]) == [fmt]
    assert strict_format_reward([None], [text]) == [strict]


def test_conversational_completions_are_read_like_strings():
    as_messages = [{"role": "assistant", "content": GOOD}]
    as_parts = [{"role": "assistant", "content": [{"type": "text", "text": GOOD}]}]
    assert completion_text(as_messages) == GOOD == completion_text(as_parts)
    assert strict_format_reward([None, None], [as_messages, as_parts]) == [1.0, 1.0]


def test_release_teacher_outputs_format_counts(shared_data):
    """The 997 SFT outputs of the release: one has an unclosed <answer> (format and strict fail)."""
    outputs = []
    for path in sorted((shared_data / "reasoningtrack-release" / "sft").glob("*.json")):
        outputs += [r["output"] for r in json.loads(path.read_text(encoding="utf-8"))]
    assert len(outputs) == 997
    prompts = [None] * len(outputs)
    assert sum(format_reward(prompts, outputs)) == 996
    assert sum(strict_format_reward(prompts, outputs)) == 996


class TextBackbone(Backbone):
    """Test double: finds the target (at ``truth``) only when the text names ``word``."""

    uses_text = True

    def __init__(self, word: str, truth, miss):
        self.word, self.truth, self.miss = word, np.asarray(truth, float), np.asarray(miss, float)
        self.text = None
        self.inits = 0

    def initialize(self, frame, box, text=None):
        self.text = text or ""
        self.inits += 1

    def track(self, frame):
        return Prediction(self.truth if self.word in self.text else self.miss, 1.0)


def _columns(n, iou_old=0.0):
    img = Image.new("RGB", (32, 32))
    return dict(
        sample_id=["s0"] * n,
        images=[[img, img]] * n,
        box1=[[0, 0, 10, 10]] * n,
        box2=[[10, 10, 10, 10]] * n,
        description=["the blue car"] * n,
        iou_old=[iou_old] * n,
    )


def test_iou_and_judge_rewards_with_a_text_sensitive_backbone():
    backbone = TextBackbone("red", truth=[10, 10, 10, 10], miss=[15, 10, 10, 10])  # miss: IoU 1/3
    labeller = BackboneLabeller(backbone)
    iou_reward, judge = IoUReward(labeller), JudgeReward(labeller)
    completions = [
        GOOD,  # yes + helpful text: IoU 1, judge right
        "<think>t</think><d>no</d><answer>the red car</answer>",  # helpful text but said no: judge wrong
        "<think>t</think><d>yes</d><answer>the green car</answer>",  # yes but the text does not help
        "<think>t</think><d>no</d><answer>the blue car</answer>",  # no, old text kept: judge right
        "garbage",  # no answer: old description is used
    ]
    cols = _columns(len(completions), iou_old=1 / 3)
    assert iou_reward([None] * 5, completions, **cols) == pytest.approx([1.0, 1.0, 1 / 6, 1 / 6, 1 / 6])
    assert judge([None] * 5, completions, **cols) == [1.0, 0.0, 0.0, 1.0, 1.0]
    # Distinct texts: red, green, blue (twice: the last two both use the old description); the
    # judge call reused every IoU from the cache.
    assert backbone.inits == 3
    assert labeller.backbone_runs == 3


def test_shaping_threshold():
    assert shaped_iou(0.62) == 0.62
    assert shaped_iou(0.61) == pytest.approx(0.305)
    assert shaped_iou(0.2) == pytest.approx(0.1)


def test_total_reward_uses_configured_weights_and_release_preset_needs_no_backbone():
    backbone = TextBackbone("red", truth=[10, 10, 10, 10], miss=[15, 10, 10, 10])
    config = RewardConfig()
    functions, weights = build_reward_functions(config, backbone)
    assert weights == [0.1, 0.1, config.iou_weight, 0.15] and config.iou_weight > 0
    total = TotalReward(functions, weights)
    value = total([None], [GOOD], **_columns(1, iou_old=1 / 3))
    assert value == pytest.approx([0.1 + 0.1 + config.iou_weight * 1.0 + 0.15])

    release = RewardConfig.preset("release", judge_weight=0.0)
    functions, weights = build_reward_functions(release)  # would fail building dutrack if it tried
    assert len(functions) == 2 and weights == [0.1, 0.1]
    assert RewardConfig.preset("release").iou_weight == 0.0


def test_missing_column_is_a_clear_error():
    labeller = BackboneLabeller(TextBackbone("red", [0, 0, 1, 1], [0, 0, 1, 1]))
    cols = _columns(1)
    del cols["box2"]
    with pytest.raises(RewardColumnError, match="box2"):
        IoUReward(labeller)([None], [GOOD], **cols)


def _iou_xywh(a, b):
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter = max(0.0, min(ax2, bx2) - max(a[0], b[0])) * max(0.0, min(ay2, by2) - max(a[1], b[1]))
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


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
    predicted = direct.track(np.asarray(img2)).box
    raw = _iou_xywh(list(map(float, predicted)), box2)
    expected = raw if raw > 0.61 else raw / 2
    assert 0.0 < raw <= 1.0

    reward = IoUReward(BackboneLabeller(BACKBONES.build("csrt")))
    completion = f"<think>the ship moved closer</think><d>yes</d><answer>{text}</answer>"
    columns = dict(
        sample_id=["JE_Assian_ship_v01:715:1091"],
        images=[[img1, img2]],
        box1=[box1],
        box2=[box2],
        description=[meta["language_description"]],
        iou_old=[0.0],
    )
    assert reward([None], [completion], **columns) == pytest.approx([expected], abs=1e-9)
