"""Reasoner calls off the tracking thread, at most one at a time, with a timeout.

A Python thread cannot be killed: a call that hangs past its timeout is abandoned (its answer, if
it ever comes, is dropped and logged) and the reasoner counts as busy until it returns, so that a
model that is not thread-safe never runs two calls at once. Threads are daemons and end when their
call returns; nothing waits for them at the end of a sequence.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["CallOutcome", "PendingCall", "ReasonerWorker", "THREAD_NAME"]

log = logging.getLogger(__name__)
THREAD_NAME = "reasoningtrack-reasoner"


@dataclass
class CallOutcome:
    """``status``: ``ok`` (``value`` holds the answer), ``error`` (the call raised) or ``timeout``."""

    status: str
    value: Any = None
    error: str | None = None
    latency_s: float = 0.0


@dataclass
class PendingCall:
    """One submitted call; ``payload`` is whatever the submitter needs back with the answer."""

    payload: Any
    started: float
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    exception: BaseException | None = None
    finished: float | None = None
    abandoned: bool = False
    abandon_reason: str = ""

    def outcome(self) -> CallOutcome:
        latency = (self.finished or time.perf_counter()) - self.started
        if self.exception is not None:
            exc = self.exception
            return CallOutcome("error", error=f"{type(exc).__name__}: {exc}", latency_s=latency)
        return CallOutcome("ok", value=self.value, latency_s=latency)


class ReasonerWorker:
    """Runs ``fn()`` calls in daemon threads, one at a time."""

    def __init__(self, timeout_s: float = 0.0):
        self.timeout_s = float(timeout_s)
        self._running: PendingCall | None = None
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """A call is still executing (including an abandoned one that has not returned yet)."""
        running = self._running
        return running is not None and not running.done.is_set()

    def submit(self, fn: Callable[[], Any], payload: Any = None) -> PendingCall:
        with self._lock:
            if self.busy:
                raise RuntimeError("a reasoner call is already in flight")
            call = PendingCall(payload=payload, started=time.perf_counter())
            self._running = call

        def run():
            try:
                call.value = fn()
            except BaseException as exc:  # noqa: BLE001 -- any failure of the reasoner is reported, never raised here
                call.exception = exc
            finally:
                call.finished = time.perf_counter()
                call.done.set()
                if call.abandoned:
                    log.info("dropped a late reasoner answer (%s) after %.2f s", call.abandon_reason, call.finished - call.started)

        threading.Thread(target=run, name=THREAD_NAME, daemon=True).start()
        return call

    def timed_out(self, call: PendingCall, now: float | None = None) -> bool:
        if self.timeout_s <= 0 or call.done.is_set():
            return False
        return (now if now is not None else time.perf_counter()) - call.started > self.timeout_s

    def wait(self, call: PendingCall) -> CallOutcome:
        """Block until the call ends or times out (sync mode)."""
        finished = call.done.wait(self.timeout_s if self.timeout_s > 0 else None)
        if not finished:
            self.abandon(call, "timeout")
            return CallOutcome("timeout", error=f"no answer within {self.timeout_s:g} s", latency_s=time.perf_counter() - call.started)
        return call.outcome()

    @staticmethod
    def abandon(call: PendingCall, reason: str) -> None:
        call.abandoned = True
        call.abandon_reason = reason

    def run_inline(self, fn: Callable[[], Any]) -> CallOutcome:
        """Call in this thread (sync mode without a timeout: no thread hand-off at all)."""
        start = time.perf_counter()
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 -- reported as an event, tracking goes on
            return CallOutcome("error", error=f"{type(exc).__name__}: {exc}", latency_s=time.perf_counter() - start)
        return CallOutcome("ok", value=value, latency_s=time.perf_counter() - start)
