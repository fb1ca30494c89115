"""`reasoningtrack experiment`, `compare`, `evaluate-run` and `report`: run ablation grids, put
finished runs side by side, score one `track` output, and write the HTML reports."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._apps import app, data_app
from .common import fail, user_errors


@app.command()
def experiment(
    file: str = typer.Argument(..., help="Experiment YAML file, or the name of a shipped one (u-sweep, policies, reasoner, schedules, quickstart)."),
    output: Path = typer.Option(..., "--output", "-o", help="Experiment folder: variants/<name>/, summary.json/.csv, plots/, report.html."),
    root: Optional[str] = typer.Option(None, "--root", "-r", help="Dataset root (sets base.root)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="Override a base key, e.g. --set backbone=csrt (repeatable)."),
    workers: int = typer.Option(1, "--workers", help="Worker processes per variant (as in benchmark)."),
    executor: str = typer.Option("local", "--executor", help="local (processes) or ray."),
    no_report: bool = typer.Option(False, "--no-report", help="Do not write report.html."),
) -> None:
    """Run every variant of an experiment (a grid or a list of benchmark configurations), each a
    resumable benchmark folder, then score them together and summarise.

    Example: reasoningtrack data synth --out world -n 4 && reasoningtrack experiment u-sweep --root world -o exp
    """
    from rich.console import Console
    from rich.markup import escape

    from ..config import parse_overrides
    from ..experiments import load_experiment
    from ..experiments.run import ExperimentRunner
    from ..experiments.summary import build_summary, plot_summary, summary_table, write_summary

    console = Console(stderr=True, soft_wrap=True)
    try:
        overrides = parse_overrides(set_ or [])
        if root is not None:
            overrides["root"] = str(Path(root).resolve())
        spec = load_experiment(file, overrides)
        runner = ExperimentRunner(spec, output, workers=workers, executor=executor)
    except user_errors() as exc:
        fail(str(exc))

    def on_variant(variant, index, total):
        console.print(f"[bold]variant {index + 1}/{total}[/] {escape(variant.name)}", highlight=False)

    runner.on_variant = on_variant
    from ..pipeline.signals import Terminated, exit_code

    try:
        outcomes = runner.run()
    except user_errors() as exc:
        fail(str(exc))
    except Terminated as exc:  # SIGTERM/SIGHUP: finished variants and sequences are kept
        console.print(f"[bold red]{exc}:[/] finished variants and sequences are kept in {runner.output}; "
                      "rerun the same command to resume", highlight=False)
        raise typer.Exit(exit_code(exc.signum))
    statuses = {o.name: {"status": "done" if o.status in ("done", "skipped") else o.status, "error": o.error} for o in outcomes}
    try:
        summary, report = build_summary(spec.source, spec.about, runner.variants, runner.variant_dir, statuses)
    except user_errors() as exc:
        fail(f"summary: {exc}", code=1)
    written = write_summary(summary, runner.output)
    written += plot_summary(summary, report, runner.output / "plots")
    if not no_report:
        from ..reports.html import write_experiment_report

        written.append(write_experiment_report(runner.output))
    Console().print(summary_table(summary))
    console.print(f"wrote {runner.output / 'summary.json'}, summary.csv, plots/" + ("" if no_report else ", report.html"), highlight=False)
    if runner.failures:
        for o in runner.failures:
            console.print(f"[red]variant {escape(o.name)} failed:[/] {escape(o.error or '')}", highlight=False)
        console.print("rerun the same command to retry the failed variants (finished ones are kept)", highlight=False)
        raise typer.Exit(1)


@app.command()
def compare(
    folders: List[Path] = typer.Argument(..., help="Finished benchmark folders and/or experiment folders (their variants)."),
    csv_path: Optional[Path] = typer.Option(None, "--csv", help="Write the table as CSV."),
    plots: Optional[Path] = typer.Option(None, "--plots", help="Folder for success / precision plots (PNG)."),
    html: Optional[Path] = typer.Option(None, "--html", help="Write a self-contained HTML report of the comparison."),
    protocol: Optional[str] = typer.Option(None, "--protocol", "-p", help="Metric protocol (default: the dataset's official one)."),
) -> None:
    """One table over finished runs, scored together on the sequences all of them finished, with
    the configuration keys that differ between them as columns.

    Example: reasoningtrack compare runs/u10 runs/u100 exp/ --plots cmp
    """
    from rich.console import Console

    from ..reports.compare import compare_runs, comparison_table, write_comparison_csv

    try:
        comparison = compare_runs(folders, protocol)
    except user_errors() as exc:
        fail(str(exc))
    Console().print(comparison_table(comparison))
    if csv_path is not None:
        write_comparison_csv(comparison, csv_path)
    if plots is not None:
        from ..evaluation.plots import plot_report

        plot_report(comparison.report, plots, formats=("png",), attributes=False)
    if html is not None:
        from ..reports.html import write_comparison_report

        write_comparison_report(comparison, html)


@app.command("evaluate-run")
def evaluate_run(
    track_dir: Path = typer.Argument(..., help="A `reasoningtrack track` output folder (boxes.txt, config.yaml)."),
    gt: Optional[Path] = typer.Option(None, "--gt", help="Ground-truth file (x,y,w,h per frame); default: the one beside the tracked input."),
    absent: Optional[Path] = typer.Option(None, "--absent", help="Absent flags (1 = present, TNLLT/LaSOT style), optional."),
    protocol: str = typer.Option("lasot-matlab", "--protocol", "-p", help="Metric protocol (default lasot-matlab: the paper's)."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Write the JSON report here."),
) -> None:
    """Score one `track` output against a ground-truth file: PR, NPR and SR (AUC)."""
    from rich.console import Console

    from ..reports.compare import evaluate_track_output

    try:
        report = evaluate_track_output(track_dir, gt, protocol, absent)
    except user_errors() as exc:
        fail(str(exc))
    Console().print(report.table())
    if json_path is not None:
        report.write_json(json_path)


@app.command()
def report(
    folder: Path = typer.Argument(..., help="A benchmark or experiment folder."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="HTML file (default FOLDER/report.html)."),
) -> None:
    """Write the self-contained HTML report of a benchmark or experiment folder (no network needed to view it)."""
    from ..reports.html import write_benchmark_report, write_experiment_report

    try:
        if (folder / "experiment.yaml").is_file():
            path = write_experiment_report(folder, output)
        else:
            path = write_benchmark_report(folder, output)
    except user_errors() as exc:
        fail(str(exc))
    typer.echo(f"wrote {path}")


@data_app.command("show")
def data_show(
    source: Path = typer.Argument(..., help="Built or taught sample folder, or the release's sft/ folder or one sft_dataset_*.json."),
    output: Path = typer.Option(..., "--output", "-o", help="HTML file to write."),
    vocab: Optional[str] = typer.Option(None, "--vocab", help="BERT vocab.txt of the backbone: measure answers in word-pieces (16-token window)."),
    max_images: int = typer.Option(300, "--max-images", min=0, help="Samples whose frames are embedded (file size)."),
) -> None:
    """Look at chain-of-thought samples before training: frames with boxes, description, think, d,
    answer, labels; filters by d, source, format failures and answers the backbone's window cuts.

    Example: reasoningtrack data show ../shared/data/reasoningtrack-release/sft -o sft.html --vocab vocab.txt
    """
    from ..reports.samples import write_sample_viewer

    try:
        path, counts = write_sample_viewer(source, output, vocab, max_images)
    except user_errors() as exc:
        fail(str(exc))
    typer.echo(f"wrote {path}: {counts['samples']} samples, d=yes {counts['d_yes']}, d=no {counts['d_no']}, "
               f"format failures {counts['format_failures']}" + (f", cut answers {counts['cut_answers']}" if vocab else ""))
