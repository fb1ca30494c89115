"""Fault injection for bad input and numerics (issue 10, items 5, 8-12 and 14): the real
``reasoningtrack`` command line in subprocesses, fed damaged videos, bad result files, bad
settings, an unreachable hub and half-written data. Each test asserts the exit code, the one-line
message (never a traceback) and that nothing already there was lost or half-written."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np
import pytest

from reasoningtrack.datasets.synthetic import WorldConfig, write_dataset
from reasoningtrack.sources import ImageFolderSource

FRAMES = 24
SEQ = "synth-test-0000"


def one_line_error(code: int, out: str, err: str, expected_code: int, *needles: str) -> str:
    """The run failed with ``expected_code`` and one ``error:`` line holding every needle."""
    assert code == expected_code, (code, out, err)
    assert "Traceback" not in out + err, out + err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def run_many(run_cli, *calls) -> list[tuple[int, str, str]]:
    """Independent CLI runs at once (each is mostly interpreter start-up and imports)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: run_cli(*call) if isinstance(call, tuple) else run_cli(call), calls))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """One short synthetic sequence (test split) and a copy of its ground truth as results."""
    root = tmp_path_factory.mktemp("faults") / "world"
    write_dataset(root, sequences=2, seed=4, config=WorldConfig(frames=FRAMES, width=160, height=120), splits=("test",))
    return root


def _track(input_path, out, *extra) -> list[str]:
    return ["track", str(input_path), "--backbone", "csrt", "--reasoner", "static", "--no-video", "-o", str(out), *extra]


# -- item 10: one-line errors, nothing touched -----------------------------------------------------


def test_outputs_of_the_wrong_kind_are_one_line_errors_and_untouched(world, tmp_path, run_cli):
    taken = tmp_path / "taken.txt"
    taken.write_text("keep me\n")
    imgs = world / "test" / SEQ / "imgs"
    bench = ["benchmark", "--dataset", "synthetic", "--root", str(world), "--backbone", "csrt", "--reasoner", "static",
             "-o", str(taken)]
    results = tmp_path / "results"
    results.mkdir()
    for name in (world / "test.txt").read_text().split():
        shutil.copy(world / "test" / name / "groundtruth.txt", results / f"{name}.txt")
    folder = tmp_path / "a-folder"
    (folder / "inside").mkdir(parents=True)
    evaluate = ["evaluate", "-d", "synthetic", "-r", str(world), "--results", f"A={results}"]
    track, benchmark, json_folder, plots_file = run_many(
        run_cli, _track(imgs, taken), bench, evaluate + ["--json", str(folder)], evaluate + ["--plots", str(taken)])
    one_line_error(*track, 2, "is a file, not a folder")
    one_line_error(*benchmark, 2, "is a file, not a folder")
    one_line_error(*json_folder, 2, "--json", "is a folder; give a file name")
    one_line_error(*plots_file, 2, "--plots", "is a file; give a folder")
    assert taken.read_text() == "keep me\n" and [p.name for p in folder.iterdir()] == ["inside"]


def test_a_description_that_is_not_utf8_names_the_file(world, tmp_path, run_cli):
    seq = tmp_path / "seq"
    shutil.copytree(world / "test" / SEQ, seq)
    (seq / "language.txt").write_bytes("a red caf\xe9 chair\n".encode("latin-1"))
    out = tmp_path / "out"
    one_line_error(*run_cli(_track(seq / "imgs", out)), 2, "language.txt: not UTF-8 text")
    assert not out.exists()


# -- item 5: the protocol's repairs are applied, said, and refused under --strict ---------------


