"""What every command shares: the one way to stop with a usage or input error, and which errors
count as one (shown as a single line, never a traceback)."""

from __future__ import annotations

from typing import NoReturn

import typer

__all__ = ["fail", "user_errors", "exit_code_for", "parse_options", "deprecated_alias", "output_path"]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: MESSAGE`` on stderr and exit with ``code`` (2: usage or input error; commands
    use 1 for a failure of the work itself, e.g. a sequence that could not be read)."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(str(message))}", highlight=False)
    raise typer.Exit(code)


def exit_code_for(err: BaseException) -> int:
    """2 for bad input or configuration (:func:`user_errors`), 1 for a failure of the work itself."""
    return 2 if isinstance(err, user_errors()) else 1


def user_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean bad input or configuration: shown as one line, not a traceback."""
    from ..config import ConfigError
    from ..datasets.base import DatasetError
    from ..evaluation.results import ResultFormatError
    from ..reasoning.base import ReasonerError
    from ..registry import RegistryError
    from ..sources import SourceError
    from ..trackers.base import BackboneError

    return (ConfigError, DatasetError, ResultFormatError, ReasonerError, RegistryError, SourceError, BackboneError, FileNotFoundError)


def parse_options(items: list[str] | None, flag: str) -> dict:
    """``key=value`` items of a repeatable ``--*-opt`` flag as a nested dict (a bad item is a usage error)."""
    from ..config import ConfigError, parse_overrides

    try:
        return parse_overrides(items or [])
    except ConfigError as err:
        raise typer.BadParameter(str(err), param_hint=flag) from None


def deprecated_alias(old: str, new: str) -> None:
    """One line on stderr when a command was called with a deprecated spelling of a flag."""
    typer.echo(f"note: {old} is deprecated; use {new}", err=True)


def output_path(option, old, old_spelling: str) -> "Path":
    """The folder or file a command writes: ``-o/--output``, or its deprecated spelling ``old``
    (a positional argument or ``--out``), never both; a usage error when neither is given."""
    from pathlib import Path

    if old is not None:
        if option is not None and Path(option) != Path(old):
            fail(f"--output and {old_spelling} (deprecated) name different places; give only --output")
        deprecated_alias(old_spelling, "-o/--output")
    chosen = option if option is not None else old
    if chosen is None:
        fail("missing option '-o' / '--output'")
    return Path(chosen)
