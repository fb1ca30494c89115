"""The Typer application and its command groups; command modules attach to these."""

import typer

app = typer.Typer(
    name="reasoningtrack",
    help="Long-term vision-language tracking with a chain-of-thought reasoner (ReasoningTrack).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Datasets: synthetic world, training samples, teacher chain-of-thought.", no_args_is_help=True)
train_app = typer.Typer(help="Train the reasoner: SFT, then GRPO.", no_args_is_help=True)
dev_app = typer.Typer(help="Developer tools (tiny offline models for tests and demos).", no_args_is_help=True)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"reasoningtrack {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True),
) -> None:
    """Long-term vision-language tracking with a chain-of-thought reasoner (ReasoningTrack)."""


app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")
app.add_typer(dev_app, name="dev")
