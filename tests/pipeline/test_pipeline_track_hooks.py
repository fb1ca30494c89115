"""The hooks of ``track_to_folder`` that the web demo uses: ``on_image`` (the frame as drawn into
video.mp4), ``stop`` (end after the current frame, keep the files) and a shared reasoner."""

from __future__ import annotations

import numpy as np

from reasoningtrack.datasets.synthetic import SyntheticDataset
from reasoningtrack.pipeline.config import TrackRunConfig
from reasoningtrack.pipeline.session import track_to_folder
from reasoningtrack.reasoning.heuristic import build_heuristic


def _config(synthetic_root, **extra) -> TrackRunConfig:
    sequence = SyntheticDataset(synthetic_root, "test").load("synth-test-0000")
    return TrackRunConfig.from_dict({
        "input": str(sequence.frames[0].parent), "box": [float(v) for v in sequence.ground_truth[0]],
        "text": sequence.description, "backbone": "csrt", "reasoner": "heuristic",
        "pipeline": {"schedule": {"interval": {"every": 5}}}, **extra})


def test_stop_ends_the_run_and_on_image_sees_the_drawn_frames(synthetic_root, tmp_path):
    seen = []
    outputs = track_to_folder(_config(synthetic_root), tmp_path / "run",
                              on_image=lambda result, image: seen.append((result.index, image.copy())),
                              stop=lambda: len(seen) == 8)
    assert outputs.stopped and outputs.summary.frames == 8
    boxes = np.loadtxt(outputs.boxes, delimiter=",")
    assert boxes.shape == (8, 4) and [i for i, _ in seen] == list(range(8))
    assert len(outputs.reasoning.read_text().splitlines()) == 1  # the call on frame 5; frame 10 never came
    import av

    with av.open(str(outputs.video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 8
    raw = []
    track_to_folder(_config(synthetic_root, video=False), tmp_path / "raw",
                    on_image=lambda result, image: raw.append(image.copy()), stop=lambda: len(raw) == 8)
    # with a video the hook gets the annotated frame (box, text, timeline drawn), without it the frame itself
    assert raw[3].shape == seen[3][1].shape and not np.array_equal(raw[3], seen[3][1])


def test_a_shared_reasoner_is_used_instead_of_building_one(synthetic_root, tmp_path):
    calls = []

    class Counting:
        name = "heuristic"

        def __init__(self):
            self.inner = build_heuristic()

        def reason(self, *args, **kwargs):
            calls.append(args[3].frame_index if len(args) > 3 else kwargs["context"].frame_index)
            return self.inner.reason(*args, **kwargs)

        def close(self):
            calls.append("closed")

    outputs = track_to_folder(_config(synthetic_root), tmp_path / "run", shared_reasoner=Counting())
    assert not outputs.stopped
    assert calls == [5, 10, 15, 20, 25, "closed"]
