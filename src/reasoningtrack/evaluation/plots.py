"""Success, precision and normalised-precision plots of a :class:`Report` (matplotlib, Agg).

As in the toolkits' figures, each curve's legend shows the tracker's reported score as a fraction
(``DiMP50 [0.571]``) and trackers are listed best first. Overall plots are one figure per metric;
per-attribute plots put the three metrics side by side, one figure per attribute. Every figure is
written as PNG and PDF, each file atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..fileio import atomic_path
from .metrics import Scores
from .report import Report

__all__ = ["plot_report", "render_figure", "figure_specs", "FigureSpec", "legend_label", "METRICS"]

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


_PNG_DPI = 150
_PAD_INCHES = 0.1  # savefig's default pad around a tight bounding box


def _save(fig, base: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write ``fig`` cropped to its tight bounding box in every format.

    One Agg drawing serves both the bounding box and the PNG (its pixels are cropped to the
    box), and the PDF is drawn once with that box: two drawings per figure where
    ``savefig(bbox_inches="tight")`` per format needs four. The PDF carries no creation date,
    so the same figure gives the same bytes in any process.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(_PNG_DPI)
    canvas.draw()
    tight = _snap_to_pixels(fig.get_tightbbox(canvas.get_renderer()).padded(_PAD_INCHES))
    written = []
    for fmt in formats:
        path = base.with_suffix(f".{fmt}")
        with atomic_path(path) as tmp:
            if fmt == "png":
                _write_png_crop(canvas, tight, tmp)
            else:
                metadata = {"CreationDate": None} if fmt == "pdf" else None
                fig.savefig(tmp, format=fmt, bbox_inches=Bbox(tight.get_points()), metadata=metadata)
        written.append(path)
    return written


def _snap_to_pixels(bbox_inches):
    """The box grown to whole PNG pixels, so that cropping the drawn canvas equals matplotlib's own
    ``savefig(bbox_inches=box)`` pixel for pixel (no sub-pixel shift of the drawing)."""
    from matplotlib.transforms import Bbox

    (x0, y0), (x1, y1) = bbox_inches.get_points() * _PNG_DPI
    return Bbox([[np.floor(x0) / _PNG_DPI, np.floor(y0) / _PNG_DPI], [np.ceil(x1) / _PNG_DPI, np.ceil(y1) / _PNG_DPI]])


def _write_png_crop(canvas, bbox_inches, path: Path) -> None:
    """The drawn Agg buffer cropped to ``bbox_inches`` (whole pixels, clipped to the canvas)."""
    import matplotlib
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    rgba = np.asarray(canvas.buffer_rgba())
    height, width = rgba.shape[:2]
    (x0, y0), (x1, y1) = np.rint(bbox_inches.get_points() * _PNG_DPI).astype(int)
    left, right = max(0, x0), min(width, x1)
    top, bottom = max(0, height - y1), min(height, height - y0)
    info = PngInfo()
    info.add_text("Software", f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/")
    Image.fromarray(rgba[top:bottom, left:right]).save(path, format="png", pnginfo=info, dpi=(_PNG_DPI, _PNG_DPI))


@dataclass(frozen=True)
class _Panel:
    """One axes: a metric's curves (label, curve, score), best first, and its title."""

    metric: str
    title: str
    thresholds: np.ndarray
    curves: tuple[tuple[str, np.ndarray], ...]


@dataclass(frozen=True)
class FigureSpec:
    """Everything one figure shows, as plain data: drawn the same in any process."""

    stem: str
    size: tuple[float, float]
    panels: tuple[_Panel, ...]
    suptitle: str | None = None


def _panel(report: Report, metric: str, pick, title: str) -> _Panel:
    attr, _, _, score_key, grid = METRICS[metric]
    entries = []
    for t in report.trackers.values():
        scores: Scores | None = pick(t)
        if scores is not None:
            entries.append((getattr(scores, score_key), t.name, np.asarray(getattr(scores, attr))))
    entries.sort(key=lambda e: e[0], reverse=True)
    curves = tuple((legend_label(name, score), curve) for score, name, curve in entries)
    return _Panel(metric, title, np.asarray(getattr(report.protocol, grid)), curves)


