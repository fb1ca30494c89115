"""`reasoningtrack data ...`: write the synthetic world, list the datasets, summarise one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import typer

from ._apps import app, data_app, dev_app, train_app  # noqa: F401
from .common import fail
from .options import resolve_alias


def _parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise typer.BadParameter(f"expected WIDTHxHEIGHT (e.g. 320x240), got {text!r}") from None
    return width, height


@data_app.command("synth")
def synth(
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder to write (DIR/train, DIR/test, train.txt, test.txt).", show_default=False),
    count: Optional[int] = typer.Option(None, "--count", "-n", min=1, help="Sequences per split.", show_default="10"),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed writes the same bytes."),
    frames: int = typer.Option(80, "--frames", min=20, help="Frames per sequence."),
    size: str = typer.Option("320x240", "--size", help="Frame size WIDTHxHEIGHT."),
    splits: str = typer.Option("train,test", "--splits", help="Comma-separated splits to write."),
    out: Optional[Path] = typer.Option(None, "--out", hidden=True, help="Deprecated: --output."),
    sequences: Optional[int] = typer.Option(None, "--sequences", min=1, hidden=True, help="Deprecated: --count."),
) -> None:
    """Write a synthetic dataset in the TNLLT layout (dataset name `synthetic`).

    Each sequence shows a target that moves, may change colour or size, leave and re-enter the
    view, next to a look-alike distractor; per-frame facts are in events.json. Re-running with
    the same parameters resumes (complete sequences are kept).
    """
    from rich.progress import Progress

    from ..config import ConfigError
    from ..datasets.base import DatasetError
    from ..datasets.synthetic import WorldConfig, write_dataset

    try:
        out = resolve_alias(output, out, "--output", "--out")
        sequences = resolve_alias(count, sequences, "--count", "--sequences")
    except ConfigError as err:
        fail(str(err))
    if out is None:
        fail("no output folder: give --output DIR")
    sequences = 10 if sequences is None else sequences
    width, height = _parse_size(size)
    split_names = tuple(s.strip() for s in splits.split(",") if s.strip())
    bad = [s for s in split_names if s not in ("train", "test")]
    if bad or not split_names:
        raise typer.BadParameter(f"splits must be among train,test; got {splits!r}", param_hint="--splits")
    try:
        config = WorldConfig(frames=frames, width=width, height=height).validate()
    except ConfigError as err:
        raise typer.BadParameter(str(err)) from None
    with Progress(transient=True) as progress:
        task = progress.add_task("synthesising", total=sequences * len(split_names))

        def advance(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, description=name)

        try:
            write_dataset(out, sequences=sequences, seed=seed, config=config, splits=split_names, progress=advance)
        except DatasetError as err:
            fail(str(err), code=1)
    typer.echo(f"wrote {sequences} sequences x {len(split_names)} splits ({', '.join(split_names)}) to {out}")
    from ..datasets.synthetic import ATTRIBUTES, SyntheticDataset

    for split in split_names:
        seqs = list(SyntheticDataset(out, split))
        counts = ", ".join(f"{code} {sum(s.attributes[code] for s in seqs)}" for code in ATTRIBUTES)
        absent = sum(int(s.absent.sum()) for s in seqs)
        frames_total = sum(len(s.ground_truth) for s in seqs)
        typer.echo(f"  {split}: {len(seqs)} sequences, {frames_total} frames, {absent} absent; sequences with {counts}")


@data_app.command("list")
def list_datasets() -> None:
    """List the registered datasets (names accepted by --dataset)."""
    from rich.console import Console
    from rich.table import Table

    from ..datasets import DATASETS

    table = Table("name", "description")
    for name in DATASETS.names():
        table.add_row(name, DATASETS.help(name))
    Console().print(table)


@data_app.command("info")
def info(
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset name (see `reasoningtrack data list`)."),
    root: Path = typer.Option(..., "--root", "-r", help="Dataset root folder."),
    split: str = typer.Option("test", "--split", help="Split to summarise."),
    per_sequence: bool = typer.Option(False, "--per-sequence", help="Also print one row per sequence."),
) -> None:
    """Summarise a dataset split: sequences, frames, absent frames, attributes, and every
    inconsistency (ground-truth rows vs frames vs flags, missing descriptions, unreadable files).

    Exits with status 1 when a sequence cannot be read (the errors are listed).
    """
    from rich.console import Console

    from ..datasets import DATASETS, DatasetError
    from ..registry import RegistryError

    try:
        ds = DATASETS.build(dataset, root=root, split=split)
        names = ds.sequence_names()
    except (DatasetError, RegistryError, FileNotFoundError) as err:
        fail(str(err), code=1)
    survey = _survey(ds, names)
    _print_survey(Console(), survey, ds, f"{dataset} ({split}) at {root}", per_sequence)
    if survey.errors:
        raise typer.Exit(1)


@dataclass
class _Survey:
    """What `data info` found in a split: totals, per-sequence rows and every inconsistency."""

    sequences: int = 0
    frames: int = 0
    gt_rows: int = 0
    absent: int = 0
    no_description: int = 0
    attributes: Counter = field(default_factory=Counter)
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    errors: list = field(default_factory=list)


def _survey(ds, names: list[str]) -> _Survey:
    """Load every sequence of the split and count; a sequence that cannot be read is an error."""
    from ..datasets import DatasetError

    survey = _Survey(sequences=len(names))
    for name in names:
        try:
            seq = ds.load(name)
            n_frames = len(seq.frames)
        except DatasetError as err:
            survey.errors.append(f"{name}: {err}")
            continue
        n_gt = len(seq.ground_truth)
        n_absent = int(seq.absent.sum()) if seq.absent is not None else 0
        survey.frames += n_frames
        survey.gt_rows += n_gt
        survey.absent += n_absent
        survey.attributes.update(code for code, on in seq.attributes.items() if on)
        survey.no_description += not seq.description
        if n_frames and n_gt != n_frames:
            survey.problems.append(f"{name}: {n_gt} ground-truth rows for {n_frames} frames")
        if seq.absent is not None and len(seq.absent) != n_gt:
            survey.problems.append(f"{name}: {len(seq.absent)} absent flags for {n_gt} ground-truth rows")
        survey.rows.append((name, n_frames, n_gt, n_absent, seq.description or ""))
    return survey


def _print_survey(console, survey: _Survey, ds, title: str, per_sequence: bool) -> None:
    """The summary table, the attribute counts, optionally one row per sequence, then the findings."""
    from rich.markup import escape
    from rich.table import Table

    summary = Table(title=title, show_header=False)
    for label, value in (("sequences", survey.sequences), ("frames on disk", survey.frames),
                         ("ground-truth rows", survey.gt_rows), ("absent frames", survey.absent),
                         ("without description", survey.no_description), ("unreadable sequences", len(survey.errors))):
        summary.add_row(label, str(value))
    console.print(summary)
    if survey.attributes:
        attributes = Table("attribute", "sequences", title="attributes")
        known = tuple(getattr(ds, "attribute_names", ()))
        for code in list(known) + sorted(set(survey.attributes) - set(known)):
            attributes.add_row(code, str(survey.attributes.get(code, 0)))
        console.print(attributes)
    if per_sequence:
        table = Table("sequence", "frames", "gt rows", "absent", "description")
        for row in survey.rows:
            table.add_row(row[0], str(row[1]), str(row[2]), str(row[3]), row[4])
        console.print(table)
    other_folders = getattr(ds, "other_folders", None)
    if callable(other_folders) and other_folders():
        names_ = ", ".join(p.name for p in other_folders())
        console.print(f"not sequences (no ground-truth file): {escape(names_)}", highlight=False)
    for line in survey.problems:
        console.print(f"[yellow]mismatch[/yellow] {escape(line)}", highlight=False)
    for line in survey.errors:
        console.print(f"[red]error[/red] {escape(line)}", highlight=False)
