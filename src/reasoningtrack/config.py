"""Typed configuration: one dataclass per component, loadable from YAML, overridable from the CLI.

Every component config subclasses :class:`Config`. Unknown keys are errors (a typo in a YAML file
must not be silently ignored), values are coerced to the annotated field types, nested configs are
built recursively, and ``to_dict`` gives what is saved beside every result.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
import warnings
from pathlib import Path
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

__all__ = ["Config", "ConfigError", "parse_overrides", "load_yaml", "deep_merge"]

C = TypeVar("C", bound="Config")


class ConfigError(ValueError):
    """A configuration that cannot be used: names the key, the value and what was expected."""


def load_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def parse_overrides(items: typing.Iterable[str]) -> dict:
    """Turn ``["a.b=1", "c=x"]`` into a nested dict; values are parsed as YAML scalars."""
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"override {item!r} has an empty key")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r} conflicts with another override of {part!r}")
        node[parts[-1]] = value
    return out


def deep_merge(base: dict, extra: dict) -> dict:
    """``base`` updated by ``extra``, nested mappings merged key by key (neither input changes)."""
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


_merge = deep_merge


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: cannot use {value!r}")
    if origin is typing.Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(f"{where}: {value!r} is not one of {list(allowed)}")
        return value
    if origin in (list, tuple, typing.Sequence):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}")
            return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        inner = args[0] if args else Any
        items = [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if isinstance(tp, type) and issubclass(tp, Config):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping for {tp.__name__}, got {value!r}")
        return tp.from_dict(value, where=where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on", "false", "no", "0", "off"):
            return value.lower() in ("true", "yes", "1", "on")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
        # NaN passes every ``x < limit`` check and inf every ``x > 0``: no setting means either.
        if not math.isfinite(number):
            raise ConfigError(f"{where}: expected a finite number, got {value!r}")
        return number
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return str(value)
    if tp is Path:
        return Path(value)
    return value


class Config:
    """Base of every component config: subclasses are dataclasses with strict loading. The base is
    not a dataclass itself, so that each config can be frozen (``@dataclass(frozen=True)``) where
    nothing needs to change it after loading, and left mutable where something does."""

    #: Old key -> new key: accepted on load with a DeprecationWarning so that old files still load.
    renamed_keys: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_dict(cls: type[C], data: dict | None, *, where: str = "") -> C:
        data = cls._rename_deprecated(dict(data or {}), where)
        hints = get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            prefix = f"{where}: " if where else ""
            raise ConfigError(
                f"{prefix}unknown option(s) {unknown} for {cls.__name__}; valid options: {sorted(fields)}"
            )
        kwargs = {}
        for name, value in data.items():
            key = f"{where}.{name}" if where else name
            kwargs[name] = _coerce(value, hints[name], key)
        try:
            obj = cls(**kwargs)
        except TypeError as exc:
            raise ConfigError(f"{cls.__name__}: {exc}") from exc
        return obj

    @classmethod
    def _rename_deprecated(cls, data: dict, where: str) -> dict:
        for old, new in cls.renamed_keys.items():
            if old not in data:
                continue
            prefix = f"{where}: " if where else ""
            if new in data:
                raise ConfigError(f"{prefix}both {old!r} (deprecated) and {new!r} are given; keep only {new!r}")
            warnings.warn(f"{prefix}config key {old!r} is deprecated; use {new!r}", DeprecationWarning, stacklevel=3)
            data[new] = data.pop(old)
        return data

    @classmethod
    def from_yaml(cls: type[C], path: str | Path, overrides: typing.Iterable[str] = ()) -> C:
        data = _merge(load_yaml(path), parse_overrides(overrides))
        return cls.from_dict(data, where=str(path))

    def replace(self: C, **changes) -> C:
        return type(self).from_dict(_merge(self.to_dict(), changes))

    def with_overrides(self: C, overrides: typing.Iterable[str]) -> C:
        return type(self).from_dict(_merge(self.to_dict(), parse_overrides(overrides)))

    def to_dict(self) -> dict:
        def conv(v):
            if isinstance(v, Config):
                return v.to_dict()
            if isinstance(v, Path):
                return str(v)
            if isinstance(v, tuple):
                return [conv(x) for x in v]
            if isinstance(v, list):
                return [conv(x) for x in v]
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            return v

        return {f.name: conv(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)
