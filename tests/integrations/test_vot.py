"""The VOT integration: a real TraX session with the server in its own process, and the pieces."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from trax.client import Client
from trax.image import BufferImage, FileImage, MemoryImage
from trax.region import Mask, Polygon, Rectangle, Special

from reasoningtrack.config import ConfigError
from reasoningtrack.integrations.vot import (
    VOTConfig,
    box_to_region,
    find_text,
    load_vot_config,
    main,
    read_trax_image,
    region_to_box,
)
from reasoningtrack.pipeline.session import build_tracker
from reasoningtrack.specs import BackboneSpec, ReasonerSpec
from reasoningtrack.sources import open_source

CROSSING_BOX = (205.0, 151.0, 17.0, 50.0)


@pytest.fixture(scope="module")
def vot_sequence(shared_data, tmp_path_factory) -> Path:
    """Crossing's first 9 frames in the VOT workspace layout, with a language file."""
    root = tmp_path_factory.mktemp("vot") / "crossing"
    (root / "color").mkdir(parents=True)
    for i, src in enumerate(sorted((shared_data / "sequences" / "Crossing" / "img").glob("*.jpg"))[:9]):
        shutil.copy(src, root / "color" / f"{i + 1:08d}.jpg")
    (root / "language.txt").write_text("a walking person in dark clothes\n")
    return root


