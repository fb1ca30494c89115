"""Shipped YAML files: training defaults (``sft.yaml``, ``grpo.yaml``, ``*-lora.yaml``) and
accelerate launch configs (``accelerate-ddp.yaml``, ``accelerate-zero2.yaml``,
``accelerate-zero3.yaml``). ``python -m reasoningtrack.training.configs NAME`` prints a file's
path, for ``accelerate launch --config_file $(python -m reasoningtrack.training.configs ddp) ...``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["config_path", "config_names"]

_ALIASES = {"ddp": "accelerate-ddp", "zero2": "accelerate-zero2", "zero3": "accelerate-zero3"}


def config_names() -> list[str]:
    return sorted(p.name[: -len(".yaml")] for p in resources.files(__name__).iterdir() if p.name.endswith(".yaml"))


def config_path(name: str) -> Path:
    """Path of a shipped config by name (``sft``, ``grpo``, ``ddp``, ``zero2``, ``zero3``...)."""
    stem = _ALIASES.get(name, name)
    path = Path(str(resources.files(__name__).joinpath(f"{stem}.yaml")))
    if not path.is_file():
        raise FileNotFoundError(f"no shipped config {name!r}; available: {config_names()} (aliases {sorted(_ALIASES)})")
    return path
