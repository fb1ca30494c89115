"""The demo's parts without a browser: box values, inputs (type, size, corrupt files), the safety
defaults, escaping of model text, stopping a run, the reports tab, the CLI's checks."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from demo_helpers import CROSSING_BOX


def test_box_values_from_the_canvas_are_checked():
    from reasoningtrack.demo.boxcanvas import box_from_value, canvas_value

    value = canvas_value("data:,", 360, 240, CROSSING_BOX)
    assert box_from_value(value) == [205.0, 151.0, 17.0, 50.0]
    assert box_from_value(canvas_value("data:,", 360, 240)) is None
    with pytest.raises(ValueError, match="outside the 360x240 frame"):
        box_from_value({**value, "box": [350, 10, 20, 20]})
    with pytest.raises(ValueError, match="positive width"):
        box_from_value({**value, "box": [10, 10, 0, 20]})
    with pytest.raises(ValueError, match="four numbers"):
        box_from_value({**value, "box": [10, "a", 3, 4]})


def test_typed_boxes():
    from reasoningtrack.demo.app import parse_box_text
    from reasoningtrack.demo.inputs import InputError

    assert parse_box_text("205, 151 17,50") == [205.0, 151.0, 17.0, 50.0]
    with pytest.raises(InputError, match="no box yet"):
        parse_box_text("")
    with pytest.raises(InputError, match="got 3"):
        parse_box_text("1,2,3")
    with pytest.raises(InputError, match="positive"):
        parse_box_text("1,2,-3,4")


def test_binds_loopback_by_default_and_warns_when_exposed(tmp_path):
    from reasoningtrack.demo.app import DemoServer, exposure_warning
    from reasoningtrack.demo.config import DemoConfig, is_loopback

    assert DemoConfig().host == "127.0.0.1" and not DemoConfig().exposed and exposure_warning(DemoConfig()) is None
    assert is_loopback("localhost") and is_loopback("::1") and is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")
    assert "not a loopback address" in exposure_warning(DemoConfig(host="0.0.0.0"))
    assert "public share link" in exposure_warning(DemoConfig(share=True))
    # exposed: visitors cannot point the reasoner at other weights or servers
    assert DemoServer(DemoConfig(host="0.0.0.0", runs_dir=str(tmp_path / "a"))).models_locked
    assert not DemoServer(DemoConfig(runs_dir=str(tmp_path / "b"))).models_locked


def test_allowed_paths_are_the_runs_and_reports_folders(tmp_path):
    from reasoningtrack.demo.app import DemoServer
    from reasoningtrack.demo.config import DemoConfig

    runs, reports = tmp_path / "runs", tmp_path / "reports"
    assert DemoServer(DemoConfig(runs_dir=str(runs))).allowed_paths() == [str(runs.resolve())]
    assert DemoServer(DemoConfig(runs_dir=str(runs), reports_dir=str(reports))).allowed_paths() == [str(runs.resolve()), str(reports.resolve())]


def test_uploads_are_limited_in_type_and_size_and_decoded_strictly(crossing_clip, tmp_path):
    from reasoningtrack.demo.inputs import InputError, prepare_upload

    session = tmp_path / "session"
    prepared = prepare_upload(crossing_clip, session, max_bytes=2**20, max_frames=100)
    assert prepared.size == (360, 240) and prepared.frame_count == 40 and prepared.path.startswith(str(session.resolve()))

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InputError, match="notes.txt: not a video file"):
        prepare_upload(text, session, max_bytes=2**20, max_frames=100)
    with pytest.raises(InputError, match="over this server's limit"):
        prepare_upload(crossing_clip, session, max_bytes=1000, max_frames=100)
    with pytest.raises(InputError, match="40 frames; this server tracks at most 10"):
        prepare_upload(crossing_clip, session, max_bytes=2**20, max_frames=10)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(crossing_clip.read_bytes()[:2000])  # a truncated video
    with pytest.raises(InputError, match="broken.mp4") as err:
        prepare_upload(broken, session, max_bytes=2**20, max_frames=100)
    assert str(session) not in str(err.value)  # the server's folders stay private
    kept = sorted(p.relative_to(session) for p in session.rglob("*") if p.is_file())
    assert kept == [Path(prepared.path).relative_to(session.resolve())]  # refused uploads are not kept


def test_model_text_is_escaped_in_the_panel():
    from reasoningtrack.demo.render import events_html, timeline_html
    from reasoningtrack.pipeline.results import ReasoningEvent

    event = ReasoningEvent(frame=10, triggers=["interval"], template_frame=0, input_text="a <b>cat</b>", text_before="a cat",
                           status="updated", text_applied="<img src=x onerror=alert(1)>", decision="yes",
                           think="<script>alert(1)</script>", answer="<img src=x onerror=alert(1)>", latency_s=0.5)
    html = events_html([event], {})
    assert "<script>" not in html and "onerror=alert(1)>" not in html
    assert "&lt;script&gt;" in html and 'data-count="1"' in html
    assert 'data-frame="10"' in timeline_html([event], 40, 12)


def test_stop_ends_a_run_and_keeps_what_was_tracked(tmp_path):
    from reasoningtrack.demo.inputs import prepare_synthetic
    from reasoningtrack.demo.jobs import DemoRun
    from reasoningtrack.pipeline.config import TrackRunConfig

    prepared = prepare_synthetic(3, tmp_path / "world")
    config = TrackRunConfig.from_dict({"input": prepared.path, "box": prepared.box, "text": prepared.text,
                                       "reasoner": "heuristic", "pipeline": {"schedule": {"interval": {"every": 5}}}})
    run = DemoRun(config, tmp_path / "run-001", total=prepared.frame_count)

    stop_at = 12
    original = run._on_image

    def on_image(result, image):  # the visitor presses Stop while frame 12 is on screen
        original(result, image)
        if result.index == stop_at:
            run.stop()

    run._on_image = on_image
    run.start()
    assert run.wait(60) and run.error is None
    snap = run.snapshot()
    assert snap.done and snap.stopped and snap.index == stop_at
    boxes = np.loadtxt(tmp_path / "run-001" / "boxes.txt", delimiter=",")
    assert boxes.shape == (stop_at + 1, 4)
    assert [e.frame for e in snap.events] == [5, 10]
    with zipfile.ZipFile(run.zip_path) as archive:
        assert sorted(archive.namelist()) == ["run-001/boxes.txt", "run-001/config.yaml", "run-001/reasoning.jsonl", "run-001/video.mp4"]


def test_reports_tab_links_report_files(tmp_path):
    from reasoningtrack.demo.app import DemoServer
    from reasoningtrack.demo.config import DemoConfig

    assert "--reports DIR" in DemoServer(DemoConfig(runs_dir=str(tmp_path / "r0"))).reports_html()
    reports = tmp_path / "reports"
    (reports / "bench-a").mkdir(parents=True)
    (reports / "bench-a" / "report.html").write_text("<html></html>")
    server = DemoServer(DemoConfig(runs_dir=str(tmp_path / "r1"), reports_dir=str(reports)))
    html = server.reports_html()
    assert f'href="/gradio_api/file={(reports / "bench-a" / "report.html").resolve()}"' in html and ">bench-a<" in html


def test_cli_refuses_an_unknown_profile_in_one_line():
    from typer.testing import CliRunner

    from reasoningtrack.cli import app

    result = CliRunner().invoke(app, ["demo", "--profile", "nope"])
    assert result.exit_code == 2
    assert "unknown profile 'nope'" in result.output


def test_a_dataset_sequence_on_the_server_comes_with_its_box_and_frames(shared_data):
    from reasoningtrack.demo.inputs import InputError, list_sequences, prepare_sequence

    root = shared_data / "sequences"
    assert {"Couple", "Crossing", "Football1"} <= set(list_sequences("folder", root))
    prepared = prepare_sequence("folder", root, "Crossing", max_frames=500)
    assert prepared.box == [205.0, 151.0, 17.0, 50.0] and prepared.frame_count == 120 and prepared.size == (360, 240)
    assert prepared.path == str((root / "Crossing" / "img").resolve())
    with pytest.raises(InputError, match="120 frames; this server tracks at most 50"):
        prepare_sequence("folder", root, "Crossing", max_frames=50)
    with pytest.raises(InputError, match="give the dataset's root folder"):
        list_sequences("folder", "")


def test_an_exposed_server_reads_datasets_only_under_its_data_root(shared_data, tmp_path):
    from reasoningtrack.demo.app import DemoServer
    from reasoningtrack.demo.config import DemoConfig

    root = str(shared_data / "sequences")
    open_server = DemoServer(DemoConfig(runs_dir=str(tmp_path / "a")))
    assert "Crossing" in open_server.list_dataset("folder", root)[0]["choices"]
    exposed = DemoServer(DemoConfig(host="0.0.0.0", runs_dir=str(tmp_path / "b")))
    update, status = exposed.list_dataset("folder", root)
    assert update["choices"] == [] and "offers no datasets" in status
    fixed = DemoServer(DemoConfig(host="0.0.0.0", runs_dir=str(tmp_path / "c"), data_root=root))
    assert "Crossing" in fixed.list_dataset("folder", "/etc")[0]["choices"]  # the visitor's root is ignored


def test_the_demo_command_serves_the_page_on_loopback(tmp_path):
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from demo_helpers import free_port

    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "reasoningtrack.cli", "demo", "--port", str(port), "--runs", str(tmp_path / "runs")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline, page = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert page is not None and "ReasoningTrack demo" in page, proc.poll()
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert "warning" not in output.lower()  # loopback: nothing exposed, nothing to warn about
