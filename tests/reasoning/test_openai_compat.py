"""The HTTP reasoner against a real `transformers serve` on 127.0.0.1, and against small stdlib
servers that sleep, fail or answer garbage."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reasoningtrack.config import ConfigError
from reasoningtrack.reasoning import REASONERS, Reasoning, ReasonerError, ReasoningRequest
from reasoningtrack.reasoning.openai_compat import DEFAULT_BASE_URL, OpenAIConfig, OpenAIReasoner

SERVER_START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tiny_qwen_dir, tmp_path_factory):
    """`transformers serve DIR` on a free port; yields (base_url, model name); always stopped."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_ENDPOINT="http://127.0.0.1:9")
    command = [sys.executable, "-m", "transformers.cli.transformers", "serve", str(tiny_qwen_dir),
               "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"transformers serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve not healthy after {SERVER_START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/v1", str(tiny_qwen_dir)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _reasoner(base_url: str, **options) -> OpenAIReasoner:
    options = {"max_new_tokens": 8, "max_pixels": 112 * 112, "max_retries": 0, **options}
    return REASONERS.build("openai", base_url=base_url, **options)


def test_full_request_response(served, sample_pair):
    base_url, model = served
    template, current, description = sample_pair
    reasoner = _reasoner(base_url, model=model)
    result = reasoner.reason(template, current, description)
    assert isinstance(result, Reasoning) and result.raw
    assert not result.update and result.answer == description  # noise: the old text is kept
    assert reasoner.last_usage["completion_tokens"] == 8  # max_tokens is always sent
    assert reasoner.reason(template, current, description).raw == result.raw  # temperature 0
    batch = reasoner.reason_batch(
        [ReasoningRequest(template, current, description), ReasoningRequest(current, template, "a boat")]
    )
    assert batch[0].raw == result.raw
    assert batch[1].raw == reasoner.reason(current, template, "a boat").raw


def test_model_name_from_server(served):
    base_url, model = served
    assert _reasoner(base_url).model == model


def test_two_images_reach_the_model(served, sample_pair):
    """A server that silently drops images would count the same prompt tokens for one and two."""
    base_url, model = served
    template, current, description = sample_pair
    reasoner = _reasoner(base_url, model=model)
    body = reasoner.request_body(ReasoningRequest(template, current, description))
    user = body["messages"][-1]["content"]
    assert [part["type"] for part in user] == ["image_url", "image_url", "text"]
    assert all(part["image_url"]["url"].startswith("data:image/jpeg;base64,") for part in user[:2])
    two = reasoner.client.chat.completions.create(**body).usage.prompt_tokens
    body["messages"][-1]["content"] = user[1:]
    one = reasoner.client.chat.completions.create(**body).usage.prompt_tokens
    # 640x360 within 112x112 pixels: 8 merged image tokens, plus the vision markers.
    assert two - one >= 8


class _Stub(BaseHTTPRequestHandler):
    """Answers per the server's `mode`: sleep, 500, non-JSON, JSON without choices."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        server = self.server
        server.hits += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if server.mode == "sleep":
            time.sleep(2.0)
        status, body = {
            "sleep": (200, b"{}"),
            "error": (500, b'{"error": "boom"}'),
            "garbage": (200, b"<html>not json</html>"),
            "no-choices": (200, json.dumps({"id": "x", "object": "chat.completion", "choices": []}).encode()),
        }[server.mode]
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass


@pytest.fixture
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.hits = 0
    server.mode = "sleep"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _tiny_frames():
    import numpy as np

    return np.zeros((16, 16, 3), np.uint8), np.full((16, 16, 3), 255, np.uint8)


def test_timeout_then_bounded_retries(stub):
    url = f"http://127.0.0.1:{stub.server_address[1]}/v1"
    template, current = _tiny_frames()
    # Built before the clock starts: the first reasoner of a process imports the HTTP client
    # (seconds on a busy machine, and the test order is random); only the call is timed.
    reasoner = _reasoner(url, model="m", timeout=0.3)
    start = time.monotonic()
    with pytest.raises(ReasonerError, match="no answer within 0.3 s"):
        reasoner.reason(template, current, "x")
    assert time.monotonic() - start < 1.8 and stub.hits == 1
    with pytest.raises(ReasonerError, match="after 3 attempt"):
        _reasoner(url, model="m", timeout=0.2, max_retries=2, backoff=0.01).reason(template, current, "x")
    assert stub.hits == 4


def test_server_errors_are_retried_then_reported(stub):
    stub.mode = "error"
    url = f"http://127.0.0.1:{stub.server_address[1]}/v1"
    template, current = _tiny_frames()
    with pytest.raises(ReasonerError, match="HTTP 500"):
        _reasoner(url, model="m", max_retries=1, backoff=0.01).reason(template, current, "x")
    assert stub.hits == 2


@pytest.mark.parametrize("mode", ["garbage", "no-choices"])
def test_malformed_response(stub, mode):
    stub.mode = mode
    url = f"http://127.0.0.1:{stub.server_address[1]}/v1"
    template, current = _tiny_frames()
    with pytest.raises(ReasonerError, match="malformed"):
        _reasoner(url, model="m", max_retries=3).reason(template, current, "x")
    assert stub.hits == 1  # a malformed answer is not retried


def test_server_down_is_a_clear_error():
    url = f"http://127.0.0.1:{_free_port()}/v1"
    template, current = _tiny_frames()
    start = time.monotonic()
    with pytest.raises(ReasonerError, match=r"127\.0\.0\.1.*cannot connect"):
        _reasoner(url, model="m", max_retries=1, backoff=0.01).reason(template, current, "x")
    with pytest.raises(ReasonerError, match="cannot connect"):
        _ = _reasoner(url).model  # the name lookup fails the same way
    assert time.monotonic() - start < 10


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai-env/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "k1")
    assert OpenAIReasoner(OpenAIConfig()).base_url == "http://openai-env/v1"
    monkeypatch.setenv("REASONINGTRACK_BASE_URL", "http://ours/v1")
    monkeypatch.setenv("REASONINGTRACK_API_KEY", "k2")
    monkeypatch.setenv("REASONINGTRACK_MODEL", "served-name")
    reasoner = OpenAIReasoner(OpenAIConfig())
    assert reasoner.base_url == "http://ours/v1" and reasoner.client.api_key == "k2"
    assert reasoner.model == "served-name"
    explicit = OpenAIReasoner(OpenAIConfig(base_url="http://x/v1", api_key="k3", model="m"))
    assert explicit.base_url == "http://x/v1" and explicit.client.api_key == "k3" and explicit.model == "m"
    for name in ("REASONINGTRACK_BASE_URL", "OPENAI_BASE_URL", "REASONINGTRACK_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name)
    assert OpenAIReasoner(OpenAIConfig()).base_url == DEFAULT_BASE_URL


def test_options_are_validated():
    with pytest.raises(ConfigError, match="adapter"):
        REASONERS.build("openai", adapter="x")
    with pytest.raises(ConfigError, match="timeout"):
        OpenAIConfig.from_dict({"timeout": 0})
    with pytest.raises(ConfigError, match="max_retries"):
        OpenAIConfig.from_dict({"max_retries": -1})
    cfg = OpenAIConfig.from_dict({"timeout": "2.5", "max_retries": "0", "base_url": "http://h/v1"})
    assert cfg.timeout == 2.5 and cfg.max_retries == 0


def test_tracking_continues_when_the_server_is_down(shared_data):
    """The pipeline logs each failed call and keeps tracking with the current text."""
    from reasoningtrack.pipeline.config import PipelineConfig
    from reasoningtrack.pipeline.session import build_tracker
    from reasoningtrack.specs import BackboneSpec, ReasonerSpec
    from reasoningtrack.sources.images import list_images
    from reasoningtrack.datasets.base import read_rgb

    folder = shared_data / "sequences" / "Football1"
    frames = [read_rgb(p) for p in list_images(folder / "img")[:12]]
    box = [float(v) for v in (folder / "groundtruth_rect.txt").read_text().splitlines()[0].split(",")]
    pipeline = PipelineConfig.from_dict({"schedule": {"triggers": ["interval"], "interval": {"every": 5}}})
    tracker = build_tracker(
        BackboneSpec("csrt"),
        ReasonerSpec("openai", {"base_url": f"http://127.0.0.1:{_free_port()}/v1", "model": "m", "max_retries": 0}), pipeline,
    )
    try:
        results = list(tracker.run(frames, box, "the player in white"))
    finally:
        tracker.close()
    assert len(results) == 12 and all(r.box.shape == (4,) for r in results)
    events = [r.event for r in results if r.event is not None]
    assert events and all(e.status == "error" and "cannot connect" in e.error for e in events)
    assert all(r.text == "the player in white" for r in results)
