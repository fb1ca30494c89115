"""Which backbone and which reasoner to build: one frozen value each, made once from a config and
passed on, instead of a name and an options dict travelling separately through every call.

``BackboneSpec.of(config)`` reads a config's ``backbone``/``backbone_options`` (and
``ReasonerSpec.of`` its ``reasoner``/``reasoner_options``): every run, benchmark, VOT, sample and
teacher config names its components that way. ``checkpoint`` and ``config`` are the options most
backbones take; a reasoner named ``none`` builds nothing (the backbone tracks alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from .config import ConfigError

__all__ = ["BackboneSpec", "ReasonerSpec", "NO_REASONER"]

#: Reasoner name that tracks with the backbone alone (no reasoning calls at all).
NO_REASONER = "none"


@dataclass(frozen=True)
class _Spec:
    name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "options", MappingProxyType(dict(self.options or {})))

    @property
    def checkpoint(self) -> str | None:
        return self.options.get("checkpoint")

    @property
    def config(self) -> str | None:
        return self.options.get("config")

    def kwargs(self) -> dict:
        """The options as keyword arguments of the registry factory (a fresh, mutable copy)."""
        return dict(self.options)


@dataclass(frozen=True)
class BackboneSpec(_Spec):
    """A frozen backbone: registry name and options (``checkpoint``, ``config``, ...)."""

    @classmethod
    def of(cls, config) -> "BackboneSpec":
        return cls(config.backbone, config.backbone_options)

    def build(self):
        from .trackers import BACKBONES

        return BACKBONES.build(self.name, **self.kwargs())


@dataclass(frozen=True)
class ReasonerSpec(_Spec):
    """A reasoner: registry name and options (``model``, ``adapter``, ``prompt``, ...), or ``none``."""

    @classmethod
    def of(cls, config) -> "ReasonerSpec":
        return cls(config.reasoner, config.reasoner_options)

    @property
    def is_none(self) -> bool:
        return self.name.lower() == NO_REASONER

    def build(self):
        """The reasoner, or None for ``none`` (which takes no options)."""
        if self.is_none:
            if self.options:
                raise ConfigError(f"reasoner 'none' takes no options, got {sorted(self.options)}")
            return None
        from .reasoning import REASONERS

        return REASONERS.build(self.name, **self.kwargs())
