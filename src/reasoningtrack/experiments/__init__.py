"""Experiments: a grid (or a list) of benchmark configurations run and compared as one command.

An experiment file (YAML) has::

    base:      a benchmark configuration, in the keys ``benchmark`` writes to its config.yaml
    grid:      dotted keys of that configuration -> lists of values (every combination is run)
    variants:  or an explicit list; each item is ``{name: optional, set: {dotted.key: value}}``
               (or just the ``{dotted.key: value}`` mapping)
    about:     one line saying what the experiment shows (optional)

Every variant is an ordinary, resumable benchmark folder ``DIR/variants/<name>/`` run through
:class:`~reasoningtrack.pipeline.runner.BenchmarkRunner` and scored with the dataset's official
protocol; :mod:`.summary` gathers them. Shipped experiment files (the paper's ablations) live
beside this module and are found by name (``u-sweep``, ``policies``, ``reasoner``, ``schedules``,
``quickstart``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import ConfigError, deep_merge, load_yaml

__all__ = [
    "Variant",
    "Experiment",
    "shipped_experiments",
    "load_experiment",
    "expand",
    "variant_name",
    "set_dotted",
]

_HERE = Path(__file__).resolve().parent


def shipped_experiments() -> dict[str, Path]:
    """Experiment files shipped in the package, by name (file stem)."""
    return {p.stem: p for p in sorted(_HERE.glob("*.yaml"))}


@dataclass
class Variant:
    """One configuration of an experiment: its folder name, the keys it changes, the full config."""

    name: str
    overrides: dict[str, Any]
    config: dict[str, Any]


@dataclass
class Experiment:
    """A loaded experiment file (``source`` is where it came from, for messages)."""

    source: str
    base: dict[str, Any]
    grid: dict[str, list] = field(default_factory=dict)
    variants: list[dict] = field(default_factory=list)
    about: str = ""

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"about": self.about, "base": self.base}
        if self.grid:
            out["grid"] = self.grid
        if self.variants:
            out["variants"] = self.variants
        return out


def load_experiment(path_or_name: str | Path, base_overrides: dict | None = None) -> Experiment:
    """Read an experiment file (a path, or the name of a shipped one) and apply ``base_overrides``
    (a nested mapping, e.g. from ``--root`` / ``--set``) to its ``base``."""
    shipped = shipped_experiments()
    path = Path(path_or_name)
    if not path.is_file() and str(path_or_name) in shipped:
        path = shipped[str(path_or_name)]
    if not path.is_file():
        raise ConfigError(f"experiment file {path_or_name} not found (shipped experiments: {', '.join(shipped)})")
    data = load_yaml(path)
    unknown = sorted(set(data) - {"base", "grid", "variants", "about"})
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s) {unknown}; expected base, grid, variants, about")
    base = data.get("base") or {}
    if not isinstance(base, dict):
        raise ConfigError(f"{path}: 'base' must be a mapping (a benchmark configuration)")
    grid = data.get("grid") or {}
    if not isinstance(grid, dict):
        raise ConfigError(f"{path}: 'grid' must map dotted keys to lists of values")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{path}: grid key {key!r} must have a non-empty list of values, got {values!r}")
    variants = data.get("variants") or []
    if not isinstance(variants, list):
        raise ConfigError(f"{path}: 'variants' must be a list")
    if grid and variants:
        raise ConfigError(f"{path}: give either 'grid' or 'variants', not both")
    if base_overrides:
        base = deep_merge(base, base_overrides)
    return Experiment(str(path), base, {str(k): v for k, v in grid.items()}, variants, str(data.get("about") or ""))


def set_dotted(config: dict, key: str, value: Any) -> dict:
    """A copy of ``config`` with ``a.b.c`` set to ``value`` (intermediate mappings created)."""
    parts = key.split(".")
    out = dict(config)
    node = out
    for part in parts[:-1]:
        child = node.get(part)
        child = dict(child) if isinstance(child, dict) else {}
        node[part] = child
        node = child
    node[parts[-1]] = value
    return out


def _label(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (list, tuple)):
        return "+".join(_label(v) for v in value) or "none"
    if isinstance(value, dict):
        return "+".join(f"{k}-{_label(v)}" for k, v in value.items()) or "none"
    text = re.sub(r"[^A-Za-z0-9.+-]+", "-", str(value)).strip("-")
    return text or "empty"


def _short_keys(keys: list[str]) -> dict[str, str]:
    """The shortest dotted suffix of each key that no other key shares (``every`` for
    ``pipeline.schedule.interval.every`` unless another key also ends in ``every``)."""
    out = {}
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            suffix = ".".join(parts[-n:])
            if not any(other != key and (other == suffix or other.endswith("." + suffix)) for other in keys):
                break
        out[key] = suffix
    return out


def variant_name(overrides: dict[str, Any], keys: list[str] | None = None) -> str:
    """A readable, deterministic folder name: ``every-10``, ``kind-cascaded_reasoner-static``."""
    keys = keys or list(overrides)
    short = _short_keys(keys)
    parts = [f"{short[k].replace('.', '-')}-{_label(overrides[k])}" for k in keys if k in overrides]
    return "_".join(parts) or "base"


def expand(experiment: Experiment) -> list[Variant]:
    """Every variant of the experiment, in file order (the grid's last key varies fastest).

    Each variant's configuration is validated as a :class:`BenchmarkConfig` here, so a typo in any
    key stops the experiment before anything runs, naming the variant and the key."""
    from ..pipeline.config import BenchmarkConfig

    items: list[tuple[str | None, dict[str, Any]]] = []
    if experiment.grid:
        keys = list(experiment.grid)
        for values in itertools.product(*(experiment.grid[k] for k in keys)):
            items.append((None, dict(zip(keys, values))))
    elif experiment.variants:
        for i, item in enumerate(experiment.variants):
            if not isinstance(item, dict):
                raise ConfigError(f"{experiment.source}: variant {i + 1} must be a mapping, got {item!r}")
            if "set" in item:
                unknown = sorted(set(item) - {"name", "set"})
                if unknown:
                    raise ConfigError(f"{experiment.source}: variant {i + 1} has unknown key(s) {unknown}; expected name, set")
                overrides = item.get("set") or {}
                if not isinstance(overrides, dict):
                    raise ConfigError(f"{experiment.source}: variant {i + 1}: 'set' must map dotted keys to values")
                items.append((item.get("name"), dict(overrides)))
            else:
                overrides = {k: v for k, v in item.items() if k != "name"}
                items.append((item.get("name"), overrides))
    else:
        items.append(("base", {}))
    all_keys: list[str] = []
    for _, overrides in items:
        all_keys += [k for k in overrides if k not in all_keys]
    variants, seen = [], {}
    for i, (name, overrides) in enumerate(items):
        name = _label(name) if name else variant_name(overrides, [k for k in all_keys if k in overrides])
        if name in seen:
            raise ConfigError(
                f"{experiment.source}: variants {seen[name] + 1} and {i + 1} have the same name {name!r}; give them names"
            )
        seen[name] = i
        config = dict(experiment.base)
        for key, value in overrides.items():
            config = set_dotted(config, str(key), value)
        try:
            config = BenchmarkConfig.from_dict(config).to_dict()
        except ConfigError as exc:
            raise ConfigError(f"{experiment.source}: variant {name!r}: {exc}") from None
        variants.append(Variant(name, dict(overrides), config))
    return variants


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
