"""`reasoningtrack list backbones|reasoners|datasets|protocols|profiles|prompts`: every name a flag
accepts, with one line on each, read from the registries and tables that define them."""

from __future__ import annotations

from enum import Enum

import typer

from ._apps import app

__all__ = ["KINDS", "entries"]


class Kind(str, Enum):
    backbones = "backbones"
    reasoners = "reasoners"
    datasets = "datasets"
    protocols = "protocols"
    profiles = "profiles"
    prompts = "prompts"


KINDS = tuple(k.value for k in Kind)


def _registry(registry) -> list[tuple[str, str]]:
    return [(name, registry.help(name)) for name in registry.names()]


def entries(kind: str) -> list[tuple[str, str]]:
    """``(name, one line)`` for every name of ``kind`` (a value of :data:`KINDS`)."""
    if kind == "backbones":
        from ..trackers import BACKBONES

        return _registry(BACKBONES)
    if kind == "reasoners":
        from ..specs import NO_REASONER
        from ..reasoning import REASONERS

        return _registry(REASONERS) + [(NO_REASONER, "no reasoner: the backbone alone, with the initial text")]
    if kind == "datasets":
        from ..datasets import DATASETS

        return _registry(DATASETS)
    if kind == "protocols":
        from ..evaluation.protocols import PROTOCOLS

        return [(name, protocol.description) for name, protocol in PROTOCOLS.items()]
    if kind == "profiles":
        from .. import profiles

        about = getattr(profiles, "ABOUT", {})
        return [(name, about.get(name, "") + (" (default)" if name == profiles.DEFAULT_PROFILE else "")) for name in profiles.PROFILES]
    if kind == "prompts":
        from ..reasoning.prompts import DEFAULT_PROMPT, load_prompt, preset_names

        return [(name, load_prompt(name).about + (" (default)" if name == DEFAULT_PROMPT else "")) for name in preset_names()]
    raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}")


@app.command("list")
def list_command(kind: Kind = typer.Argument(..., help="What to list.", show_default=False)) -> None:
    """List the names a flag accepts: --backbone, --reasoner, --dataset, --protocol, --profile, --prompt."""
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "description", title=kind.value)
    for name, about in entries(kind.value):
        table.add_row(name, about)
    Console().print(table)