def test_empty_long_and_inf_results_are_listed_and_strict_refuses_them(world, tmp_path, run_cli):
    names = (world / "test.txt").read_text().split()
    gt = {n: (world / "test" / n / "groundtruth.txt").read_text().splitlines() for n in names}
    results = tmp_path / "results"
    results.mkdir()
    (results / f"{names[0]}.txt").write_text("")  # empty
    rows = gt[names[1]] + gt[names[1]][:3]  # 3 rows too many, and an infinite width on row 5
    rows[4] = "10,10,inf,20"
    (results / f"{names[1]}.txt").write_text("\n".join(rows) + "\n")
    report = tmp_path / "report.json"
    evaluate = ["evaluate", "-d", "synthetic", "-r", str(world), "--results", f"A={results}", "--json", str(report)]
    code, out, err = run_cli(evaluate)
    assert code == 0, out + err
    notes = [line for line in out.splitlines() if line.startswith("note:")]
    assert any(names[0] in n and "empty result file" in n for n in notes), out
    assert any(names[1] in n and "inf: 1 row(s)" in n and "cut: 3 row(s)" in n for n in notes), out
    data = json.loads(report.read_text())
    adjusted = data["trackers"]["A"]["adjusted"]
    assert set(adjusted) == set(names) and len(data["notes"]) == 2
    assert any("carried forward" in what and "frame(s) 5" in what for what in adjusted[names[1]])
    written = report.read_bytes()
    line = one_line_error(*run_cli(evaluate + ["--strict"]), 2, "strict", names[0], names[1], "empty result file", "inf")
    assert "cut: 3 row(s)" in line
    assert report.read_bytes() == written  # the strict failure wrote nothing
    (results / f"{names[0]}.txt").write_text("\n".join(gt[names[0]][:5]) + "\n")  # 5 of 24 rows
    one_line_error(*run_cli(evaluate[:-2] + ["--skip-missing"]), 2, names[0], f"5 predicted boxes for {FRAMES}")


def test_a_result_file_present_twice_is_ambiguous_not_missing(world, tmp_path, run_cli):
    names = (world / "test.txt").read_text().split()
    results = tmp_path / "results"
    results.mkdir()
    for name in names:
        shutil.copy(world / "test" / name / "groundtruth.txt", results / f"{name}.txt")
    shutil.copy(results / f"{names[0]}.txt", results / f"{names[0].upper()}.txt")
    args = ["evaluate", "-d", "synthetic", "-r", str(world), "--results", f"A={results}", "--skip-missing"]
    one_line_error(*run_cli(args), 2, "ambiguous result files", "letter case", names[0].upper())


# -- item 8: DUTrack refuses a frame whose size changed, naming the frame ----------------------------


