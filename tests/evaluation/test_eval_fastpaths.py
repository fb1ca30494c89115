"""Evaluation's fast paths give the reference paths' numbers exactly (issue 15: speed never
changes results): ground-truth values shared across trackers, the even-grid threshold index."""

from __future__ import annotations

import numpy as np
import pytest

from reasoningtrack.evaluation import PROTOCOLS, batch_curves, evaluate_trackers, get_protocol
from reasoningtrack.evaluation.metrics import threshold_index
from reasoningtrack.evaluation.reference import reference_sequence_curves
from reasoningtrack.evaluation.results import read_boxes_many

GRIDS = {
    "IoU 0:0.05:1": np.arange(21) * 0.05,
    "IoU linspace(0, 1, 101)": np.linspace(0.0, 1.0, 101),
    "NPR (0:50)/100": np.arange(51, dtype=np.float64) / 100.0,
    "NPR linspace(0, 0.5, 51)": np.linspace(0.0, 0.5, 51),
    "uneven": np.array([0.0, 0.3, 0.31, 0.9]),
}


@pytest.mark.parametrize("grid", list(GRIDS))
def test_threshold_index_is_searchsorted(grid):
    thr = GRIDS[grid]
    rng = np.random.default_rng(0)
    values = np.concatenate([
        thr, np.nextafter(thr, np.inf), np.nextafter(thr, -np.inf),  # on, just above, just below every point
        [np.nan, np.inf, -np.inf, -1.0, 0.0, -0.0, 1e300, -1e300, 5e-324],
        rng.random(20000) * 1.4 - 0.2,
        np.round(rng.random(2000), 2),  # two-decimal values, as IoUs and errors often land
    ])
    assert np.array_equal(threshold_index(thr, values), np.searchsorted(thr, values, side="left"))


def _damaged(boxes: dict[str, np.ndarray], names: list[str]) -> dict[str, np.ndarray]:
    """A second tracker that exercises the repair and length rules: NaN and zero-size rows,
    one result shorter and one longer than its ground truth."""
    out = {n: b.copy() for n, b in boxes.items()}
    out[names[0]][5:9] = np.nan
    out[names[1]][3, 2] = 0.0
    out[names[2]] = out[names[2]][:-7]
    out[names[3]] = np.vstack([out[names[3]], out[names[3]][-2:]])
    return out


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_shared_ground_truth_gives_identical_curves(protocol, lasot_sequences, lasot_raw):
    """Every protocol: curves with the ground-truth values computed once and shared by two
    trackers equal those computed per tracker, and on a subset the per-frame reference's."""
    p = get_protocol(protocol, "lasot")
    seqs = lasot_sequences[:40]
    names = [s.name for s in seqs]
    atom = dict(zip(names, read_boxes_many([lasot_raw / "ATOM" / f"{n}.txt" for n in names])))
    trackers = [atom, _damaged(atom, names)]
    shared: dict = {}
    for boxes in trackers:
        items = [(s.name, boxes[s.name], s.ground_truth, s.absent) for s in seqs]
        try:
            alone = batch_curves(items, p)
        except Exception as exc:  # a protocol that refuses a length: the shared path must too
            with pytest.raises(type(exc)):
                batch_curves(items, p, shared)
            continue
        together = batch_curves(items, p, shared)
        assert alone[1] == together[1]
        assert alone[0].keys() == together[0].keys()
        for name, a in alone[0].items():
            b = together[0][name]
            for field in ("success_counts", "precision_counts", "norm_precision_counts"):
                assert np.array_equal(getattr(a, field), getattr(b, field)), (protocol, name, field)
            assert a.denominator == b.denominator
        for s in seqs[:3]:
            if s.name in together[0]:
                ref = reference_sequence_curves(boxes[s.name].tolist(), s.ground_truth.tolist(), s.absent, p, s.name)
                assert np.array_equal(ref.success_counts, together[0][s.name].success_counts)
                assert np.array_equal(ref.norm_precision_counts, together[0][s.name].norm_precision_counts)
    assert shared, "the shared values were never stored"
    for truth in shared.values():
        assert not truth.gt.flags.writeable  # shared arrays are read-only: a write would raise


def test_evaluate_trackers_same_report_in_any_order(lasot_dataset, lasot_raw):
    """The shared values do not depend on which tracker is scored first (threads race for them)."""
    order = ["ATOM", "DiMP50", "SiamRPN++"]
    forward = evaluate_trackers(lasot_dataset, {t: lasot_raw / t for t in order})
    backward = evaluate_trackers(lasot_dataset, {t: lasot_raw / t for t in reversed(order)})
    for t in order:
        assert forward.trackers[t].to_dict() == backward.trackers[t].to_dict()
