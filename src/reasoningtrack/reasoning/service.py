"""One reasoner for many tracking workers: requests from concurrent callers are gathered into
batches and answered by one ``reason_batch`` call, so a GPU holds one copy of the VLM, not one per
worker.

A batch is sent as soon as it holds ``max_batch`` requests, or one request from every open client
(in sync mode a client has at most one request outstanding, so nobody else can add to it), or
``max_wait_s`` after its first request arrived, whichever comes first.

Callers in the same process use :class:`ServiceClient` (threads). Worker processes use
:class:`QueueClient`, which sends requests through a multiprocessing queue that
:meth:`ReasoningService.serve_queue` answers from the process holding the model. The Ray executor
wraps the service in an actor (``pipeline/ray_executor.py``).

Under greedy decoding a batched call answers exactly like one call per request (tested for the
in-process Qwen reasoner), so sync-mode benchmark results do not depend on how calls were batched.
"""

from __future__ import annotations

import itertools
import pickle
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from ..config import Config, ConfigError
from .base import Reasoner, ReasonerError, ReasoningRequest
from .types import Reasoning, ReasoningContext

__all__ = ["ServiceConfig", "ReasoningService", "ServiceClient", "QueueClient"]

_STOP = object()


@dataclass
class ServiceConfig(Config):
    """How the shared reasoner batches (CLI: ``benchmark --shared-reasoner --max-batch --max-wait``)."""

    max_batch: int = 8
    """Most requests in one model call (the qwen reasoner further splits by its ``batch_size``)."""
    max_wait_s: float = 0.5
    """Longest wait after a batch's first request for others to join it. Our choice, measured
    with benchmarks/bench_scale.py: sync workers that wait for the same batch leave it together
    and stay in step, so later batches fill up (and go) at once; a short wait (0.05 s, shorter than
    the tracking between two calls) let them alternate and never batch (all batches of 1)."""

    def __post_init__(self) -> None:
        if self.max_batch < 1:
            raise ConfigError(f"max_batch must be at least 1, got {self.max_batch}")
        if self.max_wait_s < 0:
            raise ConfigError(f"max_wait_s must be >= 0, got {self.max_wait_s}")


