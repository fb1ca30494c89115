"""`reasoningtrack` commands: dev."""

from pathlib import Path
from typing import Optional

import typer

from ._apps import app, data_app, dev_app, train_app  # noqa: F401
from .common import fail


@dev_app.command("tiny-vlm")
def tiny_vlm(
    out_dir: Path = typer.Argument(..., help="Folder to write the checkpoint to (replaced atomically)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random weights (and the built-in corpus)."),
    tokenizer_corpus: Optional[Path] = typer.Option(
        None, "--tokenizer-corpus", help="Extra text file (one text per line) to train the tiny tokenizer on.", show_default="none"
    ),
    text_hidden: int = typer.Option(64, "--text-hidden", help="Hidden size of the language model."),
    layers: int = typer.Option(2, "--layers", help="Decoder layers of the language model."),
    vision_depth: int = typer.Option(1, "--vision-depth", help="Blocks of the vision tower."),
    vocab_size: int = typer.Option(1024, "--vocab-size", help="Target vocabulary of the BPE tokenizer."),
) -> None:
    """Build a tiny random-weight Qwen2.5-VL checkpoint offline (model, tokenizer, processor, chat
    template) that `--reasoner qwen --model DIR` and `transformers serve DIR` load like a real one.

    Its answers are noise: it exists to exercise the real code paths without downloading weights.
    """
    from rich.console import Console

    from ..reasoning.tiny import build_tiny_qwen

    console = Console(stderr=True)
    try:
        with console.status(f"building a tiny Qwen2.5-VL in {out_dir} ..."):
            path = build_tiny_qwen(
                out_dir,
                seed=seed,
                tokenizer_corpus=tokenizer_corpus,
                text_hidden=text_hidden,
                layers=layers,
                vision_depth=vision_depth,
                vocab_size=vocab_size,
            )
    except ValueError as exc:
        fail(str(exc))
    typer.echo(str(path))