def figure_specs(report: Report, attributes: bool = True) -> list[FigureSpec]:
    """The figures of a report: one per metric overall, then one three-panel figure per attribute."""
    suffix = f"{report.benchmark}, {report.protocol.name}"
    specs = [
        FigureSpec(metric, (6, 5), (_panel(report, metric, lambda t: t.overall, f"{METRICS[metric][1]} -- {suffix}"),))
        for metric in METRICS
    ]
    if attributes:
        attrs: list[str] = []
        for t in report.trackers.values():
            attrs += [a for a in t.per_attribute if a not in attrs]
        for attr in attrs:
            n = max(t.per_attribute[attr].n_sequences for t in report.trackers.values() if attr in t.per_attribute)
            panels = tuple(
                _panel(report, metric, lambda t, a=attr: t.per_attribute.get(a), f"{METRICS[metric][1]} -- {attr} ({n})")
                for metric in METRICS
            )
            specs.append(FigureSpec(f"attribute_{attr}", (16, 5), panels, f"{suffix}: attribute {attr}"))
    return specs


def _draw(ax, panel: _Panel) -> None:
    _, _, xlabel, _, _ = METRICS[panel.metric]
    styles = ["-", "--", "-.", ":"]
    for i, (label, curve) in enumerate(panel.curves):
        ax.plot(panel.thresholds, curve, linestyle=styles[(i // 10) % 4], linewidth=2, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Success rate" if panel.metric == "success" else "Precision")
    ax.set_title(panel.title, fontsize=10)
    ax.set_xlim(float(panel.thresholds[0]), float(panel.thresholds[-1]))
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, linestyle=":")
    ax.legend(loc="upper right" if panel.metric == "success" else "lower right", fontsize=8)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def render_figure(spec: FigureSpec, out_dir: str | os.PathLike, formats: tuple[str, ...] = ("png", "pdf")) -> list[Path]:
    """Draw one figure from its spec and write it in every format (atomically)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(spec.panels), figsize=spec.size, squeeze=False)
    try:
        for ax, panel in zip(axes[0], spec.panels):
            _draw(ax, panel)
        if spec.suptitle:
            fig.suptitle(spec.suptitle)
        return _save(fig, Path(out_dir) / spec.stem, formats)
    finally:
        plt.close(fig)


def default_plot_workers(n_figures: int) -> int:
    """Processes for drawing: one per core, at most one per figure (drawing is CPU-bound Python,
    so threads would not help)."""
    return max(1, min(n_figures, os.cpu_count() or 1))


def plot_report(
    report: Report,
    out_dir: str | os.PathLike,
    formats: tuple[str, ...] = ("png", "pdf"),
    attributes: bool = True,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Draw overall success / precision / normalised-precision plots (``success.png`` ...) and,
    with ``attributes``, one three-panel figure per attribute (``attribute_<ATTR>.png``).

    Figures are drawn by ``workers`` processes (default: one per core); ``workers=1`` draws them
    here, one after the other (the reference path). Every figure is a :class:`FigureSpec` drawn by
    :func:`render_figure`, so both paths write the same files byte for byte. ``progress(done,
    total)`` is called after each figure.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specs = figure_specs(report, attributes)
    total = len(specs)
    workers = default_plot_workers(total) if workers is None else max(1, int(workers))
    written: list[Path] = []
    if workers == 1 or total <= 1:
        for i, spec in enumerate(specs, start=1):
            written += render_figure(spec, out, formats)
            if progress:
                progress(i, total)
        return written
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    fork = "fork" in multiprocessing.get_all_start_methods()
    if fork:
        _pyplot()  # imported once here, inherited by every forked process
    context = multiprocessing.get_context("fork" if fork else "spawn")
    # Costliest first (three-panel figures), so no process is left with a long one at the end.
    order = sorted(range(total), key=lambda i: -len(specs[i].panels))
    files: dict[int, list[Path]] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(render_figure, specs[i], str(out), formats): i for i in order}
        for done, future in enumerate(as_completed(futures), start=1):
            files[futures[future]] = future.result()
            if progress:
                progress(done, total)
    for i in range(total):
        written += files[i]
    return written