class ReasoningService:
    """Owns a reasoner and a batching thread; hand out clients with :meth:`client`."""

    def __init__(self, reasoner: Reasoner, config: ServiceConfig | None = None):
        self.reasoner = reasoner
        self.config = config or ServiceConfig()
        self.batch_sizes: list[int] = []
        """Size of every batch sent so far (for benchmarks and tests)."""
        self._requests: queue.Queue = queue.Queue()
        self._clients = 0
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="reasoningtrack-service", daemon=True)
        self._thread.start()

    # -- callers ----------------------------------------------------------------------------------
    def submit(self, request: ReasoningRequest) -> Future:
        """Queue one request; the future gets its :class:`Reasoning` (or the reasoner's exception)."""
        if self._closed:
            raise ReasonerError("the reasoning service is closed")
        future: Future = Future()
        self._requests.put((request, future))
        return future

    def client(self) -> "ServiceClient":
        """A :class:`Reasoner` for one tracking worker in this process."""
        self.attach()
        return ServiceClient(self)

    def attach(self) -> None:
        """Count one more caller (a batch waits for at most one request per caller)."""
        with self._lock:
            self._clients += 1

    def detach(self) -> None:
        with self._lock:
            self._clients = max(0, self._clients - 1)
        self._requests.put(None)  # wake the batcher: the batch it is filling may now be full

    # -- batching ---------------------------------------------------------------------------------
    def _full(self, size: int) -> bool:
        with self._lock:
            callers = self._clients
        return size >= self.config.max_batch or (callers > 0 and size >= callers)

    def _loop(self) -> None:
        while True:
            item = self._requests.get()
            if item is _STOP:
                return
            if item is None:
                continue
            batch = [item]
            stop = False
            deadline = time.monotonic() + self.config.max_wait_s
            while not self._full(len(batch)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._requests.get(timeout=remaining)
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                if item is not None:
                    batch.append(item)
            self._answer(batch)
            if stop:
                return

    def _answer(self, batch: list[tuple[ReasoningRequest, Future]]) -> None:
        live = [(r, f) for r, f in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        self.batch_sizes.append(len(live))
        try:
            answers = self.reasoner.reason_batch([r for r, _ in live])
            if len(answers) != len(live):
                raise ReasonerError(f"reason_batch returned {len(answers)} answers for {len(live)} requests")
        except BaseException as exc:  # noqa: BLE001 -- every caller of the batch gets the failure
            for _, future in live:
                future.set_exception(exc)
            return
        for (_, future), answer in zip(live, answers):
            future.set_result(answer)

    # -- processes --------------------------------------------------------------------------------
    def serve_queue(self, requests: Any, replies: dict[int, Any]) -> threading.Thread:
        """Answer :class:`QueueClient` requests arriving on ``requests`` (a multiprocessing queue);
        the answer to client ``k`` goes to ``replies[k]``. Stops at a ``None`` on ``requests``."""

        def pump():
            while True:
                message = requests.get()
                if message is None:
                    return
                kind, client_id, call_id, request = message
                if kind == "attach":
                    self.attach()
                    continue
                if kind == "detach":
                    self.detach()
                    continue
                future = self.submit(request)
                future.add_done_callback(lambda f, k=client_id, c=call_id: replies[k].put((c, _picklable_outcome(f))))

        thread = threading.Thread(target=pump, name="reasoningtrack-service-queue", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Answer what is queued, stop the batcher and close the reasoner."""
        if self._closed:
            return
        self._closed = True
        self._requests.put(_STOP)
        self._thread.join()
        self.reasoner.close()


def _picklable_outcome(future: Future) -> tuple[str, Any]:
    exc = future.exception()
    if exc is None:
        return "ok", future.result()
    try:
        pickle.dumps(exc)
    except Exception:  # noqa: BLE001 -- an exception that cannot cross processes travels as text
        exc = ReasonerError(f"{type(exc).__name__}: {exc}")
    return "error", exc


class ServiceClient(Reasoner):
    """A tracking worker's view of a :class:`ReasoningService` in the same process."""

    name = "service"

    def __init__(self, service: ReasoningService):
        self.service = service
        self.name = getattr(service.reasoner, "name", "service")
        self._open = True

    def reason(self, template, current, description: str, context: ReasoningContext | None = None) -> Reasoning:
        return self.service.submit(ReasoningRequest(template, current, description, context)).result()

    def close(self) -> None:
        """Detach from the service (the shared model stays loaded for the other workers)."""
        if self._open:
            self._open = False
            self.service.detach()


class QueueClient(Reasoner):
    """A worker process's view of a service in another process (picklable: holds queue proxies)."""

    name = "service"

    def __init__(self, requests: Any, replies: Any, client_id: int):
        self.requests = requests
        self.replies = replies
        self.client_id = client_id
        self._calls = itertools.count()
        self._open = False

    def open(self) -> "QueueClient":
        """Register with the service (called in the worker process, once)."""
        if not self._open:
            self._open = True
            self.requests.put(("attach", self.client_id, None, None))
        return self

    def reason(self, template, current, description: str, context: ReasoningContext | None = None) -> Reasoning:
        self.open()
        call_id = next(self._calls)
        self.requests.put(("reason", self.client_id, call_id, ReasoningRequest(template, current, description, context)))
        while True:
            answered, (status, value) = self.replies.get()
            if answered == call_id:
                break
            # An answer to an earlier call that this client stopped waiting for: drop it.
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        if self._open:
            self._open = False
            self.requests.put(("detach", self.client_id, None, None))

    def __getstate__(self):
        return {"requests": self.requests, "replies": self.replies, "client_id": self.client_id}

    def __setstate__(self, state):
        self.__init__(state["requests"], state["replies"], state["client_id"])