def test_dutrack_frame_size_change_names_the_frame(shared_data, tmp_path, run_cli):
    import cv2

    ref = shared_data / "dutrack-reference"
    frames = sorted((ref / "synthetic_seq").glob("*.jpg"))[:6]
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i, path in enumerate(frames):
        image = cv2.imread(str(path))
        if i == 4:
            image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2))
        cv2.imwrite(str(folder / f"{i:04d}.png"), image)
    box = (ref / "synthetic_seq" / "groundtruth.txt").read_text().splitlines()[0]
    out = tmp_path / "out"
    args = ["track", str(folder), "--box", box, "--text", "a red car", "--backbone", "dutrack",
            "--backbone-config", str(ref / "tiny_config.json"), "--checkpoint", str(ref / "tiny_state_dict.pt"),
            "--backbone-opt", f"vocab={ref / 'vocab-bert-base-uncased.txt'}", "--backbone-opt", "device=cpu",
            "--reasoner", "static", "--no-video", "-o", str(out)]
    one_line_error(*run_cli(args, env={"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}), 2,
                   "DUTrack: frame 5 of the sequence is 240x160, but frame 1 was 480x320")
    assert not out.exists()


# -- item 9: damage FFmpeg conceals is warned about, and an error under --strict-decode ------------


@pytest.mark.skipif("libx264" not in av.codecs_available, reason="needs an H.264 encoder in PyAV")
def test_concealed_video_damage_is_warned_and_strict_decode_stops(shared_data, tmp_path, run_cli):
    frames = [f for _, f in ImageFolderSource(shared_data / "sequences" / "Crossing" / "img")]
    video = tmp_path / "crossing.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    data = bytearray(video.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 200] = bytes(200)  # 200 zero bytes in the middle
    video.write_bytes(bytes(data))

    out = tmp_path / "out"
    code, stdout, stderr = run_cli(_track(video, out, "--box", "205,151,17,50", "--text", "a person"))
    assert code == 0, stdout + stderr
    warning = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "FFmpeg concealed decoding errors in" in warning[0] and "h264:" in warning[0], stderr
    assert len((out / "boxes.txt").read_text().splitlines()) == len(frames)  # FFmpeg's guesses, all frames
    strict = tmp_path / "strict"
    line = one_line_error(*run_cli(_track(video, strict, "--box", "205,151,17,50", "--text", "a person",
                                          "--strict-decode")), 2, "crossing.mp4: frame", "FFmpeg concealed")
    assert "(0-based)" in line and not strict.exists()


# -- item 11: values that pass range checks silently ------------------------------------------------


class _Answers(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat server whose model answers with a NUL byte in the description."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        content = "<think>it turned</think><d>yes</d><answer>a blue\u0000 square</answer>"
        body = json.dumps({"id": "c", "object": "chat.completion", "created": 0, "model": "stub",
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                        "finish_reason": "stop"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_nan_settings_are_refused_and_control_characters_never_tracked(world, tmp_path, run_cli):
    imgs = world / "test" / SEQ / "imgs"
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        out = tmp_path / "c"
        args = ["track", str(imgs), "--backbone", "csrt", "--no-video", "-o", str(out), "--interval", "10",
                "--reasoner", "openai", "--base-url", f"http://127.0.0.1:{server.server_address[1]}/v1", "--model", "stub"]
        nan, colour, (code, stdout, stderr) = run_many(
            run_cli, _track(imgs, tmp_path / "a", "--timeout", "nan"),
            _track(imgs, tmp_path / "b", "--set", "pipeline.template.mark_color=[0,300,0]"), args)
    finally:
        server.shutdown()
    one_line_error(*nan, 2, "timeout_s", "finite number")
    one_line_error(*colour, 2, "mark_color must be three integers R,G,B in 0..255")
    events = [json.loads(line) for line in (out / "reasoning.jsonl").read_text().splitlines()]
    calls = [e for e in events if e.get("status") not in (None, "dropped")]
    assert calls and all(e["status"] == "unusable" and "U+0000" in e["error"] for e in calls), events
    assert all("\x00" not in (e.get("text_applied") or "") for e in events)
    assert code == 1 and "every reasoning call failed" in stdout + stderr  # all calls unusable: not a success


# -- item 12: no network, fast failure ---------------------------------------------------------------


def test_qwen_with_an_unreachable_hub_fails_at_once(world, tmp_path, run_cli):
    out = tmp_path / "out"
    start = time.perf_counter()
    code, stdout, stderr = run_cli(
        ["track", str(world / "test" / SEQ / "imgs"), "--backbone", "csrt", "--reasoner", "qwen", "--model",
         "my-org/never-cached-vlm", "--no-video", "-o", str(out)],
        env={"HF_HUB_OFFLINE": None, "HF_ENDPOINT": f"http://127.0.0.1:{closed_port()}", "HTTPS_PROXY": None,
             "https_proxy": None, "ALL_PROXY": None, "all_proxy": None})
    elapsed = time.perf_counter() - start
    one_line_error(code, stdout, stderr, 2, "is unreachable", "my-org/never-cached-vlm")
    assert "hf download my-org/never-cached-vlm" in stderr and not out.exists()
    assert elapsed < 60, elapsed  # transformers' own retries take minutes


# -- item 14: the smaller ones ---------------------------------------------------------------------


def test_small_items_say_what_to_do(world, shared_data, tmp_path, run_cli):
    half = tmp_path / "half"  # what an interrupted data synth leaves
    shutil.copytree(world, half)
    shutil.rmtree(half / "test" / "synth-test-0001")
    (half / "test.txt").unlink()
    ref = shared_data / "dutrack-reference"
    build, info, typo = run_many(
        run_cli,
        ["data", "build", "-d", "synthetic", "-r", str(world), "--split", "test", "-o", str(tmp_path / "samples")],
        ["data", "info", "-d", "synthetic", "-r", str(half)],
        ["track", str(world / "test" / SEQ / "imgs"), "--backbone", "dutrack", "--checkpoint", str(ref / "tiny_state_dict.pt"),
         "--backbone-opt", "hanning_window=0", "--reasoner", "static", "--no-video", "-o", str(tmp_path / "d")])
    # data build with the release's gaps on 24-frame sequences: which options fit
    one_line_error(*build, 1, "no pairs could be drawn", "--min-gap 3 --max-gap 12")
    assert not (tmp_path / "samples").exists()
    # an interrupted data synth: incomplete, with the command that finishes it
    one_line_error(*info, 1, "incomplete synthetic dataset", "1 of 2 sequences", "data synth --output")
    # a DUTrack option typo lists every valid option, loading and test-time ones
    line = one_line_error(*typo, 2, "unknown option(s) ['hanning_window']")
    assert "'vocab'" in line and "'hanning'" in line and "'search_factor'" in line
