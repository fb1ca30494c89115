"""Plots: the fast path (one reused figure per layout, its frame kept as pixels, worker processes)
writes what a fresh figure per spec writes, and its PNG is the picture matplotlib's own
``savefig`` draws for the same box, pixel for pixel."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest

from reasoningtrack.evaluation import evaluate_trackers, plots
from reasoningtrack.evaluation.plots import figure_specs, plot_report, render_figure

SUBSET = ["airplane-1", "bird-2", "tiger-6", "zebra-10", "microphone-6", "person-1", "car-2", "cup-1"]


@pytest.fixture(scope="module")
def report(lasot_sequences, lasot_raw):
    sequences = [s for s in lasot_sequences if s.name in SUBSET]
    full = evaluate_trackers(sequences, {t: lasot_raw / t for t in ("ATOM", "DiMP50", "SiamRPN++")}, "lasot-matlab")
    # Three attributes: the three-panel layout is reused twice after its first figure (the full set draws 14).
    keep = list(next(iter(full.trackers.values())).per_attribute)[:3]
    trackers = {
        name: dataclasses.replace(t, per_attribute={a: t.per_attribute[a] for a in keep if a in t.per_attribute})
        for name, t in full.trackers.items()
    }
    return dataclasses.replace(full, trackers=trackers)


def _savefig_reference(spec):
    """The straightforward picture: a new pyplot figure, drawn and saved by ``savefig`` with the
    figure's own tight box (grown to whole pixels, as the fast path does)."""
    plt = plots._pyplot()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig, axes = plt.subplots(1, len(spec.panels), figsize=spec.size, squeeze=False)
    try:
        for ax, panel in zip(axes[0], spec.panels):
            plots._draw(ax, panel)
        if spec.suptitle:
            fig.suptitle(spec.suptitle)
        canvas = FigureCanvasAgg(fig)
        fig.set_dpi(150)
        canvas.draw()
        box = plots._snap_to_pixels(fig.get_tightbbox(canvas.get_renderer()).padded(0.1))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches=box, dpi=150)
    finally:
        plt.close(fig)
    image = Image.open(buffer)
    return np.asarray(image.convert("RGBA")), image.info


@pytest.fixture(scope="module")
def serial(report, tmp_path_factory):
    """The one-process fast path's files (``plot_report(workers=1)``)."""
    return plot_report(report, tmp_path_factory.mktemp("serial"), workers=1)


def test_reused_figures_draw_what_fresh_figures_and_savefig_draw(report, serial, tmp_path):
    """Every figure of the fast path -- including the second and third figure of one layout, drawn
    over the kept frame after a PDF of the previous one was written -- has the pixels of plain
    ``savefig`` and the bytes of a fresh figure (PNG and PDF)."""
    from PIL import Image

    specs = figure_specs(report)
    assert [len(s.panels) for s in specs] == [1, 1, 1, 3, 3, 3]
    fresh = [p for spec in specs for p in render_figure(spec, tmp_path)]
    assert [p.name for p in serial] == [p.name for p in fresh] == [f"{s.stem}.{f}" for s in specs for f in ("png", "pdf")]
    for a, b in zip(serial, fresh):
        assert a.read_bytes() == b.read_bytes(), a.name
    # savefig for one overall figure and the two figures drawn over a kept frame (the others equal fresh ones above)
    for spec, png in [(specs[i], serial[2 * i]) for i in (0, 4, 5)]:
        image = Image.open(png)
        got = np.asarray(image.convert("RGBA"))
        expected, info = _savefig_reference(spec)
        assert got.shape == expected.shape, spec.stem
        assert np.array_equal(got, expected), spec.stem
        assert image.mode == "RGBA" and image.info == info  # matplotlib's chunks: software text, 150 dpi
    assert serial[1].read_bytes()[:4] == b"%PDF"


def test_frame_boxes_give_matplotlibs_tight_box(report):
    """The tight box built from the frame's boxes measured once equals ``Figure.get_tightbbox``."""
    specs = [s for s in figure_specs(report) if len(s.panels) == 3]
    sheet = plots._Sheet(specs[0])
    for spec in specs:
        sheet.show(spec)
        renderer = sheet.draw_png()
        assert sheet.tight_bbox(renderer).bounds == sheet.fig.get_tightbbox(renderer).bounds, spec.stem


def test_worker_processes_write_the_bytes_of_one_process(report, serial, tmp_path):
    seen = []
    ref = serial
    fast = plot_report(report, tmp_path / "fast", workers=2, progress=lambda done, total: seen.append((done, total)))
    assert [p.name for p in ref] == [p.name for p in fast]
    assert len(ref) == 2 * len(figure_specs(report)) == 12
    for a, b in zip(ref, fast):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert seen == [(i, 6) for i in range(1, 7)]
    assert not list((tmp_path / "fast").glob(".*tmp*"))


def test_a_failing_figure_names_itself_and_stops_the_workers(report, tmp_path):
    good = figure_specs(report)[0]
    panel = good.panels[0]
    bad_panel = dataclasses.replace(panel, curves=((panel.curves[0][0], panel.curves[0][1][:-1]),))
    bad = dataclasses.replace(good, stem="broken", panels=(bad_panel,))
    with plots.PlotWorkers(2) as pool:
        with pytest.raises(ValueError) as raised:  # the worker's own error, with its traceback as a note
            pool.draw([good, bad], tmp_path, ("png",))
        processes = list(pool.processes)
    assert "drawing broken in a plot worker process" in raised.value.__notes__[0]
    assert not (tmp_path / "broken.png").exists()
    assert all(not p.is_alive() for p in processes)
