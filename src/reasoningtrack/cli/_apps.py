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

app.add_typer(data_app, name="data")
app.add_typer(train_app, name="train")
app.add_typer(dev_app, name="dev")
