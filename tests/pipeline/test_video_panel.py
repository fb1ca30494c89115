"""The annotated video's optional panel (latest think text, legend), ground-truth boxes and the
enlargement of small frames so that text stays readable."""

from __future__ import annotations

import numpy as np

from reasoningtrack.pipeline.results import FrameResult, ReasoningEvent
from reasoningtrack.pipeline.writers import STATUS_COLORS, AnnotatedVideoWriter


def _event(frame: int) -> ReasoningEvent:
    return ReasoningEvent(frame=frame, triggers=["interval"], template_frame=0, input_text="a red square",
                          text_before="a red square", status="updated", text_applied="a blue square",
                          think="The square turned blue.", decision="yes", answer="a blue square")


def _has_colour(image: np.ndarray, rgb) -> bool:
    return bool((image.reshape(-1, 3) == np.array(rgb, dtype=np.uint8)).all(axis=1).any())


def test_small_frames_are_enlarged_with_panel_and_ground_truth(tmp_path):
    frame = np.full((72, 96, 3), 90, dtype=np.uint8)
    truth = np.array([[10, 10, 20, 20], [0, 0, 0, 0]], dtype=np.float64)
    writer = AnnotatedVideoWriter(tmp_path / "v.mp4", total_frames=2, panel=True, ground_truth=truth, min_height=360)
    first = writer.annotate(frame, FrameResult(0, np.array([12.0, 12, 20, 20]), 1.0, "a red square"))
    # 72 px is enlarged 5x to 360 px; the panel (at least 320 px) sits to the right
    assert first.shape[0] == 360 and first.shape[1] == 480 + 360
    # the ground-truth box is drawn in green at 5x its coordinates (left edge: x 50, y 50..150)
    assert (first[52:149, 50] == (40, 220, 90)).all()
    # the legend shows every event colour before any event
    panel = first[:, 480:]
    assert all(_has_colour(panel, STATUS_COLORS[s]) for s in ("updated", "kept", "error"))
    before = panel[100:].copy()
    second = writer.annotate(frame, FrameResult(1, np.array([12.0, 12, 20, 20]), 1.0, "a blue square", event=_event(1)))
    # the event's text is written into the lower part of the panel; no ground truth where absent
    assert (second[:, 480:][100:] != before).any()
    assert not _has_colour(second[:, :480], (40, 220, 90))
    plain = AnnotatedVideoWriter(tmp_path / "p.mp4").annotate(frame, FrameResult(0, np.zeros(4), None, "x"))
    assert plain.shape == frame.shape


def test_panel_video_is_encoded(tmp_path):
    import av

    frame = np.full((120, 160, 3), 60, dtype=np.uint8)
    writer = AnnotatedVideoWriter(tmp_path / "v.mp4", total_frames=3, panel=True, min_height=360)
    for i in range(3):
        writer.write(frame, FrameResult(i, np.array([10.0, 10, 30, 30]), 0.9, "text", event=_event(i) if i == 1 else None))
    writer.close()
    with av.open(str(tmp_path / "v.mp4")) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 3 and frames[0].height == 360 and frames[0].width == 480 + 360


def test_track_run_writes_the_panel_and_ground_truth_into_its_video(tmp_path):
    import av

    from reasoningtrack.datasets.synthetic import WorldConfig, generate_sequence, write_sequence
    from reasoningtrack.pipeline.config import TrackRunConfig
    from reasoningtrack.pipeline.session import track_to_folder

    seq = tmp_path / "seq"
    write_sequence(generate_sequence(0, 0, "test", WorldConfig(frames=20, width=128, height=96)), seq)
    config = TrackRunConfig.from_dict({"input": str(seq / "imgs"), "box": [float(v) for v in (seq / "groundtruth.txt").read_text().splitlines()[0].split(",")],
                                       "text": "target", "backbone": "toy", "reasoner": "heuristic", "video_panel": True, "show_gt": True,
                                       "pipeline": {"schedule": {"interval": {"every": 5}}}})
    track_to_folder(config, tmp_path / "out")
    with av.open(str(tmp_path / "out" / "video.mp4")) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    # 96 px enlarged 4x to 384; the panel is 3/4 of the enlarged width
    assert frame.shape[:2] == (384, 512 + 384)


def test_benchmark_writes_videos_only_for_the_named_sequences(tmp_path):
    from reasoningtrack.datasets.synthetic import WorldConfig, write_dataset
    from reasoningtrack.pipeline.config import BenchmarkConfig
    from reasoningtrack.pipeline.runner import BenchmarkRunner

    root = write_dataset(tmp_path / "world", sequences=2, seed=3, config=WorldConfig(frames=20, width=96, height=96), splits=("test",))
    config = BenchmarkConfig.from_dict({"dataset": "synthetic", "root": str(root), "backbone": "toy", "reasoner": "heuristic"})
    outcomes = BenchmarkRunner(config, tmp_path / "run", videos=("synth-test-0001",)).run()
    assert all(o.ok for o in outcomes)
    assert sorted(p.name for p in (tmp_path / "run" / "videos").iterdir()) == ["synth-test-0001.mp4"]
