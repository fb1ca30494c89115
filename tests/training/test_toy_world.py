"""The toy world: knowable answers, and a backbone that makes the release's rewards score them."""

from __future__ import annotations

import numpy as np
import pytest

from reasoningtrack.trackers import BACKBONES
from reasoningtrack.training.labels import track_once
from reasoningtrack.training.rewards import TotalReward, build_reward_functions
from reasoningtrack.training.toy import (
    COLOURS,
    SHAPES,
    ToyBackbone,
    ToyConfig,
    make_pairs,
    oracle_completion,
    toy_reward_config,
    toy_samples,
)


def test_pairs_are_deterministic_and_balanced():
    a, b = make_pairs(200, seed=3), make_pairs(200, seed=3)
    assert all(np.array_equal(x.frames[1], y.frames[1]) and x.answer == y.answer for x, y in zip(a, b))
    assert 0.4 < np.mean([p.changed for p in a]) < 0.6
    assert {p.shape for p in a} == set(SHAPES) and {p.colour2 for p in a} == set(COLOURS)
    for p in a[:20]:  # the target fills about half of the frame
        assert 0.25 <= p.boxes[1][2] * p.boxes[1][3] / 56**2 <= 0.6


def test_backbone_needs_the_right_colour_and_shape():
    backbone = BACKBONES.build("toy")
    assert isinstance(backbone, ToyBackbone)
    for pair in make_pairs(60, seed=1):
        right, _ = track_once(backbone, pair.frames, *pair.boxes, pair.answer)
        assert right > 0.9
        other_shape = next(s for s in SHAPES if s != pair.shape)
        wrong_shape, _ = track_once(backbone, pair.frames, *pair.boxes, f"the {pair.colour2} {other_shape}")
        assert wrong_shape == 0.0
        old, _ = track_once(backbone, pair.frames, *pair.boxes, pair.description)
        assert (old > 0.9) == (not pair.changed)
    with pytest.raises(Exception, match="unknown option"):
        BACKBONES.build("toy", colour="red")


def test_oracle_answers_get_the_best_total_and_wrong_ones_less():
    samples = toy_samples(24, seed=5)
    rows = [samples[i] for i in range(len(samples))]
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    functions, weights = build_reward_functions(toy_reward_config(), ToyBackbone())
    total = TotalReward(functions, weights)
    best = total([None] * 24, list(samples["completion_text"]), **columns)
    assert best == pytest.approx([3.0] * 24)
    wrong = [t.replace("<d>yes</d>", "<d>no</d>") if r["label_update"] == "yes" else t.replace("<d>no</d>", "<d>yes</d>")
             for t, r in zip(samples["completion_text"], rows)]
    assert all(v == pytest.approx(2.0) for v in total([None] * 24, wrong, **columns))
    pair = make_pairs(1, seed=0, config=ToyConfig(p_change=1.0))[0]
    assert "<d>yes</d>" in oracle_completion(pair) and pair.answer in oracle_completion(pair)
