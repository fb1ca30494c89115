"""The shared reasoning service: batching rules, errors, the tiny Qwen2.5-VL answering batched
calls exactly like single ones, the HTTP reasoner keeping several requests in flight."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from reasoningtrack.config import ConfigError
from reasoningtrack.reasoning import REASONERS, ReasonerError, ReasoningRequest
from reasoningtrack.reasoning.service import ReasoningService, ServiceConfig


def _frames(seed: int):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)


def _ask_together(clients, requests):
    """Every client asks its request at the same moment (a barrier); answers in client order."""
    barrier = threading.Barrier(len(clients))
    answers = [None] * len(clients)

    def ask(k):
        barrier.wait()
        r = requests[k]
        answers[k] = clients[k].reason(r.template, r.current, r.description, r.context)

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers


def test_batches_wait_for_every_client_and_respect_max_batch():
    requests = [ReasoningRequest(*_frames(k), f"a red car number {k}") for k in range(4)]
    single = REASONERS.build("heuristic")
    expected = [single.reason(r.template, r.current, r.description) for r in requests]

    service = ReasoningService(REASONERS.build("heuristic"), ServiceConfig(max_batch=8, max_wait_s=5.0))
    clients = [service.client() for _ in range(4)]
    started = time.perf_counter()
    assert _ask_together(clients, requests) == expected
    # One request from every open client fills the batch: nobody waits the 5 s.
    assert service.batch_sizes == [4] and time.perf_counter() - started < 4.0
    service.close()

    small = ReasoningService(REASONERS.build("heuristic"), ServiceConfig(max_batch=2, max_wait_s=5.0))
    clients = [small.client() for _ in range(4)]
    assert _ask_together(clients, requests) == expected
    assert small.batch_sizes == [2, 2]
    small.close()


def test_a_silent_client_delays_a_batch_by_max_wait_only():
    service = ReasoningService(REASONERS.build("heuristic"), ServiceConfig(max_batch=8, max_wait_s=0.3))
    asking, silent = service.client(), service.client()
    template, current = _frames(0)
    started = time.perf_counter()
    asking.reason(template, current, "a dog")
    waited = time.perf_counter() - started
    assert 0.25 <= waited < 3.0 and service.batch_sizes == [1]
    silent.close()  # one client left: its requests go at once
    started = time.perf_counter()
    asking.reason(template, current, "a dog")
    assert time.perf_counter() - started < 0.25
    service.close()


def test_a_failing_reasoner_fails_every_caller_of_the_batch():
    down = REASONERS.build("openai", base_url="http://127.0.0.1:9/v1", model="m", max_retries=0, timeout=2.0)
    service = ReasoningService(down, ServiceConfig(max_wait_s=1.0))
    clients = [service.client() for _ in range(2)]
    template, current = _frames(1)
    errors = []

    def ask(client):
        try:
            client.reason(template, current, "a cat")
        except ReasonerError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=ask, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(errors) == 2 and all("127.0.0.1:9" in e for e in errors)
    service.close()
    with pytest.raises(ReasonerError, match="closed"):
        service.submit(ReasoningRequest(template, current, "x"))


def test_options_are_validated():
    with pytest.raises(ConfigError, match="max_batch"):
        ServiceConfig(max_batch=0)
    with pytest.raises(ConfigError, match="max_wait_s"):
        ServiceConfig(max_wait_s=-1)


def test_tiny_qwen_batched_service_answers_like_one_call_each(tiny_qwen_dir, sample_pair, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    template, current, description = sample_pair
    requests = [
        ReasoningRequest(template, current, description),
        ReasoningRequest(current, template, "a boat"),
        ReasoningRequest(template[:, :320], current[::2, ::2], "the wooden ship moving left on the wide river"),
    ]
    options = dict(model=str(tiny_qwen_dir), max_new_tokens=12, max_pixels=112 * 112, batch_size=8)
    single = REASONERS.build("qwen", **options)
    expected = [single.reason(r.template, r.current, r.description).raw for r in requests]
    single.close()
    service = ReasoningService(REASONERS.build("qwen", **options), ServiceConfig(max_batch=8, max_wait_s=5.0))
    clients = [service.client() for _ in requests]
    answers = _ask_together(clients, requests)
    assert [a.raw for a in answers] == expected
    assert service.batch_sizes == [3]  # one generate for the three workers
    assert len(set(expected)) > 1
    service.close()


class _Counting(BaseHTTPRequestHandler):
    """A chat-completions server that answers after 0.3 s and records how many requests it held
    at once."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        server = self.server
        with server.lock:
            server.active += 1
            server.peak = max(server.peak, server.active)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        time.sleep(0.3)
        with server.lock:
            server.active -= 1
        content = body["messages"][-1]["content"]
        text = " ".join(part["text"] for part in content if part.get("type") == "text").replace("<", " ")
        reply = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": f"<think>{text}</think><d>no</d><answer>x</answer>"}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def test_openai_reasoner_keeps_several_requests_in_flight():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    server.lock, server.active, server.peak = threading.Lock(), 0, 0
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        reasoner = REASONERS.build("openai", base_url=url, model="served", concurrency=4, max_pixels=32 * 32)
        service = ReasoningService(reasoner, ServiceConfig(max_batch=4, max_wait_s=5.0))
        clients = [service.client() for _ in range(4)]
        requests = [ReasoningRequest(*_frames(k), f"car {k}") for k in range(4)]
        started = time.perf_counter()
        answers = _ask_together(clients, requests)
        elapsed = time.perf_counter() - started
        assert server.peak == 4 and elapsed < 4 * 0.3  # four at once, not one after another
        assert all(a.format_ok and not a.update for a in answers)
        assert all(f"car {k}" in a.think for k, a in enumerate(answers))  # each caller got its own answer
        service.close()
    finally:
        server.shutdown()
        server.server_close()
