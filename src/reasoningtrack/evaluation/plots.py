"""Success, precision and normalised-precision plots of a :class:`Report` (matplotlib, Agg).

As in the toolkits' figures, each curve's legend shows the tracker's reported score as a fraction
(``DiMP50 [0.571]``) and trackers are listed best first. Overall plots are one figure per metric;
per-attribute plots put the three metrics side by side, one figure per attribute. Every figure is
written as PNG and PDF, each file atomically.

Speed without changing a pixel or a byte: figures of one layout share one matplotlib figure
whose frame is drawn once (:class:`_Sheet`), worker processes draw figures side by side
(:class:`PlotWorkers`), and the tests compare every path with a fresh figure and ``savefig``.
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

__all__ = ["plot_report", "PlotWorkers", "draw_figures", "render_figure", "figure_specs", "FigureSpec", "legend_label", "METRICS"]

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
_PNG_ZLIB_LEVEL = 1  # the pixels are the same at any level; 1 encodes ~1.7x faster than 6, files ~5% larger


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
    """The drawn Agg buffer cropped to ``bbox_inches`` (whole pixels, clipped to the canvas), with
    the chunks matplotlib's ``savefig`` writes (software text, 150 dpi)."""
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
    Image.fromarray(rgba[top:bottom, left:right]).save(
        path, format="png", pnginfo=info, dpi=(_PNG_DPI, _PNG_DPI), compress_level=_PNG_ZLIB_LEVEL
    )


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


def _draw_frame(ax, metric: str, thresholds: np.ndarray) -> None:
    """What a panel shows whatever its curves: axis labels, limits and grid."""
    ax.set_xlabel(METRICS[metric][2])
    ax.set_ylabel("Success rate" if metric == "success" else "Precision")
    ax.set_xlim(float(thresholds[0]), float(thresholds[-1]))
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, linestyle=":")


