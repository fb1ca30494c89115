"""Registries by name, with lazy entries so that ``--help`` never imports torch.

An entry is either an object (a class or factory) or a ``"module:attribute"`` string resolved on
first use. Factories take keyword options (usually fed to the component's ``Config.from_dict``),
so the CLI and YAML files build any component the same way.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

__all__ = ["Registry", "RegistryError"]

T = TypeVar("T")


class RegistryError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


@dataclass
class _Entry:
    name: str
    target: Any
    help: str


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, _Entry] = {}

    def register(self, name: str, target: Any = None, *, help: str = ""):
        """Register ``target`` (object or ``"module:attr"``); usable as a decorator."""
        key = name.lower()

        def add(obj):
            if key in self._entries:
                raise RegistryError(f"{self.kind} {name!r} is registered twice")
            self._entries[key] = _Entry(key, obj, help or (getattr(obj, "__doc__", "") or "").strip().split("\n")[0])
            return obj

        if target is None:
            return add
        add(target)
        return target

    def names(self) -> list[str]:
        return sorted(self._entries)

    def help(self, name: str) -> str:
        return self._entry(name).help

    def module_of(self, name: str) -> str:
        """The module that defines ``name``'s entry, without importing it (layering checks)."""
        target = self._entry(name).target
        return target.partition(":")[0] if isinstance(target, str) else target.__module__

    def _entry(self, name: str) -> _Entry:
        key = name.lower()
        if key not in self._entries:
            raise RegistryError(f"unknown {self.kind} {name!r}; available: {', '.join(self.names())}")
        return self._entries[key]

    def get(self, name: str) -> Callable[..., T]:
        entry = self._entry(name)
        if isinstance(entry.target, str):
            module, _, attr = entry.target.partition(":")
            obj = getattr(importlib.import_module(module), attr)
            entry.target = obj
        return entry.target

    def build(self, name: str, **options) -> T:
        return self.get(name)(**options)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._entries
