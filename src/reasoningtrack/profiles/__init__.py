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

from ..config import ConfigError, deep_merge

__all__ = ["PROFILES", "DEFAULT_PROFILE", "ABOUT", "SECTIONS", "load_profile", "run_layer", "apply_profile"]

PROFILES = ("release", "paper")
DEFAULT_PROFILE = "paper"
#: One line per profile for `reasoningtrack list profiles` (docs/fidelity.md has the rule-by-rule table).
ABOUT = {
    "release": "the public release's code, rule for rule (motion gate, its prompt, parser, rewards 0.1/0.1/0/0.15)",
    "paper": "the release's rules plus what the paper states: interval u = 100, IoU reward on",
}
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


def _reasoner_fields(reasoner: str) -> set[str]:
    """Option names the reasoner ``reasoner`` accepts (its factory's ``config_class``; none known: empty)."""
    import dataclasses

    from ..reasoning import REASONERS

    if not reasoner or reasoner.lower() == "none" or reasoner not in REASONERS:
        return set()
    config_class = getattr(REASONERS.get(reasoner), "config_class", None)
    return {f.name for f in dataclasses.fields(config_class)} if config_class else set()


def run_layer(name: str | None, reasoner: str) -> dict:
    """What profile ``name`` sets in a track or benchmark config: ``profile``, ``pipeline`` and the
    ``reasoner_options`` that ``reasoner`` accepts (a weight-free reasoner takes no prompt)."""
    profile = load_profile(name)
    accepted = _reasoner_fields(reasoner)
    options = {k: v for k, v in profile["reasoner"].items() if k in accepted}
    name = DEFAULT_PROFILE if name in (None, "") else str(name).strip().lower()
    return {"profile": name, "pipeline": profile["pipeline"], "reasoner_options": options}


def apply_profile(data: dict, flag: str | None = None, *, default_reasoner: str = "heuristic") -> dict:
    """A track/benchmark config mapping with its profile filled in beneath it.

    ``data`` holds only what the user gave (a config file's keys, command-line flags, ``--set``);
    the profile (``flag``, else the ``profile`` key of ``data``, else :data:`DEFAULT_PROFILE`) fills
    every key ``data`` leaves out: user options always win. ``flag`` and a different ``profile``
    recorded in ``data`` conflict (a resolved config would silently keep the old rules)."""
    recorded = data.get("profile")
    if flag and recorded and str(recorded).strip().lower() != str(flag).strip().lower():
        raise ConfigError(
            f"--profile {flag} conflicts with profile {recorded!r} recorded in the config; "
            "drop --profile, or start from a config without a profile"
        )
    reasoner = str(data.get("reasoner") or default_reasoner)
    return deep_merge(run_layer(flag or recorded, reasoner), data)
