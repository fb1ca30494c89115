"""The ``static`` reasoner: never changes the description (the no-reasoning baseline).

It still answers in the model format, so logs, writers and benchmarks treat it like any reasoner.
"""

from __future__ import annotations

import numpy as np

from ..config import ConfigError
from .base import Reasoner
from .parser import format_output, parse
from .types import Reasoning, ReasoningContext

__all__ = ["StaticReasoner"]

_THINK = "Static reasoner: the initial description is always kept."


class StaticReasoner(Reasoner):
    name = "static"

    def __init__(self, **options):
        if options:
            raise ConfigError(f"the static reasoner takes no options, got {sorted(options)}")

    def reason(
        self,
        template: np.ndarray,
        current: np.ndarray,
        description: str,
        context: ReasoningContext | None = None,
    ) -> Reasoning:
        description = description or ""
        return parse(format_output(_THINK, False, description), previous=description)
