"""The demo's programmatic API (gradio_client): the browser's job run from Python, and two
sessions at once, each with its own input and result, sharing one reasoner."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import yaml

from demo_helpers import CLIP_FRAMES, CROSSING_BOX, CROSSING_TEXT, read_zip_run

OPTIONS = dict(backbone="csrt", reasoner="heuristic", model="", base_url="", triggers=["interval"], interval=10,
               policy="initial", mode="sync", profile="paper")


def _run(client, box: str, text: str):
    from gradio_client import Client  # noqa: F401  (the fixture's client)

    o = OPTIONS
    return client.predict(box, text, o["backbone"], o["reasoner"], o["model"], o["base_url"], o["triggers"], o["interval"],
                          o["policy"], o["mode"], o["profile"], api_name="/run")


def test_gradio_client_runs_the_browser_job(demo_url, crossing_clip, track_boxes, tmp_path):
    from gradio_client import Client, handle_file

    url, _ = demo_url
    client = Client(url, verbose=False, download_files=str(tmp_path / "downloads"))
    canvas, box, text, status, cleared = client.predict(handle_file(str(crossing_clip)), api_name="/load_upload")
    assert status.startswith("loaded **crossing40.mp4**: 360x240, 40 frames")
    assert canvas["width"] == 360 and canvas["image"].startswith("data:image/jpeg;base64,")
    assert box == "" and cleared is None  # an upload has no known box: the visitor draws it

    live, stats, timeline, events, zipped, status = _run(client, ",".join(map(str, CROSSING_BOX)), CROSSING_TEXT)
    assert status.startswith("**done:** 40 frames"), status
    assert events.count('class="rt-event"') == 3 and timeline.count('class="rt-tl-mark"') == 3
    run = read_zip_run(zipped, tmp_path / "unzipped")
    boxes = np.loadtxt(run / "boxes.txt", delimiter=",")
    assert boxes.shape == (CLIP_FRAMES, 4)
    assert np.abs(boxes - track_boxes(CROSSING_BOX)).max() <= 1.0

    # a bad box is a message, not a run
    *_, status = _run(client, "1,2,3", CROSSING_TEXT)
    assert status.startswith("**error:**") and "four numbers" in status


def test_two_sessions_run_at_once_each_with_its_own_result(demo_url, crossing_clip, track_boxes, tmp_path):
    from gradio_client import Client, handle_file

    url, server = demo_url
    clip = Client(url, verbose=False, download_files=str(tmp_path / "a"))
    world = Client(url, verbose=False, download_files=str(tmp_path / "b"))
    clip.predict(handle_file(str(crossing_clip)), api_name="/load_upload")
    _, world_box, world_text, status = world.predict(7, api_name="/load_synthetic")
    assert status.startswith("loaded **synthetic world, seed 7**") and world_box and world_text
    started = len(server.runs)

    results = {}

    def go(name, client, box, text):
        results[name] = _run(client, box, text)

    threads = [threading.Thread(target=go, args=("world", world, world_box, world_text)),
               threading.Thread(target=go, args=("clip", clip, ",".join(map(str, CROSSING_BOX)), CROSSING_TEXT))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert set(results) == {"clip", "world"}

    clip_run = read_zip_run(results["clip"][4], tmp_path / "clip")
    world_run = read_zip_run(results["world"][4], tmp_path / "world")
    assert clip_run.parent != world_run.parent
    clip_config = yaml.safe_load((clip_run / "config.yaml").read_text())
    world_config = yaml.safe_load((world_run / "config.yaml").read_text())
    assert clip_config["input"].endswith("crossing40.mp4") and clip_config["text"] == CROSSING_TEXT
    assert world_config["input"].endswith("imgs") and world_config["text"] == world_text
    assert np.abs(np.loadtxt(clip_run / "boxes.txt", delimiter=",") - track_boxes(CROSSING_BOX)).max() <= 1.0
    world_boxes = np.loadtxt(world_run / "boxes.txt", delimiter=",")
    assert world_boxes.shape == (60, 4)  # the fixture's synthetic_frames
    assert np.allclose(world_boxes[0], [float(v) for v in world_box.split(",")])

    # the two runs overlapped in time (neither waited for the other) and shared one reasoner
    a, b = server.runs[started:]
    assert a.started_at < b.finished_at and b.started_at < a.finished_at
    assert server.pool.loads == 1


def test_only_the_runs_and_reports_folders_are_served(demo_url, tmp_path):
    import urllib.error
    import urllib.request

    url, server = demo_url
    report = server.reports_dir / "bench-a" / "report.html"
    html = server.reports_html()
    assert f"/gradio_api/file={report}" in html
    with urllib.request.urlopen(f"{url}gradio_api/file={report}", timeout=30) as response:
        assert b"bench-a report" in response.read()
    secret = tmp_path / "secret.txt"  # outside the runs and reports folders
    secret.write_text("not for visitors")
    for path in (secret, "/etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{url}gradio_api/file={path}", timeout=30)
        assert err.value.code in (403, 404)


def test_stop_from_the_page_ends_the_run_with_the_frames_so_far(demo_url, tmp_path):
    import time

    from gradio_client import Client

    url, server = demo_url
    client = Client(url, verbose=False, download_files=str(tmp_path / "downloads"))
    _, box, text, _ = client.predict(7, api_name="/load_synthetic")
    started = len(server.runs)
    o = OPTIONS
    job = client.submit(box, text, o["backbone"], o["reasoner"], "", "", o["triggers"], o["interval"], o["policy"], o["mode"],
                        o["profile"], api_name="/run")
    deadline = time.monotonic() + 60
    while (len(server.runs) == started or server.runs[-1].snapshot().index < 5) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.predict(api_name="/stop") == "stopping after the current frame…"
    *_, zipped, status = job.result(timeout=60)
    assert status.startswith("**stopped:**") and "the files hold the frames tracked so far" in status
    boxes = np.loadtxt(read_zip_run(zipped, tmp_path / "run") / "boxes.txt", delimiter=",")
    assert 6 <= len(boxes) < 60
    assert client.predict(api_name="/stop") == "nothing is running"
