"""The SFT instructions of the release's data (``Supervise fine-tuning/sft_dataset_*.json``), byte for byte.

``release-sft`` (797 of the 997 samples) asks for ``<think>``, ``<d>`` and ``<answer>``;
``release-sft-no-d`` (200 samples) for ``<think>`` and ``<answer>`` only. Taught samples, which
carry no instruction of their own, are exported and trained with ``release-sft``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ...config import ConfigError

__all__ = ["INSTRUCTIONS", "load_instruction"]

INSTRUCTIONS = ("release-sft", "release-sft-no-d")


def load_instruction(spec: str) -> str:
    """A built-in instruction by name, or the text of a file (read as it is)."""
    if spec in INSTRUCTIONS:
        return resources.files(__name__).joinpath(f"{spec}.txt").read_bytes().decode("utf-8")
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(f"instruction {spec!r} is neither a built-in one ({', '.join(INSTRUCTIONS)}) nor a file")
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the instruction: {exc}") from exc
