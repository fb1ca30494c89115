"""The reasoner contract and registry.

``reason(template, current, description)`` looks at a template frame and the current frame (HxWx3
uint8 RGB) and returns a :class:`Reasoning`. It never raises because of what a model wrote (the
parser decides what is usable); it raises :class:`ReasonerError` for a bad configuration or an
unreachable backend, which the pipeline logs without stopping tracking.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ..registry import Registry
from .types import Reasoning, ReasoningContext

__all__ = ["Reasoner", "ReasonerError", "ReasoningRequest", "REASONERS"]


class ReasonerError(RuntimeError):
    """A reasoner that cannot answer: bad configuration, missing weights, unreachable server."""


@dataclass(frozen=True)
class ReasoningRequest:
    template: np.ndarray
    current: np.ndarray
    description: str
    context: ReasoningContext | None = None


class Reasoner(ABC):
    name: str = ""

    @abstractmethod
    def reason(
        self,
        template: np.ndarray,
        current: np.ndarray,
        description: str,
        context: ReasoningContext | None = None,
    ) -> Reasoning:
        """Decide whether ``description`` still fits the target and propose a new one."""

    def reason_batch(self, requests: list[ReasoningRequest]) -> list[Reasoning]:
        """Several requests at once; backends that can batch (one ``generate``) override this."""
        return [self.reason(r.template, r.current, r.description, r.context) for r in requests]

    def close(self) -> None:
        """Release the model or the connection."""


REASONERS: Registry[Reasoner] = Registry("reasoner")
