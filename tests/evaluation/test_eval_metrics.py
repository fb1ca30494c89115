"""The vectorised metrics against the frame-by-frame reference, and the counting primitives."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from reasoningtrack.evaluation import PROTOCOLS, EvaluationError, get_protocol
from reasoningtrack.evaluation.metrics import batch_curves, count_above, count_at_most, sequence_curves
from reasoningtrack.evaluation.reference import reference_read_boxes, reference_sequence_curves


def test_counting_matches_explicit_comparisons():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.uniform(-1, 1.2, 500), [np.nan, -np.inf, np.inf, 0.0, 0.05, 1.0]])
    thresholds = np.arange(21) * 0.05
    assert np.array_equal(count_above(values, thresholds), [(values > t).sum() for t in thresholds])
    assert np.array_equal(count_at_most(values, thresholds), [(values <= t).sum() for t in thresholds])


def _random_case(rng, n: int):
    """A sequence with every oddity the rules deal with."""
    gt = np.column_stack([rng.uniform(-5, 100, n), rng.uniform(-5, 100, n), rng.uniform(1, 40, n), rng.uniform(1, 40, n)])
    gt = np.round(gt)  # integer GT like the benchmarks'; x,y <= 0 happen
    kinds = rng.integers(0, 12, n)
    gt[kinds == 0] = 0.0  # absent-style rows
    gt[kinds == 1, 2] = 0.0  # zero width
    gt[kinds == 2, 3] = -3.0  # negative height
    gt[kinds == 3] = np.nan
    pred = gt + rng.normal(0, 6, (n, 4))
    pk = rng.integers(0, 14, n)
    pred[pk == 0] = np.nan
    pred[pk == 1, 2] = 0.0
    pred[pk == 2, 3] = -2.0
    pred[pk == 3] = rng.uniform(0, 200, 4)
    absent = rng.random(n) < 0.15
    length = {0: n, 1: n + 3, 2: max(1, n - 3)}[int(rng.integers(0, 3))]
    if length > n:
        pred = np.concatenate([pred, rng.uniform(0, 50, (length - n, 4))])
    else:
        pred = pred[:length]
    return pred, gt, absent


@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
@pytest.mark.parametrize("dataset", ["lasot", "tnl2k"])
def test_vectorised_equals_frame_by_frame_reference(protocol, dataset):
    """Identical counts and denominators, or the same refusal, on 60 adversarial sequences."""
    p = get_protocol(protocol, dataset)
    rng = np.random.default_rng(zlib.crc32(f"{protocol}/{dataset}".encode()))
    for case in range(60):
        pred, gt, absent = _random_case(rng, int(rng.integers(2, 40)))
        if case % 3 == 0:  # also clean sequences, which every protocol scores
            gt = np.abs(np.nan_to_num(gt)) + 1
            pred = np.abs(np.nan_to_num(pred[: len(gt)])) + 1
            if len(pred) < len(gt):
                pred = np.concatenate([pred, gt[len(pred):]])
            pred[rng.random(len(pred)) < 0.2, 2] = 0.0  # zero sizes: repaired by L and P/S alike
        try:
            want = reference_sequence_curves(pred, gt, absent, p, "case")
        except EvaluationError as exc:
            with pytest.raises(type(exc)):
                sequence_curves(pred, gt, absent, p, "case")
            continue
        got = sequence_curves(pred, gt, absent, p, "case")
        assert got.denominator == want.denominator, case
        assert np.array_equal(got.success_counts, want.success_counts), case
        assert np.array_equal(got.precision_counts, want.precision_counts), case
        assert np.array_equal(got.norm_precision_counts, want.norm_precision_counts), case


def test_batch_equals_one_sequence_at_a_time():
    rng = np.random.default_rng(7)
    p = get_protocol("lasot-matlab")
    items = []
    for i in range(30):
        pred, gt, absent = _random_case(rng, int(rng.integers(2, 30)))
        pred = np.concatenate([pred, np.zeros((max(0, len(gt) - len(pred)), 4))])  # never shorter
        items.append((f"s{i}", pred, gt, absent))
    batch, _ = batch_curves(items, p)
    for name, pred, gt, absent in items:
        one = sequence_curves(pred, gt, absent, p, name)
        assert np.array_equal(batch[name].success_counts, one.success_counts)
        assert np.array_equal(batch[name].norm_precision_counts, one.norm_precision_counts)
        assert batch[name].denominator == one.denominator


def test_repair_is_a_chained_forward_fill():
    box = [1.0, 1.0, 10.0, 10.0]
    pred = np.array([box, [50, 50, 10, 10], [np.nan] * 4, [0, 0, 0, 5], [0, 0, -1, 5], box])
    gt = np.array([box] * 6)
    p = get_protocol("lasot-matlab")
    ref = reference_sequence_curves(pred, gt, None, p)
    got = sequence_curves(pred, gt, None, p)
    assert np.array_equal(got.success_counts, ref.success_counts)
    # frames 3-5 took frame 2's (50, 50) box: only frames 1 and 6 overlap
    assert got.success_counts[0] == 2


def test_reference_reader_parses_mixed_delimiters(tmp_path):
    f = tmp_path / "r.txt"
    f.write_text("1,2,3,4\n5\t6\t7\t8\n9 10 11 12\n")
    assert reference_read_boxes(f).tolist() == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]


def test_ground_truth_without_rows_is_an_error():
    with pytest.raises(EvaluationError, match="no rows"):
        sequence_curves(np.zeros((3, 4)), np.zeros((0, 4)))


def test_chunk_size_never_changes_the_counts(monkeypatch):
    from reasoningtrack.evaluation import metrics

    rng = np.random.default_rng(3)
    p = get_protocol("tnl2k-matlab")
    items = []
    for i in range(25):
        pred, gt, absent = _random_case(rng, int(rng.integers(2, 30)))
        pred = np.concatenate([pred, np.zeros((max(0, len(gt) - len(pred)), 4))])
        items.append((f"s{i}", pred, gt, absent))
    results = []
    for chunk in (1, 7, 1 << 30):
        monkeypatch.setattr(metrics, "CHUNK_FRAMES", chunk)
        results.append(batch_curves(items, p)[0])
    for name, _, _, _ in items:
        for other in results[1:]:
            assert np.array_equal(results[0][name].success_counts, other[name].success_counts)
            assert np.array_equal(results[0][name].precision_counts, other[name].precision_counts)
            assert results[0][name].denominator == other[name].denominator
