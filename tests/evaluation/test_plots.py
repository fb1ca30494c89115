"""Plots: the parallel path writes the same files as the one-process reference path, and the
cropped PNG is the picture matplotlib's own ``savefig`` draws for the same box."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest

from reasoningtrack.evaluation import evaluate_trackers
from reasoningtrack.evaluation.plots import figure_specs, plot_report, render_figure

SUBSET = ["airplane-1", "bird-2", "tiger-6", "zebra-10", "microphone-6", "person-1", "car-2", "cup-1"]


@pytest.fixture(scope="module")
def report(lasot_sequences, lasot_raw):
    sequences = [s for s in lasot_sequences if s.name in SUBSET]
    full = evaluate_trackers(sequences, {t: lasot_raw / t for t in ("ATOM", "DiMP50", "SiamRPN++")}, "lasot-matlab")
    # Two attributes are enough to exercise the three-panel figures (the full set draws 14).
    keep = list(next(iter(full.trackers.values())).per_attribute)[:2]
    trackers = {
        name: dataclasses.replace(t, per_attribute={a: t.per_attribute[a] for a in keep if a in t.per_attribute})
        for name, t in full.trackers.items()
    }
    return dataclasses.replace(full, trackers=trackers)


def test_parallel_and_reference_paths_write_identical_files(report, tmp_path):
    seen = []
    ref = plot_report(report, tmp_path / "ref", workers=1)
    fast = plot_report(report, tmp_path / "fast", workers=2, progress=lambda done, total: seen.append((done, total)))
    assert [p.name for p in ref] == [p.name for p in fast]
    assert len(ref) == 2 * len(figure_specs(report)) == 10
    for a, b in zip(ref, fast):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert seen[-1] == (5, 5) and [d for d, _ in seen] == [1, 2, 3, 4, 5]
    assert (tmp_path / "fast" / "success.pdf").read_bytes()[:4] == b"%PDF"
    assert not list((tmp_path / "fast").glob(".*tmp*"))


def test_cropped_png_equals_matplotlibs_savefig_pixel_for_pixel(report, tmp_path):
    """The fast PNG is a crop of one Agg drawing; matplotlib's savefig with the same (pixel-snapped)
    box must give the same pixels, so the speed-up never changes a picture."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    from reasoningtrack.evaluation import plots

    for spec in figure_specs(report)[::3]:  # one overall, one three-panel figure
        (png,) = render_figure(spec, tmp_path, formats=("png",))
        fig, axes = plt.subplots(1, len(spec.panels), figsize=spec.size, squeeze=False)
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
        plt.close(fig)
        expected = np.asarray(Image.open(buffer).convert("RGBA"))
        got = np.asarray(Image.open(png).convert("RGBA"))
        assert got.shape == expected.shape
        assert np.array_equal(got, expected), spec.stem
