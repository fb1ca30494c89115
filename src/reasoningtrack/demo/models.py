"""Reasoners shared by every browser session of one demo process.

A VLM is loaded once per distinct ``(reasoner, options)`` and served by a
:class:`~reasoningtrack.reasoning.service.ReasoningService` (concurrent sessions' calls are
batched into one ``reason_batch``); each run gets its own client. :class:`RecordingReasoner`
keeps, per run, small copies of the images each call was given, for the page's event panel.
"""

from __future__ import annotations

import json
import threading
from typing import Callable

import numpy as np

from ..reasoning.base import Reasoner
from ..reasoning.types import ReasoningContext

__all__ = ["ReasonerPool", "RecordingReasoner"]


def _key(name: str, options: dict) -> str:
    return json.dumps([name.lower(), options], sort_keys=True, default=str)


class ReasonerPool:
    """One loaded reasoner per spec for the life of the process (closed by :meth:`close`)."""

    def __init__(self):
        self._services: dict = {}
        self._lock = threading.Lock()
        self.loads = 0
        """How many reasoners were built (a test checks that two sessions share one)."""

    def client(self, name: str, options: dict) -> Reasoner:
        """A client of the shared reasoner ``name`` (built on first use; building errors propagate)."""
        from ..reasoning import REASONERS
        from ..reasoning.service import ReasoningService

        key = _key(name, options)
        with self._lock:  # a second session asking while the model loads waits for the same copy
            service = self._services.get(key)
            if service is None:
                service = ReasoningService(REASONERS.build(name, **dict(options)))
                self._services[key] = service
                self.loads += 1
        return service.client()

    def close(self) -> None:
        with self._lock:
            services, self._services = list(self._services.values()), {}
        for service in services:
            service.close()


class RecordingReasoner(Reasoner):
    """Forwards to ``inner`` after handing ``on_call(frame, template_frame, template, current)``
    the two images the reasoner gets (the inner reasoner is closed with this one)."""

    def __init__(self, inner: Reasoner, on_call: Callable[[int, int, np.ndarray, np.ndarray], None]):
        self.inner = inner
        self.on_call = on_call
        self.name = getattr(inner, "name", "")

    def reason(self, template, current, description: str, context: ReasoningContext | None = None):
        if context is not None and context.frame_index is not None:
            template_frame = -1 if context.template_index is None else int(context.template_index)
            self.on_call(int(context.frame_index), template_frame, template, current)
        return self.inner.reason(template, current, description, context)

    def close(self) -> None:
        self.inner.close()
