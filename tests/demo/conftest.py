"""Fixtures of the web-demo tests: a real demo server on a free loopback port, a short real clip,
the system chromium, and the folder where screenshots are kept (``test-artifacts/demo``, ignored
by git)."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml
from demo_helpers import ARTIFACTS, CLIP_FRAMES, CROSSING_TEXT, free_port

pytest.importorskip("gradio", reason="the demo needs the [demo] extra (gradio)")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def crossing_clip(shared_data, tmp_path_factory) -> Path:
    """The first 40 frames of OTB Crossing as an H.264 mp4 (written with PyAV)."""
    import av
    import cv2

    frames = sorted((shared_data / "sequences" / "Crossing" / "img").glob("*.jpg"))[:CLIP_FRAMES]
    path = tmp_path_factory.mktemp("clip") / "crossing40.mp4"
    codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=Fraction(30))
        stream.width, stream.height, stream.pix_fmt = 360, 240, "yuv420p"
        for frame_path in frames:
            rgb = cv2.cvtColor(cv2.imread(str(frame_path)), cv2.COLOR_BGR2RGB)
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory):
    """A demo server (csrt + heuristic, two runs at once) for the whole test session."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from reasoningtrack.demo.app import launch
    from reasoningtrack.demo.config import DemoConfig

    reports = tmp_path_factory.mktemp("reports")
    (reports / "bench-a").mkdir()
    (reports / "bench-a" / "report.html").write_text("<html><body>bench-a report</body></html>")
    config = DemoConfig(port=free_port(), runs_dir=str(tmp_path_factory.mktemp("demo-runs")), concurrency=2,
                        max_upload_mb=5, max_frames=400, reports_dir=str(reports), synthetic_frames=60)
    server, blocks, url = launch(config, block=False)
    try:
        yield url, server
    finally:
        blocks.close()
        server.close()


@pytest.fixture(scope="session")
def track_boxes(crossing_clip, tmp_path_factory):
    """``track_boxes(box)``: the boxes the ``reasoningtrack track`` command writes for the clip from
    ``box`` with csrt, the heuristic reasoner every 10 frames and the test description (the real
    command, invoked in this process to save an interpreter start)."""
    from typer.testing import CliRunner

    from reasoningtrack.cli import app

    cache: dict = {}
    track_configs: dict = {}

    def run(box) -> np.ndarray:
        key = ",".join(f"{float(v):g}" for v in box)
        if key not in cache:
            out = tmp_path_factory.mktemp("track") / "run"
            result = CliRunner().invoke(app, [
                "track", str(crossing_clip), "--box", key, "--text", CROSSING_TEXT, "--backbone", "csrt",
                "--reasoner", "heuristic", "--schedule", "interval", "--interval", "10", "--no-video", "--output", str(out)])
            assert result.exit_code == 0, result.output
            cache[key] = np.loadtxt(out / "boxes.txt", delimiter=",")
            track_configs[key] = yaml.safe_load((out / "config.yaml").read_text())
        return cache[key]

    run.configs = track_configs  # box key -> the config.yaml that track wrote
    return run
