"""The experiment summary: one row per variant, as JSON, CSV, a rich table and plots.

``summary.json``::

    {"experiment": PATH, "about": str, "benchmark": str, "protocol": str, "sequences": [..],
     "variants": [{"name", "overrides": {dotted key: value}, "status": "done"|"failed"|"pending",
                   "error": str|null, "metrics": {"SR", "PR", "NPR"} (percent) | null,
                   "reasoning": {"calls", "updates", "failed"}, "fps", "seconds"}]}

Metrics are recomputed from the variants' result files, all on the same sequences (those every
finished variant has), so the rows are comparable.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from . import Variant
from ..fileio import jsonable
from .runs import BenchmarkRun, evaluate_runs, load_run

__all__ = ["build_summary", "write_summary", "summary_table", "plot_summary"]


def build_summary(experiment_source: str, about: str, variants: list[Variant], folder_of, statuses: dict[str, Any]):
    """Rows for every variant plus the combined Report (None when no variant finished)."""
    runs: list[BenchmarkRun] = []
    for v in variants:
        if statuses.get(v.name, {}).get("status") == "done":
            runs.append(load_run(folder_of(v.name), v.name))
    report = evaluate_runs(runs) if runs else None
    rows = []
    for v in variants:
        state = statuses.get(v.name, {"status": "pending", "error": None})
        row: dict[str, Any] = {"name": v.name, "overrides": v.overrides, "status": state["status"], "error": state.get("error"),
                               "metrics": None, "reasoning": None, "fps": None, "seconds": None}
        if report is not None and v.name in report.trackers:
            row["metrics"] = report.trackers[v.name].overall.as_dict()
        folder = folder_of(v.name)
        if (folder / "config.yaml").is_file():
            stats = load_run(folder, v.name).stats()
            row.update(reasoning=stats["reasoning"], fps=stats["fps"], seconds=stats["seconds"])
        rows.append(row)
    summary = {
        "experiment": experiment_source,
        "about": about,
        "benchmark": report.benchmark if report else None,
        "protocol": report.protocol.name if report else None,
        "sequences": report.sequences if report else [],
        "variants": rows,
    }
    return summary, report


def write_summary(summary: dict, output: Path) -> list[Path]:
    from ..fileio import atomic_write_text as write_text_atomic

    written = [write_text_atomic(output / "summary.json", json.dumps(summary, indent=1, default=jsonable) + "\n")]
    buf = io.StringIO()
    keys: list[str] = []
    for row in summary["variants"]:
        keys += [k for k in row["overrides"] if k not in keys]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", *keys, "status", "SR", "PR", "NPR", "calls", "updates", "failed", "fps", "seconds"])
    for row in summary["variants"]:
        m = row["metrics"] or {}
        r = row["reasoning"] or {}
        w.writerow([row["name"], *[json.dumps(row["overrides"].get(k)) if isinstance(row["overrides"].get(k), (list, dict)) else row["overrides"].get(k, "") for k in keys],
                    row["status"], *[repr(m[k]) if k in m else "" for k in ("SR", "PR", "NPR")],
                    *[r.get(k, "") for k in ("calls", "updates", "failed")],
                    "" if row["fps"] is None else f"{row['fps']:.3f}", "" if row["seconds"] is None else f"{row['seconds']:.3f}"])
    written.append(write_text_atomic(output / "summary.csv", buf.getvalue()))
    return written


def summary_table(summary: dict):
    """A rich Table of the variants (file order)."""
    from rich.markup import escape
    from rich.table import Table

    title = f"{summary.get('benchmark') or '?'} ({len(summary.get('sequences') or [])} sequences)"
    if summary.get("protocol"):
        title += f" -- protocol {summary['protocol']}"
    table = Table(title=title, caption=summary.get("about") or None)
    table.add_column("Variant", style="bold")
    for label in ("SR", "PR", "NPR", "calls", "updates", "failed", "fps"):
        table.add_column(label, justify="right")
    table.add_column("status")
    for row in summary["variants"]:
        m = row["metrics"] or {}
        r = row["reasoning"] or {}
        status = row["status"] if row["status"] != "failed" else f"[red]failed[/]: {escape(str(row.get('error') or ''))[:80]}"
        table.add_row(escape(row["name"]), *[f"{m[k]:.2f}" if k in m else "-" for k in ("SR", "PR", "NPR")],
                      *[str(r.get(k, "-")) for k in ("calls", "updates", "failed")],
                      f"{row['fps']:.1f}" if row["fps"] else "-", status)
    return table


def sweep_key(summary: dict) -> str | None:
    """The one key an experiment sweeps, when it sweeps exactly one (else None)."""
    keys = {k for row in summary["variants"] for k in row["overrides"]}
    return next(iter(keys)) if len(keys) == 1 else None


def plot_summary(summary: dict, report, output: Path) -> list[Path]:
    """Success/precision curves of all variants (PNG) and, for a one-key sweep, metric vs value."""
    from ..evaluation.plots import plot_report

    if report is None:
        return []
    written = plot_report(report, output, formats=("png",), attributes=False)
    key = sweep_key(summary)
    done = [r for r in summary["variants"] if r["metrics"]]
    if key and len(done) >= 2:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        values = [r["overrides"][key] for r in done]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        xs = values if numeric else list(range(len(values)))
        fig, ax = plt.subplots(figsize=(6, 4))
        for metric in ("SR", "PR", "NPR"):
            ax.plot(xs, [r["metrics"][metric] for r in done], marker="o", label=metric)
        if numeric and max(values) / max(min(values), 1e-9) > 20:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(xs, [str(v) for v in values], rotation=20)
        ax.set_xlabel(key)
        ax.set_ylabel("score (%)")
        ax.grid(True, linestyle=":")
        ax.legend()
        path = output / "sweep.png"
        tmp = output / ".sweep.tmp.png"
        fig.savefig(tmp, format="png", bbox_inches="tight", dpi=120)
        plt.close(fig)
        tmp.replace(path)
        written.append(path)
    return written