def _draw_curves(ax, panel: _Panel) -> list:
    """The panel's curves, title and legend; returns the artists made (drawn over the frame)."""
    styles = ["-", "--", "-.", ":"]
    lines = [
        ax.plot(panel.thresholds, curve, linestyle=styles[(i // 10) % 4], linewidth=2, label=label)[0]
        for i, (label, curve) in enumerate(panel.curves)
    ]
    ax.set_title(panel.title, fontsize=10)
    legend = ax.legend(loc="upper right" if panel.metric == "success" else "lower right", fontsize=8)
    return [*lines, legend]


def _draw(ax, panel: _Panel) -> None:
    _draw_frame(ax, panel.metric, panel.thresholds)
    _draw_curves(ax, panel)


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


class _Sheet:
    """One reusable figure for every spec of one layout (:func:`_layout_key`): the frame (axes,
    ticks, labels, grid) is drawn once on Agg and kept as pixels; each spec then restores those
    pixels and draws only its own artists over them, in the order a full drawing uses, so the
    PNG equals a fresh figure's pixel for pixel. The PDF is a full drawing of the figure in which
    each axis replays its recorded output (:class:`_Replay`), byte for byte a fresh figure's."""

    def __init__(self, spec: FigureSpec):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=spec.size)
        self.canvas = FigureCanvasAgg(self.fig)
        self.axes = list(self.fig.subplots(1, len(spec.panels), squeeze=False)[0])
        for ax, panel in zip(self.axes, spec.panels):
            _draw_frame(ax, panel.metric, panel.thresholds)
            _fix_ticks(ax)
            for axis in (ax.xaxis, ax.yaxis):
                axis.draw = _Replay(axis)  # this figure's axes only
            for artist in (*ax.spines.values(), ax.title):  # (the empty side titles draw nothing)
                artist.set_animated(True)  # drawn after the curves, so not part of the kept frame
        self.fig.set_dpi(_PNG_DPI)
        self.background = None
        self.frame_boxes: list | None = None  # per axes: its axes box and its axis boxes (fixed)
        self.title_y: dict | None = None
        self.foreground: list = []
        self.suptitle = None

    def show(self, spec: FigureSpec) -> None:
        """Replace the curves, titles and legends by ``spec``'s."""
        for artist in self.foreground:
            artist.remove()
        self.foreground = []
        for ax, panel in zip(self.axes, spec.panels):
            ax.set_prop_cycle(None)  # colours restart at C0, as on a fresh axes
            for artist in _draw_curves(ax, panel):
                artist.set_animated(True)
                self.foreground.append(artist)
            if self.title_y is not None:
                # Where the first drawing placed the title (above the axes whatever its text):
                # pinned, so that later drawings skip measuring the tick labels again to find it.
                ax.set_title(panel.title, fontsize=10, y=self.title_y[ax])
        if spec.suptitle or self.suptitle is not None:  # (an empty one draws and measures as none)
            self.suptitle = self.fig.suptitle(spec.suptitle or "")
            self.suptitle.set_animated(True)

    def draw_png(self):
        """Draw on Agg (the frame once, then from its pixels); returns the renderer."""
        renderer = self.canvas.get_renderer()
        if self.background is None:
            self.canvas.draw()  # animated artists are left out: this is the frame alone
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
            self.title_y = {ax: ax.title.get_position()[1] for ax in self.axes}
            self.frame_boxes = [
                [ax.get_window_extent(renderer)] + [b for b in (a.get_tightbbox(renderer) for a in (ax.xaxis, ax.yaxis)) if b]
                for ax in self.axes
            ]
        else:
            self.canvas.restore_region(self.background)
        for artist in _animated_in_draw_order(self.fig):
            artist.draw(renderer)
        return renderer

    def save(self, spec: FigureSpec, base: Path, formats: tuple[str, ...]) -> list[Path]:
        self.show(spec)
        renderer = self.draw_png()
        tight = _snap_to_pixels(self.tight_bbox(renderer).padded(_PAD_INCHES))
        written = []
        for fmt in formats:
            path = base.with_suffix(f".{fmt}")
            with atomic_path(path) as tmp:
                if fmt == "png":
                    _write_png_crop(self.canvas, tight, tmp)
                else:
                    self._save_vector(tmp, fmt, tight)
            written.append(path)
        return written

    def tight_bbox(self, renderer):
        """``Figure.get_tightbbox`` (same boxes, same filters) with the frame's boxes measured once:
        the axis boxes (ticks, tick labels, axis labels) are most of its cost and never change."""
        from matplotlib.transforms import Bbox, TransformedBbox

        fig = self.fig
        boxes = [a.get_tightbbox(renderer) for a in fig.get_children() if a not in fig.axes and a.get_visible() and a.get_in_layout()]
        for ax, frame in zip(self.axes, self.frame_boxes):
            parts = list(frame)
            if ax.title.get_visible():  # (the empty side titles have empty boxes, which are left out)
                parts.append(ax.title.get_window_extent(renderer))
            for artist in ax.get_default_bbox_extra_artists():
                box = artist.get_tightbbox(renderer)
                if box is not None and (box.width > 0 or box.height > 0) and box.width < np.inf and box.height < np.inf:
                    parts.append(box)  # matplotlib's Bbox._is_finite
            boxes.append(Bbox.union([b for b in parts if b.width != 0 or b.height != 0]))
        boxes = [b for b in boxes if b is not None and np.isfinite(b.width) and np.isfinite(b.height) and (b.width != 0 or b.height != 0)]
        return TransformedBbox(Bbox.union(boxes), fig.dpi_scale_trans.inverted())

    def _save_vector(self, path: Path, fmt: str, tight) -> None:
        from matplotlib.transforms import Bbox

        suptitle = self.suptitle
        if suptitle is not None:
            suptitle.set_animated(False)  # a saving figure skips its own animated artists
        try:
            metadata = {"CreationDate": None} if fmt == "pdf" else None
            self.fig.savefig(path, format=fmt, bbox_inches=Bbox(tight.get_points()), metadata=metadata)
        finally:
            if suptitle is not None:
                suptitle.set_animated(True)


class _Replay:
    """An axis's ``draw`` for vector output: the renderer calls of its first drawing per figure
    geometry are recorded and replayed after that (its ticks, labels and limits never change in
    a :class:`_Sheet`, and laying them out is most of a PDF's cost). A new resolution or figure
    placement is recorded afresh; output other than PDF is always drawn afresh."""

    def __init__(self, artist):
        self.artist = artist
        self.draw = type(artist).draw.__get__(artist)
        self.recorded: dict[tuple, list] = {}

    def __call__(self, renderer) -> None:
        fig = self.artist.get_figure(root=True)
        if not fig.canvas.is_saving() or fig.canvas.get_default_filetype() != "pdf":
            return self.draw(renderer)
        key = (type(fig.canvas), fig.dpi, fig.transFigure.get_matrix().tobytes(), fig.bbox.bounds)
        calls = self.recorded.get(key)
        if calls is None:
            recorder = _Recorder(renderer)
            self.draw(recorder)
            self.recorded[key] = recorder.calls
            return
        for name, gc, args, kwargs in calls:
            if gc is None:
                getattr(renderer, name)(*args, **kwargs)
                continue
            fresh = renderer.new_gc()
            fresh.copy_properties(gc)
            getattr(renderer, name)(fresh, *args, **kwargs)
            fresh.restore()


class _Recorder:
    """Passes every call on to ``renderer`` and records the drawing ones (with a copy of their
    graphics context) for :class:`_Replay`."""

    _DRAWING = frozenset({"draw_path", "draw_markers", "draw_path_collection", "draw_text", "draw_tex",
                          "draw_image", "draw_gouraud_triangles", "draw_quad_mesh", "open_group", "close_group"})

    def __init__(self, renderer):
        self._renderer = renderer
        self.calls: list = []

    def __getattr__(self, name):
        method = getattr(self._renderer, name)
        if name not in self._DRAWING:
            return method

        def record(*args, **kwargs):
            if name.startswith("draw_"):
                gc = self._renderer.new_gc()
                gc.copy_properties(args[0])
                self.calls.append((name, gc, args[1:], kwargs))
            else:
                self.calls.append((name, None, args, kwargs))
            return method(*args, **kwargs)

        return record


def _fix_ticks(ax) -> None:
    """Pin each axis's ticks and labels to what its locator and formatter give now, so that
    redrawing the figure does not compute them again (the limits never change)."""
    from matplotlib.ticker import FixedFormatter, FixedLocator

    for axis in (ax.xaxis, ax.yaxis):
        locs = axis.get_major_locator()()
        labels = axis.get_major_formatter().format_ticks(locs)
        axis.set_major_locator(FixedLocator(locs))
        axis.set_major_formatter(FixedFormatter(labels))


def _animated_in_draw_order(fig) -> list:
    """The figure's animated artists in the order ``Figure.draw`` would draw them: figure children
    by zorder, and inside each axes its children by zorder (both sorts are stable)."""
    from matplotlib.axes import Axes

    order = []
    for child in sorted((a for a in fig.get_children() if a is not fig.patch), key=lambda a: a.get_zorder()):
        if isinstance(child, Axes):
            order += sorted((a for a in child.get_children() if a is not child.patch), key=lambda a: a.get_zorder())
        else:
            order.append(child)
    return [a for a in order if a.get_animated() and a.get_visible()]


def _layout_key(spec: FigureSpec) -> tuple:
    """Specs with equal keys share one :class:`_Sheet` (same size, panels and frames)."""
    return (spec.size, tuple((p.metric, p.thresholds.tobytes()) for p in spec.panels))


def draw_figures(specs, out_dir: str | os.PathLike, formats: tuple[str, ...] = ("png", "pdf"), done=None) -> list[Path]:
    """Draw ``specs`` in this process, one reusable figure per layout; ``done(i, paths)`` after each."""
    sheets: dict[tuple, _Sheet] = {}
    written = []
    try:
        for i, spec in enumerate(specs):
            key = _layout_key(spec)
            if key not in sheets:
                sheets[key] = _Sheet(spec)
            paths = sheets[key].save(spec, Path(out_dir) / spec.stem, formats)
            written += paths
            if done:
                done(i, paths)
    finally:
        sheets.clear()
    return written


def default_plot_workers(n_figures: int | None = None) -> int:
    """Processes for drawing: one per usable core, at most one per figure (drawing is CPU-bound
    Python, so threads would not help)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(n_figures or cores, cores))


def plot_report(
    report: Report,
    out_dir: str | os.PathLike,
    formats: tuple[str, ...] = ("png", "pdf"),
    attributes: bool = True,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    pool: PlotWorkers | None = None,
) -> list[Path]:
    """Draw overall success / precision / normalised-precision plots (``success.png`` ...) and,
    with ``attributes``, one three-panel figure per attribute (``attribute_<ATTR>.png``).

    Figures are drawn by ``workers`` processes (default: one per core), or by ``pool`` (started
    earlier, e.g. while the report was computed), each taking the next figure when it is done
    with one and reusing one figure per layout (:class:`_Sheet`); ``workers=1`` draws them all
    here. A figure's files depend neither on the process that drew it nor on what it drew
    before, so every path writes the same bytes (tested, also against a fresh figure per spec,
    :func:`render_figure`). ``progress(done, total)`` is called after each figure.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specs = figure_specs(report, attributes)
    total = len(specs)
    if pool is None:
        workers = default_plot_workers(total) if workers is None else max(1, min(int(workers), total))
        if workers == 1:
            return draw_figures(specs, out, formats, done=(lambda i, _: progress(i + 1, total)) if progress else None)
        _warm_matplotlib()  # once here rather than in every worker: forked workers inherit it
        with PlotWorkers(workers) as own:
            return own.draw(specs, out, formats, progress)
    return pool.draw(specs, out, formats, progress)


class PlotWorkers:
    """Processes that draw figures for :func:`plot_report`, each keeping its reusable figures
    between figures. Start them early -- they import matplotlib and load its font while the
    caller computes the report -- and close them when done (a context manager).

    Where processes can be forked, one process imports matplotlib and forks the other workers
    from itself, so the import is paid once, not once per worker."""

    def __init__(self, count: int | None = None):
        import gc
        import multiprocessing

        fork = "fork" in multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if fork else "spawn")
        pipes = [context.Pipe() for _ in range(max(1, count or default_plot_workers()))]
        self.conns = [ours for ours, _ in pipes]
        theirs = [end for _, end in pipes]
        self.processes = []
        if fork:
            starts = [(_fork_workers, (theirs, self.conns))]
        else:
            starts = [(_serve, (end,)) for end in theirs]
        gc.freeze()  # forked workers then never touch (and copy) the caller's objects when collecting
        try:
            for target, args in starts:
                process = context.Process(target=target, args=args, daemon=True, name="reasoningtrack-plots")
                process.start()
                self.processes.append(process)
        except BaseException:
            self.close()
            raise
        finally:
            gc.unfreeze()
            for end in theirs:
                end.close()  # the workers hold the only copies: a worker's exit ends our end

    def draw(self, specs, out: Path, formats, progress=None) -> list[Path]:
        """Draw ``specs`` into ``out``: each worker is sent the next figure when it reports one."""
        from multiprocessing.connection import wait

        specs = list(specs)
        for conn in self.conns:
            conn.send(("job", specs, str(out), tuple(formats)))
        # Three-panel figures first: a worker that takes a short one last does not keep the rest waiting.
        todo = sorted(range(len(specs)), key=lambda i: -len(specs[i].panels))
        files: dict[int, list[Path]] = {}
        busy = list(self.conns)
        while busy:
            for conn in wait(busy):
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    codes = ", ".join(str(p.exitcode) for p in self.processes)
                    raise RuntimeError(
                        f"a plot worker stopped after {len(files)} of {len(specs)} figures (exit codes {codes})"
                    ) from None
                if message[0] == "failed":
                    _, index, trace, exc = message
                    error = exc if exc is not None else RuntimeError(trace.strip().splitlines()[-1])
                    error.add_note(f"(raised drawing {specs[index].stem} in a plot worker process:\n{trace.rstrip()})")
                    raise error
                if message[0] == "drawn":
                    files[message[1]] = [Path(p) for p in message[2]]
                    if progress:
                        progress(len(files), len(specs))
                if todo:
                    conn.send(("draw", todo.pop(0)))
                else:
                    conn.send(("done",))
                    busy.remove(conn)
        return [path for i in range(len(specs)) for path in files[i]]

    def close(self) -> None:
        """Stop the workers (they finish the figure in hand only if asked to draw; here they exit)."""
        for conn in self.conns:
            try:
                conn.send(None)
            except OSError:
                pass
            conn.close()
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()
        self.conns, self.processes = [], []

    def __enter__(self) -> PlotWorkers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _fork_workers(conns, callers_ends) -> None:
    """The first worker: import matplotlib, fork one more worker per further pipe end, serve the
    first one, then wait for the others."""
    import gc

    for end in callers_ends:
        end.close()  # so that a worker sees the end of its pipe if the caller dies
    children = []
    try:
        _warm_matplotlib()
        gc.freeze()
        for i, conn in enumerate(conns[1:], start=1):
            pid = os.fork()
            if pid == 0:
                _forked_worker(conns, i)
            children.append(pid)
            conn.close()
        _serve(conns[0])
    except KeyboardInterrupt:
        pass  # the caller is stopping too
    finally:
        for pid in children:
            os.waitpid(pid, 0)


def _forked_worker(conns, index: int) -> None:
    """Serve ``conns[index]`` in a process made by ``os.fork``, which must end with ``os._exit``."""
    import traceback

    code = 1
    try:
        for i, other in enumerate(conns):
            if i != index:
                other.close()
        _serve(conns[index])
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _serve(conn) -> None:
    """A worker: draw the figures it is sent, job after job, until told to stop (``None``)."""
    import traceback

    _warm_matplotlib()
    sheets: dict[tuple, _Sheet] = {}
    specs, out, formats = [], ".", ()
    try:
        while (message := conn.recv()) is not None:
            if message[0] == "job":
                _, specs, out, formats = message
                conn.send(("ready",))
            elif message[0] == "draw":
                index = message[1]
                spec = specs[index]
                key = _layout_key(spec)
                try:
                    sheet = sheets[key] if key in sheets else sheets.setdefault(key, _Sheet(spec))
                    paths = sheet.save(spec, Path(out) / spec.stem, formats)
                except Exception as exc:
                    sheets.pop(key, None)  # possibly half-updated
                    conn.send(("failed", index, traceback.format_exc(), _picklable(exc)))
                else:
                    conn.send(("drawn", index, [str(p) for p in paths]))
    except (EOFError, OSError, KeyboardInterrupt):
        pass  # the caller is gone (a closed or broken pipe) or stopping
    finally:
        conn.close()


def _picklable(exc: Exception) -> Exception | None:
    """``exc`` if it survives a trip through pickle (so the caller can raise it), else None."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return None
    return exc


def _warm_matplotlib() -> None:
    """Import the Agg and PDF backends and load the default font (a worker does it first; a no-op
    when already done, e.g. in a worker forked after the caller did it)."""
    from matplotlib.backends import backend_agg, backend_pdf  # noqa: F401
    from matplotlib.font_manager import FontProperties, findfont, get_font

    get_font(findfont(FontProperties()))