def start_server(config: Path) -> tuple[subprocess.Popen, Client]:
    process = subprocess.Popen(
        [sys.executable, "-m", "reasoningtrack.integrations.vot", "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # vot-trax 4.0.2's Client needs a log callable (log=False crashes in trax_logger_setup).
    client = Client(stream=(process.stdin.fileno(), process.stdout.fileno()), timeout=60, log=lambda _: None)
    return process, client


def reference_boxes(frames: list[Path], box, text: str, config: VOTConfig) -> np.ndarray:
    tracker = build_tracker(BackboneSpec.of(config), ReasonerSpec.of(config), config.pipeline)
    run = tracker.run(open_source(frames).frames(), box, text)
    return np.array([r.box for r in run])


def test_trax_session_round_trip(vot_sequence, tmp_path):
    config_path = tmp_path / "vot.yaml"
    config_path.write_text(
        "tracker: csrt\nreasoner: heuristic\n"
        f"reasoning_log_dir: {tmp_path / 'logs'}\n"
        "pipeline:\n  schedule:\n    interval:\n      every: 3\n"
        # keys of a `reasoningtrack track` config.yaml are accepted and ignored
        "input: /somewhere/else\nbox: [1, 2, 3, 4]\nvideo: true\n"
    )
    frames = sorted((vot_sequence / "color").glob("*.jpg"))
    process, client = start_server(config_path)
    try:
        assert client.tracker_name == "ReasoningTrack"
        assert {"rectangle", "polygon", "mask"} <= set(client.region_formats)
        answers = []
        objects, _ = client.initialize(
            {"color": FileImage.create(str(frames[0]))}, [(Rectangle.create(*CROSSING_BOX), {})], {"text": "the pedestrian"}
        )
        answers.append(objects[0])
        for path in frames[1:7]:
            objects, _ = client.frame({"color": FileImage.create(str(path))}, {}, [])
            answers.append(objects[0])
        # Re-initialise mid-session (as supervised experiments do) from frame 5, prompt from language.txt.
        restart_box = tuple(float(v) for v in answers[4][0].bounds())
        objects, _ = client.initialize(
            {"color": FileImage.create(str(frames[4]))}, [(Rectangle.create(*restart_box), {})], {}
        )
        restarted = [objects[0]]
        for path in frames[5:9]:
            objects, _ = client.frame({"color": FileImage.create(str(path))}, {}, [])
            restarted.append(objects[0])
        client.quit()
        assert process.wait(timeout=30) == 0, process.stderr.read().decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    config = load_vot_config(config_path)
    expected = reference_boxes(frames[:7], CROSSING_BOX, "the pedestrian", config)
    got = np.array([region.bounds() for region, _ in answers])
    # TraX carries float32: rounding to nearest is off by at most 2**-24 * |x|, under 1e-4 for |x| < 1677 px
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert all(float(props["confidence"]) in (0.0, 1.0) for _, props in answers)
    expected_restart = reference_boxes(frames[4:9], restart_box, "a walking person in dark clothes", config)
    np.testing.assert_allclose(np.array([r.bounds() for r, _ in restarted]), expected_restart, atol=1e-4)

    # One reasoning log per initialisation, each with the prompt it was given.
    logs = sorted((tmp_path / "logs").glob("*.jsonl"))
    assert [p.name for p in logs] == ["crossing.init2.jsonl", "crossing.jsonl"]
    first = [json.loads(line) for line in logs[1].read_text().splitlines()]
    assert [e["frame"] for e in first] == [3, 6] and first[0]["input_text"] == "the pedestrian"
    second = [json.loads(line) for line in logs[0].read_text().splitlines()]
    assert [e["frame"] for e in second] == [3] and second[0]["input_text"] == "a walking person in dark clothes"


def test_regions_become_boxes():
    assert region_to_box(Rectangle.create(10, 20, 30, 40)).tolist() == [10, 20, 30, 40]
    polygon = Polygon.create([(10.0, 20.0), (40.0, 22.0), (38.0, 60.0), (12.0, 58.0)])
    assert region_to_box(polygon).tolist() == [10, 20, 30, 40]
    mask = np.zeros((50, 60), np.uint8)
    mask[5:15, 7:27] = 1
    assert region_to_box(Mask.create(mask, x=100, y=200)).tolist() == [107, 205, 20, 10]
    with pytest.raises(ValueError, match="empty"):
        region_to_box(Mask.create(np.zeros((4, 4), np.uint8)))
    with pytest.raises(ValueError, match="special"):
        region_to_box(Special.create(0))
    assert box_to_region(np.array([1.5, 2.5, 3.0, 4.0])).bounds() == (1.5, 2.5, 3.0, 4.0)


def test_images_of_every_kind_are_rgb(tmp_path):
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[..., 0] = 200  # red
    path = tmp_path / "frame.png"
    cv2.imwrite(str(path), rgb[..., ::-1])
    from_file, where = read_trax_image(FileImage.create(str(path)))
    assert where == path and from_file[0, 0].tolist() == [200, 0, 0]
    from_memory, where = read_trax_image(MemoryImage.create(rgb))
    assert where is None and from_memory[0, 0].tolist() == [200, 0, 0]
    from_buffer, _ = read_trax_image(BufferImage.create(path.read_bytes()))
    assert from_buffer[0, 0].tolist() == [200, 0, 0]


def test_prompt_sources_in_order(vot_sequence):
    config = VOTConfig(text="fallback")
    first = sorted((vot_sequence / "color").glob("*.jpg"))[0]
    assert find_text(config, {"Language": "from the toolkit"}, first) == "from the toolkit"
    assert find_text(config, {}, first) == "a walking person in dark clothes"
    assert find_text(config, {}, None) == "fallback"
    assert find_text(VOTConfig(text_files=[]), {"other": "x"}, first) == ""


def test_config_loading_and_errors(tmp_path):
    path = tmp_path / "vot.yaml"
    path.write_text("tracker: kcf\nreasoner: static\npipeline:\n  mode: async\n")
    config = load_vot_config(path, ["reasoner_options.latency=0.5", "reasoner=heuristic"])
    assert (config.backbone, config.reasoner, config.pipeline.mode) == ("kcf", "heuristic", "async")
    assert config.reasoner_options == {"latency": 0.5}
    path.write_text("trackr: csrt\n")
    with pytest.raises(ConfigError, match="trackr"):
        load_vot_config(path)
    assert main(["--config", str(path)]) == 2  # a bad config stops before the protocol starts


def test_trax_session_over_a_socket(vot_sequence):
    """The toolkit's other transport: it listens, the tracker connects to TRAX_SOCKET."""
    import os
    import socket

    frames = sorted((vot_sequence / "color").glob("*.jpg"))[:4]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    env = dict(os.environ, TRAX_SOCKET=str(listener.getsockname()[1]))
    process = subprocess.Popen(
        [sys.executable, "-m", "reasoningtrack.integrations.vot", "--set", "reasoner=static", "--set", "tracker=kcf"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        client = Client(stream=listener.fileno(), timeout=60, log=lambda _: None)
        objects, _ = client.initialize({"color": FileImage.create(str(frames[0]))}, [(Rectangle.create(*CROSSING_BOX), {})], {})
        got = [objects[0][0].bounds()]
        for path in frames[1:]:
            objects, _ = client.frame({"color": FileImage.create(str(path))}, {}, [])
            got.append(objects[0][0].bounds())
        client.quit()
        assert process.wait(timeout=30) == 0, process.stderr.read().decode()
        assert process.stdout.read() == b""
    finally:
        listener.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    expected = reference_boxes(frames, CROSSING_BOX, "", VOTConfig(backbone="kcf", reasoner="static"))
    np.testing.assert_allclose(np.array(got), expected, atol=1e-4)
