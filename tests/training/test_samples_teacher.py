"""Sample building (pairs, backbone labels, resumable shards) and the teacher step."""

from __future__ import annotations

import numpy as np
import pytest

from reasoningtrack.datasets.base import Dataset, Sequence
from reasoningtrack.reasoning.base import Reasoner
from reasoningtrack.reasoning.parser import format_output, parse
from reasoningtrack.training.config import SampleConfig, TeacherConfig
from reasoningtrack.training.samples import (
    SampleBuildError,
    build_samples,
    load_samples,
    plan_pairs,
    resize_pair,
)
from reasoningtrack.training.teacher import agreement_summary, teach
from reasoningtrack.training.toy import ToyBackbone, render_shape


class ShapeVideos(Dataset):
    """Test dataset: videos of a square that moves right and turns from red to blue halfway."""

    name = "shapes"
    splits = ("train",)

    def __init__(self, root, split="train", n_sequences=3, length=40):
        super().__init__(root, split)
        self.n_sequences, self.length = n_sequences, length

    def sequence_names(self):
        return [f"video{i}" for i in range(self.n_sequences)]

    def load(self, name):
        folder = self.root / name
        rng = np.random.default_rng(int(name[-1]))
        boxes = np.array([[4 + i * 0.5, 10, 30, 30] for i in range(self.length)])
        if not folder.exists():
            folder.mkdir(parents=True)
            from PIL import Image

            for i, box in enumerate(boxes):
                colour = "red" if i < self.length // 2 else "blue"
                Image.fromarray(render_shape(64, "square", colour, box.astype(int), rng, 0)).save(folder / f"{i:05d}.png")
        absent = np.zeros(self.length, dtype=bool)
        absent[5] = True
        return Sequence(
            name=name, ground_truth=boxes, dataset="shapes", split="train", description="the red square",
            absent=absent, frame_paths_fn=lambda: sorted(folder.glob("*.png")),
        )


def _config(**kw):
    base = dict(dataset="shapes", pairs_per_sequence=3, min_gap=10, max_gap=30, backbone="toy", seed=7, shard_size=4)
    base.update(kw)
    return SampleConfig(**base)


def test_plan_is_deterministic_visible_and_within_gaps(tmp_path):
    data = ShapeVideos(tmp_path)
    plan, skipped = plan_pairs(list(data), _config())
    again, _ = plan_pairs(list(data), _config())
    other, _ = plan_pairs(list(data), _config(seed=8))
    assert plan == again and plan != other and not skipped
    assert len(plan) == 9
    for item in plan:
        assert 10 <= item.frame2 - item.frame1 <= 30 and 5 not in (item.frame1, item.frame2)
    short, skipped = plan_pairs(list(data), _config(min_gap=50, max_gap=60))
    assert short == [] and set(skipped) == {"video0", "video1", "video2"}


def test_build_labels_with_the_backbone_and_resumes(tmp_path):
    data = ShapeVideos(tmp_path / "data")
    cfg = _config(track_steps=2)
    out = build_samples(cfg, tmp_path / "samples", dataset=data, backbone=ToyBackbone(), progress=False)
    samples = load_samples(out)
    assert len(samples) == 9
    row = samples[0]
    assert len(row["images"]) == 2 and len(row["between_images"]) == 1
    # The toy backbone finds "the red square" only while the square is red.
    for r in samples:
        expected = 1.0 if r["frame2"] < 20 else 0.0
        assert r["iou_old"] == pytest.approx(expected, abs=0.05), r["sample_id"]

    # Resume: delete one shard, rebuild with a backbone that must only run for that shard.
    shards = sorted((out / "shards").glob("*.parquet"))
    assert len(shards) == 3
    shards[1].unlink()
    counting = ToyBackbone()
    calls = []
    original = counting.initialize
    counting.initialize = lambda *a, **k: (calls.append(1), original(*a, **k))[1]
    build_samples(cfg, out, dataset=data, backbone=counting, progress=False)
    assert len(calls) == 4 and len(load_samples(out)) == 9
    assert [r["sample_id"] for r in load_samples(out)] == [r["sample_id"] for r in samples]
    with pytest.raises(SampleBuildError, match="another config"):
        build_samples(_config(seed=1), out, dataset=data, backbone=ToyBackbone(), progress=False)


def test_resize_keeps_boxes_aligned():
    frame = np.zeros((100, 200, 3), np.uint8)
    frames, boxes = resize_pair([frame, frame], [np.array([20, 10, 40, 20]), np.array([0, 0, 200, 100])], 50 * 100)
    assert frames[0].shape == (50, 100, 3)
    np.testing.assert_allclose(boxes[0], [10, 5, 20, 10])
    np.testing.assert_allclose(boxes[1], [0, 0, 100, 50])


class ColourTeacher(Reasoner):
    """Teacher double: says the square is blue (right after the change); garbage on every 4th call."""

    def __init__(self):
        self.calls = 0

    def reason(self, template, current, description, context=None):
        self.calls += 1
        if self.calls % 4 == 0:
            return parse("I am not sure <answer>blue", previous=description)
        blue = current[..., 2].mean() > current[..., 0].mean()
        text = format_output("looked at the colour", blue, "the blue square" if blue else description)
        return parse(text, previous=description)


def test_teacher_keeps_strict_answers_and_measures_agreement(tmp_path):
    data = ShapeVideos(tmp_path / "data")
    samples = load_samples(build_samples(_config(), tmp_path / "samples", dataset=data, backbone=ToyBackbone(), progress=False))
    teacher = ColourTeacher()
    out = teach(samples, tmp_path / "taught", TeacherConfig(shard_size=4), reasoner=teacher, backbone=ToyBackbone(), progress=False)
    taught = load_samples(out)
    assert teacher.calls == 9
    assert len(taught) == 9 - 2  # calls 4 and 8 were not strict
    assert all(parse(t).strict_ok for t in taught["completion_text"])
    for row in taught:
        if row["teacher_update"]:  # "the blue square" is found by the toy backbone after the change
            assert row["iou_new"] > 0.9 and row["iou_old"] < 0.1 and row["agrees"]
        else:
            assert row["iou_new"] == pytest.approx(row["iou_old"]) and row["agrees"]
    summary = agreement_summary(taught)
    assert summary["kept"] == 7 and summary["agreement"] == 1.0
