"""Named method profiles: every rule of one published setting, set at once.

A profile is a YAML data file beside this module with the sections ``pipeline`` (PipelineConfig
keys), ``reasoner`` (prompt, parser and decision rule), ``data`` (sample building), ``sft`` and
``grpo`` (training config keys). ``release`` reproduces the public release's code rule for rule;
``paper`` keeps the release's rules where the paper is silent and follows what the paper states.
Explicit user options always win over a profile (see ``docs/fidelity.md``).
"""

from __future__ import annotations

from importlib import resources

import yaml

from ..config import ConfigError

__all__ = ["PROFILES", "DEFAULT_PROFILE", "SECTIONS", "load_profile"]

PROFILES = ("release", "paper")
DEFAULT_PROFILE = "paper"
SECTIONS = ("pipeline", "reasoner", "data", "sft", "grpo")


def load_profile(name: str | None = None) -> dict:
    """The profile ``name`` (None: :data:`DEFAULT_PROFILE`) as a dict with every section present."""
    name = DEFAULT_PROFILE if name in (None, "") else str(name).strip().lower()
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; valid profiles: {list(PROFILES)}")
    where = f"built-in profile {name!r} ({name}.yaml)"
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {unknown}; valid sections: {list(SECTIONS)}")
    out = {}
    for section in SECTIONS:
        value = data.get(section) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: section {section!r} must be a mapping, got {type(value).__name__}")
        out[section] = value
    return out
