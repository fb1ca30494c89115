"""The annotated video and the reasoning log writer; `track` on a video file."""

from __future__ import annotations

import json

import av
import numpy as np
from typer.testing import CliRunner

from reasoningtrack.cli import app
from reasoningtrack.evaluation.results import read_boxes
from reasoningtrack.pipeline.results import FrameResult, ReasoningEvent
from reasoningtrack.pipeline.writers import STATUS_COLORS, AnnotatedVideoWriter, ReasoningLogWriter


def event(frame, status="updated", error=None):
    return ReasoningEvent(frame=frame, triggers=["interval"], template_frame=0, input_text="a car", text_before="a car",
                          status=status, text_applied="a blue car", decision=None if error else "yes", error=error)


def test_annotation_draws_box_banner_and_timeline(tmp_path):
    writer = AnnotatedVideoWriter(tmp_path / "v.mp4", total_frames=100, banner_frames=5)
    frame = np.full((121, 161, 3), 128, dtype=np.uint8)  # odd size: the encoder needs even, it pads
    images = []
    for i in range(10):
        ev = event(3) if i == 3 else (event(6, "error", "RuntimeError: boom") if i == 6 else None)
        result = FrameResult(i, np.array([40.0, 40.0, 30.0, 20.0]), 0.9, "a car", ev)
        images.append(writer.annotate(frame, result))
    last = images[-1]
    assert tuple(last[40, 55]) == (255, 215, 0)  # the box's top edge
    column = int(3 / 99 * 160)
    assert tuple(last[-5, column]) == STATUS_COLORS["updated"]
    assert tuple(last[-5, int(6 / 99 * 160)]) == STATUS_COLORS["error"]
    assert tuple(last[-5, int(9 / 99 * 160)]) == (255, 255, 255)  # the cursor on the current frame
    def banner_pixels(image, channel):
        """Pixels of the banner text in a colour dominated by ``channel`` (text is anti-aliased)."""
        area = image[121 - 14 - 40 : 121 - 14].astype(int)
        others = [c for c in range(3) if c != channel]
        return int(((area[..., channel] - area[..., others].max(axis=-1)) > 60).sum())

    # a banner in the event's status colour shows from its frame on, for banner_frames frames
    assert banner_pixels(images[2], 1) == 0
    assert banner_pixels(images[4], 1) > 20  # green: updated
    assert banner_pixels(images[7], 0) > 20  # red: error
    assert banner_pixels(images[7], 1) == 0  # the newer event replaced the older banner
    assert frame.mean() == 128  # the source frame is left alone

    for i, image in enumerate(images):
        writer.write(frame, FrameResult(i, np.array([40.0, 40.0, 30.0, 20.0]), None, "a car"))
    writer.close()
    with av.open(str(tmp_path / "v.mp4")) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 10 and decoded[0].shape == (122, 162, 3)
    assert not list(tmp_path.glob(".*tmp*"))


def test_reasoning_log_writer_lines(tmp_path):
    with ReasoningLogWriter(tmp_path / "r.jsonl") as log:
        log.write(event(5))
        log.write(event(9, "timeout", "no answer within 1 s"))
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [(e["frame"], e["status"], e["error"]) for e in lines] == [(5, "updated", None), (9, "timeout", "no answer within 1 s")]
    assert "latency_s" in lines[0]


def test_track_a_video_file(tmp_path):
    video = tmp_path / "clip.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(40):
            img = np.full((120, 160, 3), 90, dtype=np.uint8)
            img[40:70, 20 + i : 50 + i] = (230, 30, 30)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["track", str(video), "--box", "20,40,30,30", "--text", "a red square", "--tracker", "kcf",
                                      "--reasoner", "heuristic", "--interval", "10", "--output", str(out)])
    assert result.exit_code == 0, result.output
    boxes = read_boxes(out / "boxes.txt")
    assert boxes.shape == (40, 4)
    assert abs(boxes[-1, 0] - 59) < 4  # followed the square moving right by one pixel per frame
    assert len((out / "reasoning.jsonl").read_text().splitlines()) == 3
    with av.open(str(out / "video.mp4")) as container:
        assert container.streams.video[0].average_rate == 25
        assert sum(1 for _ in container.decode(video=0)) == 40
