"""Compare finished runs (one table, the differing configuration keys as columns) and score a
single ``track`` output."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import ConfigError, load_yaml
from ..experiments.runs import BenchmarkRun, differing_keys, evaluate_runs, find_runs, flatten

__all__ = ["Comparison", "compare_runs", "comparison_table", "write_comparison_csv", "evaluate_track_output"]


@dataclass
class Comparison:
    runs: list[BenchmarkRun]
    report: object  # evaluation.Report
    keys: list[str]  # configuration keys that differ

    def rows(self) -> list[dict]:
        out = []
        for run in self.runs:
            flat = flatten(run.config)
            scores = self.report.trackers[run.label].overall
            stats = run.stats()
            out.append({"run": run.label, "folder": str(run.folder), **{k: flat.get(k) for k in self.keys},
                        "SR": scores.SR, "PR": scores.PR, "NPR": scores.NPR, **stats["reasoning"], "fps": stats["fps"]})
        return out


def compare_runs(folders, protocol: str | None = None) -> Comparison:
    """Load benchmark folders and experiment folders (all their variants) and score them together.
    Labels: the folder name; an experiment's variants are ``EXPERIMENT/VARIANT``; a clash gets the
    parent folder's name in front."""
    runs: list[BenchmarkRun] = []
    for folder in folders:
        folder = Path(folder)
        found = find_runs(folder)
        if (folder / "experiment.yaml").is_file():
            for run in found:
                run.label = f"{folder.name}/{run.label}"
        runs += found
    labels = [r.label for r in runs]
    for run in runs:
        if labels.count(run.label) > 1:
            run.label = f"{run.folder.parent.name}/{run.folder.name}"
    report = evaluate_runs(runs, protocol)
    return Comparison(runs, report, differing_keys([r.config for r in runs]))


def _fmt(value) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return "" if value is None else str(value)


def comparison_table(comparison: Comparison):
    from rich.markup import escape
    from rich.table import Table

    report = comparison.report
    table = Table(title=f"{report.benchmark} ({len(report.sequences)} sequences) -- protocol {report.protocol.name}")
    table.add_column("Run", style="bold")
    for key in comparison.keys:
        table.add_column(escape(key))
    for label in ("SR", "PR", "NPR", "calls", "updates", "failed", "fps"):
        table.add_column(label, justify="right")
    for row in comparison.rows():
        table.add_row(escape(row["run"]), *[escape(_fmt(row[k])) for k in comparison.keys],
                      *[f"{row[k]:.2f}" for k in ("SR", "PR", "NPR")],
                      *[str(row[k]) for k in ("calls", "updates", "failed")], f"{row['fps']:.1f}")
    return table


def write_comparison_csv(comparison: Comparison, path) -> Path:
    from ..fileio import atomic_write_text as write_text_atomic

    buf = io.StringIO()
    rows = comparison.rows()
    w = csv.writer(buf, lineterminator="\n")
    header = ["run", "folder", *comparison.keys, "SR", "PR", "NPR", "calls", "updates", "failed", "fps"]
    w.writerow(header)
    for row in rows:
        w.writerow([_fmt(row[k]) if k in comparison.keys else (repr(row[k]) if isinstance(row[k], float) else row[k]) for k in header])
    return write_text_atomic(path, buf.getvalue())


def evaluate_track_output(track_dir, gt=None, protocol: str = "lasot-matlab", absent=None):
    """Score ``TRACK_DIR/boxes.txt`` against ``gt`` (default: the ground truth found beside the
    tracked input recorded in ``TRACK_DIR/config.yaml``) under ``protocol``; returns a Report."""
    from ..datasets.base import Sequence
    from ..evaluation import evaluate_trackers
    from ..evaluation.results import read_boxes
    from ..pipeline.session import find_groundtruth

    track_dir = Path(track_dir)
    boxes_path = track_dir / "boxes.txt"
    if not boxes_path.is_file():
        raise ConfigError(f"{track_dir} is not a track output folder (no boxes.txt)")
    if gt is None:
        config_path = track_dir / "config.yaml"
        source = load_yaml(config_path).get("input") if config_path.is_file() else None
        gt = find_groundtruth(source) if source else None
        if gt is None:
            raise ConfigError(f"no --gt given and no ground-truth file beside the tracked input {source or '(unknown)'}")
    gt = Path(gt)
    if not gt.is_file():
        raise ConfigError(f"ground-truth file {gt} not found")
    truth = read_boxes(gt)
    boxes = read_boxes(boxes_path)
    if len(boxes) != len(truth):
        raise ConfigError(f"{boxes_path} has {len(boxes)} boxes but {gt} has {len(truth)} rows: they must cover the same frames")
    flags = None
    if absent is not None:
        values = np.loadtxt(absent, delimiter=",", ndmin=1)
        if len(values) != len(truth):
            raise ConfigError(f"{absent} has {len(values)} flags, {gt} has {len(truth)} rows")
        flags = values == 0
    name = track_dir.name
    sequence = Sequence(name=name, ground_truth=truth, dataset="track", absent=flags)
    return evaluate_trackers([sequence], {"track": {name: boxes}}, protocol, benchmark="track")
