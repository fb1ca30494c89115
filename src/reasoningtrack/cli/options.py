"""Options shared by the commands that run a tracker (track, benchmark, and later experiment, demo,
the VOT entry point): each is declared once here, with its help text and the default it shows.

Flags whose value may come from ``--config`` default to ``None`` ("not given") and show the config
default instead, so that a flag given on the command line overrides the file and a flag not given
does not. Deprecated spellings are hidden options resolved by :func:`resolve_alias`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .common import deprecated_alias

__all__ = [
    "COMPONENTS_PANEL",
    "PIPELINE_PANEL",
    "resolve_alias",
    "component_options",
    "Output",
    "Backbone",
    "BackboneOpt",
    "BackboneConfig",
    "Checkpoint",
    "TrackerAlias",
    "TrackerOptAlias",
    "TrackerConfigAlias",
    "Reasoner",
    "ReasonerOpt",
    "Model",
    "Adapter",
    "BaseUrl",
    "Prompt",
    "Schedule",
    "Interval",
    "Policy",
    "Asynchronous",
    "Timeout",
    "ConfigFile",
    "Overrides",
    "Profile",
]

COMPONENTS_PANEL = "Backbone and reasoner options"
PIPELINE_PANEL = "Reasoning schedule and text policy"

Output = Annotated[Path, typer.Option("--output", "-o", help="Folder the command writes to.", show_default=False)]

Backbone = Annotated[Optional[str], typer.Option(
    "--backbone", help="Frozen backbone (registry name): csrt, kcf, mil, ..., dutrack.",
    show_default="csrt", rich_help_panel=COMPONENTS_PANEL)]
BackboneOpt = Annotated[Optional[List[str]], typer.Option(
    "--backbone-opt", help="Any backbone option key=value (repeatable).", show_default=False,
    rich_help_panel=COMPONENTS_PANEL)]
BackboneConfig = Annotated[Optional[str], typer.Option(
    "--backbone-config", help="Backbone config file (backbone option 'config').", show_default="none",
    rich_help_panel=COMPONENTS_PANEL)]
Checkpoint = Annotated[Optional[str], typer.Option(
    "--checkpoint", help="Backbone checkpoint (backbone option 'checkpoint').", show_default="none",
    rich_help_panel=COMPONENTS_PANEL)]
TrackerAlias = Annotated[Optional[str], typer.Option("--tracker", hidden=True, help="Deprecated: --backbone.")]
TrackerOptAlias = Annotated[Optional[List[str]], typer.Option("--tracker-opt", hidden=True, help="Deprecated: --backbone-opt.")]
TrackerConfigAlias = Annotated[Optional[str], typer.Option("--tracker-config", hidden=True, help="Deprecated: --backbone-config.")]

Reasoner = Annotated[Optional[str], typer.Option(
    "--reasoner", help="Reasoner (registry name): heuristic, static, qwen, openai, or none (the backbone alone).",
    show_default="heuristic", rich_help_panel=COMPONENTS_PANEL)]
ReasonerOpt = Annotated[Optional[List[str]], typer.Option(
    "--reasoner-opt", help="Any reasoner option key=value (repeatable).", show_default=False,
    rich_help_panel=COMPONENTS_PANEL)]
Model = Annotated[Optional[str], typer.Option(
    "--model", help="Reasoner model (reasoner option 'model').", show_default="the reasoner's",
    rich_help_panel=COMPONENTS_PANEL)]
Adapter = Annotated[Optional[str], typer.Option(
    "--adapter", help="LoRA adapter folder (reasoner option 'adapter').", show_default="none",
    rich_help_panel=COMPONENTS_PANEL)]
BaseUrl = Annotated[Optional[str], typer.Option(
    "--base-url", help="OpenAI-compatible server URL (reasoner option 'base_url').", show_default="the reasoner's",
    rich_help_panel=COMPONENTS_PANEL)]
Prompt = Annotated[Optional[str], typer.Option(
    "--prompt", help="Prompt preset or file (reasoner option 'prompt').", show_default="the reasoner's",
    rich_help_panel=COMPONENTS_PANEL)]

Schedule = Annotated[Optional[str], typer.Option(
    "--schedule", help="Triggers, comma-separated: interval, motion, confidence (or none).",
    show_default="interval", rich_help_panel=PIPELINE_PANEL)]
Interval = Annotated[Optional[int], typer.Option(
    "--interval", help="Frames between reasoning calls for the interval trigger (paper: 100).",
    show_default="100", rich_help_panel=PIPELINE_PANEL)]
Policy = Annotated[Optional[str], typer.Option(
    "--policy", help="Text policy: static, initial, cascaded, dynamic+static.",
    show_default="initial", rich_help_panel=PIPELINE_PANEL)]
Asynchronous = Annotated[Optional[bool], typer.Option(
    "--async/--sync", help="Reason in a worker thread while tracking goes on (not reproducible).",
    show_default="sync", rich_help_panel=PIPELINE_PANEL)]
Timeout = Annotated[Optional[float], typer.Option(
    "--timeout", help="Seconds before a reasoner call counts as hung (0: none).",
    show_default="120", rich_help_panel=PIPELINE_PANEL)]

ConfigFile = Annotated[Optional[Path], typer.Option(
    "--config", help="A config.yaml written by an earlier run (flags given here override it).", show_default="none")]
Overrides = Annotated[Optional[List[str]], typer.Option(
    "--set", help="Override any config key, e.g. schedule.motion.check_every=5 (repeatable).", show_default=False)]
Profile = Annotated[Optional[str], typer.Option(
    "--profile", help="Named profile of defaults: release or paper (docs/fidelity.md).", show_default="paper, or the one --config records")]


def resolve_alias(new, old, new_flag: str, old_flag: str):
    """The value of ``new_flag``, or of its deprecated spelling ``old_flag`` (with a notice)."""
    if old is None or old == []:
        return new
    deprecated_alias(old_flag, new_flag)
    if new is None or new == []:
        return old
    if isinstance(new, list):
        return list(old) + list(new)
    from ..config import ConfigError

    raise ConfigError(f"{new_flag} and its deprecated spelling {old_flag} are both given; keep {new_flag}")


def component_options(named: dict, generic: list[str] | None) -> dict:
    """Component options from the named flags (only those given) and ``--*-opt key=value``."""
    from ..config import parse_overrides

    out = {k: v for k, v in named.items() if v is not None}
    out.update(parse_overrides(generic or []))
    return out
