"""``benchmark --workers N --shared-reasoner``: the parent process loads the reasoner once and
answers every worker process through a :class:`~reasoningtrack.reasoning.service.ReasoningService`
(batched calls), instead of each worker loading its own copy of the VLM."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from .config import BenchmarkConfig
from .session import NO_REASONER

__all__ = ["shared_reasoner_clients"]


@contextmanager
def shared_reasoner_clients(config: BenchmarkConfig, manager, count: int, service_config=None) -> Iterator[list]:
    """``count`` picklable reasoner clients (one per worker process) served from this process.

    ``manager`` is a started ``multiprocessing`` manager (its queues carry requests and answers).
    Yields ``[None] * count`` when the run has no reasoner. Building the reasoner fails here, in
    the parent, with the reasoner's own error (bad options, missing weights).
    """
    if config.reasoner.lower() == NO_REASONER:
        yield [None] * count
        return
    from ..reasoning import REASONERS
    from ..reasoning.service import QueueClient, ReasoningService

    service = ReasoningService(REASONERS.build(config.reasoner, **dict(config.reasoner_options)), service_config)
    requests = manager.Queue()
    replies = {k: manager.Queue() for k in range(count)}
    pump = service.serve_queue(requests, replies)
    try:
        yield [QueueClient(requests, replies[k], k) for k in range(count)]
    finally:
        requests.put(None)
        pump.join(timeout=10)
        service.close()
