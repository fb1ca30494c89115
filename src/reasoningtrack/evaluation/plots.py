"""Success, precision and normalised-precision plots of a :class:`Report` (matplotlib, Agg).

As in the toolkits' figures, each curve's legend shows the tracker's reported score as a fraction
(``DiMP50 [0.571]``) and trackers are listed best first. Overall plots are one figure per metric;
per-attribute plots put the three metrics side by side, one figure per attribute. Every figure is
written as PNG and PDF, each file atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .metrics import Scores
from .report import Report

__all__ = ["plot_report", "legend_label", "METRICS"]

METRICS = {
    # key: (curve attribute, title, x label, score attribute, threshold grid attribute)
    "success": ("success", "Success plots of OPE", "Overlap threshold", "SR", "success_thresholds"),
    "precision": ("precision", "Precision plots of OPE", "Location error threshold (pixels)", "PR", "precision_thresholds"),
    "norm_precision": (
        "norm_precision",
        "Normalized precision plots of OPE",
        "Normalized location error threshold",
        "NPR",
        "norm_precision_thresholds",
    ),
}


def legend_label(name: str, score_percent: float) -> str:
    """``Name [0.571]``: the score as a fraction with three decimals, as the toolkits print it."""
    return f"{name} [{score_percent / 100:.3f}]"


def _save(fig, base: Path, formats: tuple[str, ...]) -> list[Path]:
    written = []
    for fmt in formats:
        path = base.with_suffix(f".{fmt}")
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.{fmt}")
        fig.savefig(tmp, format=fmt, bbox_inches="tight", dpi=150 if fmt == "png" else None)
        os.replace(tmp, path)
        written.append(path)
    return written


def _draw(ax, report: Report, metric: str, pick) -> None:
    attr, title, xlabel, score_key, grid = METRICS[metric]
    thresholds = getattr(report.protocol, grid)
    entries = []
    for t in report.trackers.values():
        scores: Scores | None = pick(t)
        if scores is not None:
            entries.append((getattr(scores, score_key), t.name, getattr(scores, attr)))
    entries.sort(key=lambda e: e[0], reverse=True)
    styles = ["-", "--", "-.", ":"]
    for i, (score, name, curve) in enumerate(entries):
        ax.plot(thresholds, np.asarray(curve), linestyle=styles[(i // 10) % 4], linewidth=2, label=legend_label(name, score))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Success rate" if metric == "success" else "Precision")
    ax.set_title(title)
    ax.set_xlim(float(thresholds[0]), float(thresholds[-1]))
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, linestyle=":")
    ax.legend(loc="upper right" if metric == "success" else "lower right", fontsize=8)


def plot_report(report: Report, out_dir: str | os.PathLike, formats: tuple[str, ...] = ("png", "pdf"), attributes: bool = True) -> list[Path]:
    """Draw overall success / precision / normalised-precision plots (``success.png`` ...) and,
    with ``attributes``, one three-panel figure per attribute (``attribute_<ATTR>.png``)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    suffix = f"{report.benchmark}, {report.protocol.name}"
    for metric in METRICS:
        fig, ax = plt.subplots(figsize=(6, 5))
        _draw(ax, report, metric, lambda t: t.overall)
        ax.set_title(f"{METRICS[metric][1]} -- {suffix}", fontsize=10)
        written += _save(fig, out / metric, formats)
        plt.close(fig)
    if attributes:
        attrs: list[str] = []
        for t in report.trackers.values():
            attrs += [a for a in t.per_attribute if a not in attrs]
        for attr in attrs:
            fig, axes = plt.subplots(1, 3, figsize=(16, 5))
            n = max(t.per_attribute[attr].n_sequences for t in report.trackers.values() if attr in t.per_attribute)
            for ax, metric in zip(axes, METRICS):
                _draw(ax, report, metric, lambda t, a=attr: t.per_attribute.get(a))
                ax.set_title(f"{METRICS[metric][1]} -- {attr} ({n})", fontsize=10)
            fig.suptitle(f"{suffix}: attribute {attr}")
            written += _save(fig, out / f"attribute_{attr}", formats)
            plt.close(fig)
    return written
