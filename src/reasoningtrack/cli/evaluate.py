"""`reasoningtrack evaluate`: score trackers' raw results on a benchmark, as the toolkits do."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ._apps import app
from .common import fail

_EPILOG = (
    "Example: reasoningtrack evaluate --dataset lasot --root LaSOT_Evaluation_Toolkit/annos "
    "--results ATOM=results/ATOM --results DiMP50=results/DiMP50 --json report.json --plots plots/"
)


def _parse_results(items: list[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for item in items:
        name, sep, folder = item.partition("=")
        if not sep or not name.strip() or not folder.strip():
            fail(f"--results {item!r}: expected NAME=DIR (e.g. ATOM=results/ATOM)")
        if name in out:
            fail(f"--results: tracker name {name!r} given twice")
        out[name.strip()] = Path(folder.strip())
    return out


def _check_outputs(json_path: Path | None, csv_path: Path | None, plots: Path | None) -> None:
    """Refuse output paths of the wrong kind before any work is done (one line, not a traceback)."""
    for flag, path in (("--json", json_path), ("--csv", csv_path)):
        if path is not None and path.is_dir():
            fail(f"{flag} {path} is a folder; give a file name, e.g. {path / ('report.' + flag[2:])}")
    if plots is not None and plots.exists() and not plots.is_dir():
        fail(f"--plots {plots} is a file; give a folder for the plots")


@app.command(epilog=_EPILOG)
def evaluate(
    runs: Optional[List[Path]] = typer.Argument(
        None, help="Benchmark or experiment folders to score (instead of --dataset/--root/--results): their config says the dataset."
    ),
    dataset: Optional[str] = typer.Option(
        None, "--dataset", "-d", help="Benchmark name: lasot, lasot-ext, tnl2k, tnllt, otb-lang, got10k, synthetic, folder.", show_default="from the run folders"),
    root: Optional[Path] = typer.Option(
        None,
        "--root",
        "-r",
        help="Dataset root, or for lasot/tnl2k the evaluation toolkit's annos/ folder (or the folder holding it).", show_default="from the run folders"),
    results: Optional[List[str]] = typer.Option(
        None, "--results", help="NAME=DIR: a tracker's raw results (<seq>.txt per sequence). Repeat for several trackers."
    ),
    split: str = typer.Option("test", "--split", help="Dataset split."),
    protocol: Optional[str] = typer.Option(
        None,
        "--protocol",
        "-p",
        help="Metric protocol (default: the benchmark's official one): lasot-matlab, tnl2k-matlab, tnllt-matlab, "
        "pytracking, pytracking-valid, stark, pysot, got10k-lasot, got10k.", show_default="the benchmark's official one"),
    split_file: Optional[Path] = typer.Option(
        None, "--split-file", help="Sequence list (one name per line) instead of the one found with the data.", show_default="the list found with the data"),
    annos: Optional[Path] = typer.Option(
        None,
        "--annos",
        help="lasot/lasot-ext/tnl2k: the toolkit's annotation folder, used for ground truth, absent flags and "
        "attributes while --root is the dataset root (as the official numbers are computed).", show_default="none"),
    skip_missing: bool = typer.Option(
        False, "--skip-missing", help="Skip sequences missing from any tracker's results (for all trackers) instead of failing."
    ),
    fix_corner_first_row: bool = typer.Option(
        False,
        "--fix-corner-first-row",
        help="Convert a first result row written as corners x1,y1,x2,y2 (SiamRPN's OTB files); the toolkits read it as is.",
    ),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Write the JSON report (stable schema) here.", show_default="none"),
    csv_path: Optional[Path] = typer.Option(None, "--csv", help="Write overall / per-attribute / per-sequence scores as CSV.", show_default="none"),
    plots: Optional[Path] = typer.Option(
        None, "--plots", help="Folder for success / precision / normalized-precision plots (PNG and PDF), overall and per attribute.", show_default="none"),
    plot_workers: Optional[int] = typer.Option(
        None, "--plot-workers", min=1, help="Processes drawing the plots (1 draws in this process).", show_default="one per CPU core"
    ),
    cache: bool = typer.Option(
        True,
        "--cache/--no-cache",
        help="Serve unchanged annotation and result files from the cache: parsed tables, and each result file's "
        "scores under the protocol (REASONINGTRACK_CACHE_DIR, default ~/.cache/reasoningtrack/tables; entries are "
        "checked against each file's size and modification time, the ground truth's hash and the scoring code).",
    ),
    attributes: bool = typer.Option(False, "--attributes", help="Also print the per-attribute success table."),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="Fail instead of applying the protocol's silent repairs: any result file that is empty, cut, padded, "
        "has rows carried forward or inf values, or any sequence skipped or rejected, is an error (all are listed).",
    ),
) -> None:
    """Evaluate trackers' raw results: PR, NPR and SR (AUC), overall, per sequence and per attribute.

    The numbers are those of the benchmark's official toolkit (LaSOT/TNL2K/TNLLT MATLAB code, got10k-toolkit) unless --protocol names another toolkit's rules; see docs/evaluation.md.
    """
    from rich.console import Console
    from rich.markup import escape

    if runs and (dataset or root or results):
        fail("give benchmark folders or --dataset/--root/--results, not both")
    if not runs and not (dataset and root and results):
        fail("give benchmark or experiment folders, or all of --dataset, --root and --results")
    trackers = _parse_results(results) if not runs else {}
    _check_outputs(json_path, csv_path, plots)
    pool = _plot_workers(plots, plot_workers)  # started now: they import matplotlib while the results are scored
    if not cache:
        import os

        os.environ["REASONINGTRACK_CACHE_DIR"] = "off"  # this process only: the command's whole run
    console = Console()
    if runs:
        report = _score_runs(runs, protocol)
    else:
        options = {"split": split}
        if split_file is not None:
            options["split_file"] = split_file
        if annos is not None:
            options["annos"] = annos
        with console.status(f"evaluating {len(trackers)} tracker(s) on {dataset} ..."):
            report = _score_results(dataset, root, options, trackers, protocol, skip_missing=skip_missing,
                                    first_row="auto" if fix_corner_first_row else "as-is", strict=strict)
    console.print(report.table())
    if attributes:
        console.print(report.attribute_table("SR"))
    for line in report.notes():
        console.print(f"[yellow]note:[/] {escape(line)}", highlight=False)
    _write_outputs(console, report, json_path, csv_path, plots, plot_workers, pool)


def _score_runs(runs: list[Path], protocol: str | None):
    """The report of benchmark or experiment folders (each config names its dataset)."""
    from ..reports.compare import compare_runs
    from .common import user_errors

    try:
        return compare_runs(runs, protocol).report
    except user_errors() as exc:
        fail(str(exc))


def _score_results(dataset: str, root: Path, options: dict, trackers: dict, protocol: str | None, **rules):
    """The report of raw result folders on ``dataset`` (errors as one line, exit 2)."""
    from ..datasets import DATASETS
    from ..datasets.base import DatasetError
    from ..evaluation import EvaluationError, ProtocolError, evaluate_trackers
    from ..evaluation.results import ResultFormatError, ResultsMissingError
    from ..registry import RegistryError

    try:
        data = DATASETS.build(dataset, root=root, **options)
        return evaluate_trackers(data, trackers, protocol, benchmark=dataset.lower().replace("_", "-"), **rules)
    except TypeError as exc:
        for option, flag in (("split_file", "--split-file"), ("annos", "--annos")):
            if option in str(exc):
                fail(f"{flag} is not supported by dataset {dataset!r}")
        raise
    except (DatasetError, EvaluationError, ProtocolError, ResultFormatError, ResultsMissingError, RegistryError) as exc:
        fail(str(exc))


def _plot_workers(plots: Path | None, plot_workers: int | None):
    """The plot-drawing processes, if plots are asked for on more than one process."""
    if plots is None or plot_workers == 1:
        return None
    from ..evaluation.plots import PlotWorkers

    return PlotWorkers(plot_workers)


def _write_outputs(
    console, report, json_path: Path | None, csv_path: Path | None, plots: Path | None, plot_workers: int | None, pool=None
) -> None:
    """The JSON report, the CSV tables and the plots that were asked for (drawn by ``pool`` if given)."""
    if json_path is not None:
        report.write_json(json_path)
        console.print(f"JSON report: {json_path}")
    if csv_path is not None:
        report.write_csv(csv_path)
        console.print(f"CSV: {csv_path}")
    if plots is not None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from ..evaluation.plots import plot_report

        with Progress(
            TextColumn("drawing plots"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True
        ) as bar:
            task = bar.add_task("plots", total=None)
            try:
                written = plot_report(
                    report, plots, workers=plot_workers, pool=pool,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
            finally:
                if pool is not None:
                    pool.close()
        console.print(f"plots: {len(written)} files in {plots}")
