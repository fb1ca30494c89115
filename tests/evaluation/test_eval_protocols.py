"""Each rule of shared/data/METRICS.md, per protocol, on small constructed sequences."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from reasoningtrack.evaluation import (
    DEFAULT_PROTOCOLS,
    PROTOCOLS,
    LengthMismatchError,
    ProtocolError,
    SequenceRejected,
    aggregate,
    default_protocol,
    frame_errors,
    get_protocol,
    sequence_curves,
)
from reasoningtrack.evaluation.metrics import SequenceCurves, batch_curves

BOX = [1.0, 1.0, 10.0, 10.0]


def curves(pred, gt, absent=None, protocol="lasot-matlab", dataset=None) -> SequenceCurves:
    return sequence_curves(np.array(pred, float), np.array(gt, float), absent, get_protocol(protocol, dataset))


def sr0(c: SequenceCurves) -> float:
    """Success rate at IoU threshold 0."""
    return float(c.success[0])


# -- threshold grids ------------------------------------------------------------------------------


def test_threshold_grids_of_the_matlab_and_python_toolkits():
    p = get_protocol("lasot-matlab")
    s = p.success_thresholds
    assert len(s) == 21 and s[0] == 0.0 and s[-1] == 1.0
    assert np.array_equal(s, np.arange(21) * 0.05)  # MATLAB 0:0.05:1 computes i*step
    assert np.array_equal(p.precision_thresholds, np.arange(51.0))
    n = p.norm_precision_thresholds
    assert len(n) == 51 and n[20] == 0.2 and n[-1] == 0.5
    assert np.array_equal(n, np.arange(51) / 100)  # (0:50)/100
    for name in ("tnl2k-matlab", "tnllt-matlab", "pytracking", "stark", "pysot"):
        q = get_protocol(name)
        assert np.array_equal(q.success_thresholds, s)
        assert np.array_equal(q.norm_precision_thresholds, n)
    g = get_protocol("got10k-lasot")
    assert np.array_equal(g.norm_precision_thresholds, np.linspace(0, 0.5, 51))  # G's own grid
    assert len(get_protocol("got10k").success_thresholds) == 101


def test_success_is_strict_and_precision_inclusive():
    gt = [BOX, [1, 1, 20, 10]]  # frame 2: IoU exactly 0.5 against a 10x10 box at the same corner
    c = curves([BOX, BOX], gt)
    iou_half = c.success_counts  # frame 1 (IoU 1) counts below 1.0, frame 2 only below 0.5
    assert iou_half[9] == 2 and iou_half[10] == 1 and iou_half[20] == 0
    shifted = [BOX, [21, 1, 10, 10]]  # centre error exactly 20 px
    p = curves(shifted, [BOX, BOX]).precision_counts
    assert p[19] == 1 and p[20] == 2


def test_perfect_tracker_scores_20_of_21():
    c = curves([BOX] * 5, [BOX] * 5)
    s = aggregate([c], get_protocol("lasot-matlab"))
    assert s.SR == pytest.approx(100 * 20 / 21)
    assert s.PR == 100.0 and s.NPR == 100.0


# -- frame 1 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "protocol, expected_sr0, denominator",
    [
        ("lasot-matlab", 1.0, 4),
        ("pytracking", 1.0, 4),
        ("stark", 1.0, 4),
        ("got10k-lasot", 1.0, 4),
        ("pysot", 0.75, 4),  # not overwritten
        ("got10k", 1.0, 3),  # excluded
    ],
)
def test_first_frame_rule(protocol, expected_sr0, denominator):
    pred = [[200, 200, 10, 10], BOX, BOX, BOX]
    c = curves(pred, [BOX] * 4, protocol=protocol)
    assert c.denominator == denominator
    assert sr0(c) == expected_sr0


# -- absent frames ---------------------------------------------------------------------------------

ABSENT = np.array([False, False, True, False])


@pytest.mark.parametrize(
    "protocol, dataset, sr, pr, npr, denominator",
    [
        ("lasot-matlab", "lasot", 0.75, 0.75, 0.75, 4),  # deleted, denominator N: failures
        ("tnl2k-matlab", "tnl2k", 0.75, 0.75, 0.75, 4),
        ("pytracking", "lasot", 0.75, 0.75, 0.75, 4),  # LaSOT: invisible fails all
        ("pytracking", "lasot-ext", 0.75, 0.75, 1.0, 4),  # other datasets: NPR success
        ("stark", "lasot", 0.75, 0.75, 0.75, 4),
        ("stark", "lasot-ext", 0.75, 0.75, 1.0, 4),
        ("stark", "tnl2k", 1.0, 1.0, 1.0, 4),  # no visibility passed: a valid GT box scores normally
        ("pysot", "lasot", 0.75, 0.75, 0.75, 4),
        ("got10k-lasot", "lasot", 1.0, 1.0, 1.0, 4),  # absent frames scored like any frame
        ("got10k", "got10k", 1.0, 1.0, 1.0, 2),  # removed (and frame 1 excluded)
    ],
)
def test_absent_frame_rule(protocol, dataset, sr, pr, npr, denominator):
    c = curves([BOX] * 4, [BOX] * 4, ABSENT, protocol, dataset)
    assert c.denominator == denominator
    assert sr0(c) == sr and c.precision[20] == pr and c.norm_precision[20] == npr


def test_stark_on_tnl2k_absent_rows_are_invalid_gt():
    """S's TNL2K loader passes no visibility: an absent row (GT 0,0,0,0) is an invalid box."""
    gt = [BOX, BOX, [0, 0, 0, 0], BOX]
    c = curves([BOX] * 4, gt, ABSENT, "stark", "tnl2k")
    assert sr0(c) == 0.75 and c.precision[50] == 0.75 and c.norm_precision[0] == 1.0


def test_absent_flags_longer_than_ground_truth_are_cut():
    c = curves([BOX] * 3, [BOX] * 3, np.array([False, False, False, True]))
    assert sr0(c) == 1.0 and c.denominator == 3


# -- invalid ground truth --------------------------------------------------------------------------

# frame 1 (x = 0) is invalid for "any coordinate <= 0" rules only; frame 2 (w = 0) for every rule.
INVALID_GT = [BOX, [0, 5, 10, 10], [5, 5, 0, 10], BOX]


@pytest.mark.parametrize(
    "protocol, sr, pr0, pr20, npr0, npr50",
    [
        # L: IoU -1 (fail), centre error -1 (success at every threshold)
        ("lasot-matlab", 0.5, 1.0, 1.0, 1.0, 1.0),
        # P: any coord <= 0 -> IoU fail, PR +Inf (fail), NPR -1 (success)
        ("pytracking", 0.5, 0.5, 0.5, 1.0, 1.0),
        # S: only w/h <= 0 is invalid; frame 1 is scored (IoU 0.37, error 4.12 px, 0.41 normalised)
        ("stark", 0.75, 0.5, 0.75, 0.75, 1.0),
        # Y: IoU -1 for any coord <= 0; PR/NPR -1 only where the GT centre <= 0 (not here)
        ("pysot", 0.5, 0.5, 1.0, 0.5, 0.75),
        # G: only NaN rows are invalid; w = 0 gives IoU 0
        ("got10k-lasot", 0.75, 0.5, 1.0, 0.5, 0.75),
    ],
)
def test_invalid_ground_truth_rule(protocol, sr, pr0, pr20, npr0, npr50):
    c = curves([BOX] * 4, INVALID_GT, protocol=protocol, dataset="tnl2k")
    assert sr0(c) == sr
    assert (c.precision[0], c.precision[20]) == (pr0, pr20)
    assert (c.norm_precision[0], c.norm_precision[50]) == (npr0, npr50)


def test_iou_of_the_scored_invalid_frame_under_stark():
    fe = frame_errors(np.array([BOX] * 4, float), np.array(INVALID_GT, float), None, get_protocol("stark"))
    assert fe.iou[1] == pytest.approx(54 / 146)  # 9 x 6 overlap, pixel arithmetic
    assert fe.err[1] == pytest.approx(math.sqrt(17))
    assert fe.nerr[1] == pytest.approx(math.sqrt(0.17))
    assert fe.iou[2] == -1.0 and fe.err[2] == math.inf and fe.nerr[2] == -1.0


def test_pysot_centre_rule_marks_gt_centres_at_or_below_zero():
    gt = [BOX, [-20, -20, 10, 10]]  # centre (-15.5, -15.5): PR and NPR -1 (success)
    c = curves([BOX, BOX], gt, protocol="pysot")
    assert c.success_counts[0] == 1 and c.precision_counts[0] == 2 and c.norm_precision_counts[0] == 2


# -- bad predictions -------------------------------------------------------------------------------

BAD_PRED = [BOX, BOX, [np.nan] * 4, [3, 3, 0, 10], BOX]


def test_lasot_matlab_repairs_nan_and_zero_size_with_the_previous_frame():
    fe = frame_errors(np.array(BAD_PRED), np.array([BOX] * 5), None, get_protocol("lasot-matlab"))
    assert np.array_equal(fe.iou, np.ones(5))  # frames 3 and 4 took frame 2's box (chained)


def test_lasot_matlab_does_not_repair_where_the_gt_row_has_nan():
    gt = np.array([BOX, BOX, [np.nan] * 4, BOX, BOX])
    fe = frame_errors(np.array(BAD_PRED), gt, None, get_protocol("lasot-matlab"))
    # frame 3 keeps its NaN (its GT is NaN, an invalid row: IoU -1, error -1); frame 4 copies
    # frame 3's NaN box, so it fails everywhere
    assert fe.iou[2] == -1.0 and fe.err[2] == -1.0
    assert math.isnan(fe.iou[3]) and math.isnan(fe.err[3])
    c = sequence_curves(np.array(BAD_PRED), gt, None, get_protocol("lasot-matlab"))
    assert c.success_counts[0] == 3 and c.precision_counts[0] == 4


def test_repair_uses_the_original_first_row_not_the_overwritten_one():
    """The loop starts at frame 2 and frame 1 is overwritten only afterwards (L)."""
    pred = np.array([[np.nan] * 4, [0, 0, 0, 0], BOX])
    fe = frame_errors(pred, np.array([BOX] * 3), None, get_protocol("lasot-matlab"))
    assert fe.iou[0] == 1.0 and math.isnan(fe.iou[1]) and fe.iou[2] == 1.0


@pytest.mark.parametrize("protocol", ["pytracking", "stark"])
def test_pytracking_family_rejects_nan_and_negative_sizes(protocol):
    p = get_protocol(protocol)
    with pytest.raises(SequenceRejected):
        sequence_curves(np.array(BAD_PRED), np.array([BOX] * 5), None, p)
    with pytest.raises(SequenceRejected):
        sequence_curves(np.array([BOX, [1, 1, -3, 10]]), np.array([BOX] * 2), None, p)
    # zero width or height: previous frame's box
    fe = frame_errors(np.array([BOX, [3, 3, 0, 10], BOX]), np.array([BOX] * 3), None, p)
    assert np.array_equal(fe.iou, np.ones(3))
    # a rejected sequence is reported, not averaged
    got, rejected = batch_curves([("bad", np.array(BAD_PRED), np.array([BOX] * 5), None),
                                  ("good", np.array([BOX] * 5), np.array([BOX] * 5), None)], p)
    assert list(got) == ["good"] and list(rejected) == ["bad"]


@pytest.mark.parametrize("protocol", ["pysot", "got10k-lasot"])
def test_no_repair_protocols_fail_bad_predictions(protocol):
    c = curves(BAD_PRED, [BOX] * 5, protocol=protocol)
    assert sr0(c) == 0.6  # frames 3 (NaN) and 4 (zero size) fail
    assert c.precision_counts[20] == 4  # the zero-size box's centre is 3.6 px away: a PR success


# -- length mismatch -------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["lasot-matlab", "tnl2k-matlab", "pysot", "pytracking", "stark", "got10k-lasot"])
def test_longer_results_are_cut(protocol):
    c = curves([BOX] * 6, [BOX] * 4, protocol=protocol, dataset="lasot")
    assert c.denominator == 4 and sr0(c) == 1.0


@pytest.mark.parametrize("protocol, dataset", [("lasot-matlab", "lasot"), ("pysot", "lasot"), ("pytracking", "lasot"), ("stark", "lasot")])
def test_shorter_results_are_an_error(protocol, dataset):
    with pytest.raises(LengthMismatchError):
        curves([BOX] * 2, [BOX] * 4, protocol=protocol, dataset=dataset)


@pytest.mark.parametrize("protocol", ["pytracking", "stark"])
def test_pytracking_family_zero_pads_outside_lasot_after_the_repair(protocol):
    c = curves([BOX] * 2, [BOX] * 4, protocol=protocol, dataset="tnl2k")
    assert c.denominator == 4 and sr0(c) == 0.5  # padded rows fail (they are not repaired)


def test_got10k_lasot_cuts_both_to_the_shorter():
    c = curves([BOX] * 2, [BOX] * 4, protocol="got10k-lasot")
    assert c.denominator == 2 and sr0(c) == 1.0


def test_got10k_needs_equal_lengths():
    with pytest.raises(LengthMismatchError):
        curves([BOX] * 5, [BOX] * 4, protocol="got10k")


# -- denominators, sequence dropping, reported values ---------------------------------------------


def test_pytracking_valid_divides_by_valid_frames_only():
    gt = [BOX, BOX, [5, 5, 0, 10], BOX]
    all_frames = curves([BOX] * 4, gt, protocol="pytracking", dataset="tnl2k")
    valid_only = curves([BOX] * 4, gt, protocol="pytracking-valid", dataset="tnl2k")
    assert all_frames.denominator == 4 and valid_only.denominator == 3
    assert sr0(all_frames) == 0.75 and sr0(valid_only) == 1.0
    assert valid_only.norm_precision[0] == pytest.approx(4 / 3)  # the invalid frame still counts as an NPR success


def test_matlab_protocols_drop_all_zero_curves_per_curve():
    perfect = curves([BOX] * 4, [BOX] * 4)
    # every frame absent: a zero curve for all three metrics
    gone = curves([BOX] * 4, [BOX] * 4, np.ones(4, bool))
    # an invalid first frame, the rest absent: zero success curve, but PR/NPR -1 successes
    half = curves([BOX] * 4, [[0, 0, 0, 0]] + [BOX] * 3, np.array([False, True, True, True]))
    assert half.success.sum() == 0 and half.precision.sum() > 0
    lasot = get_protocol("lasot-matlab")
    s = aggregate([perfect, gone, half], lasot)
    assert s.SR == pytest.approx(100 * 20 / 21)  # only `perfect` has a non-zero success curve
    assert s.PR == pytest.approx(100 * (1 + 0.25) / 2)  # `gone` dropped, `half` kept
    y = aggregate([perfect, gone, half], get_protocol("pysot"))
    assert y.SR == pytest.approx(100 * 20 / 21 / 3)  # a plain mean keeps zero curves


def test_empty_result_file_is_a_zero_curve_under_matlab_rules_and_an_error_otherwise():
    c = curves(np.zeros((0, 4)), [BOX] * 3)
    assert c.success.sum() == 0 and c.denominator == 0
    with pytest.raises(LengthMismatchError):
        curves(np.zeros((0, 4)), [BOX] * 3, protocol="pysot")


def test_reported_pr_and_npr_at_threshold_or_curve_mean():
    gt = [BOX] * 4
    pred = [BOX, [11, 1, 10, 10], [31, 1, 10, 10], [1, 2, 10, 10]]  # errors 0, 10, 30, 1 px
    lasot, tnl2k = get_protocol("lasot-matlab"), get_protocol("tnl2k-matlab")
    c = curves(pred, gt)
    a, b = aggregate([c], lasot), aggregate([c], tnl2k)
    assert a.PR == pytest.approx(75.0)  # value at 20 px
    assert b.PR == pytest.approx(c.precision.mean() * 100) and b.PR != a.PR
    assert a.NPR == pytest.approx(c.norm_precision[20] * 100)
    assert b.NPR == pytest.approx(c.norm_precision.mean() * 100)
    assert a.SR == b.SR == pytest.approx(c.success.mean() * 100)


def test_got10k_pools_frames_over_sequences():
    short = curves([BOX] * 3, [BOX] * 3, protocol="got10k")  # 2 counted frames, both perfect
    long_bad = curves([BOX] + [[300, 300, 10, 10]] * 8, [BOX] * 9, protocol="got10k")  # 8 frames, all fail
    g = get_protocol("got10k")
    pooled = aggregate([short, long_bad], g)
    assert pooled.success[0] == pytest.approx(2 / 10)  # a mean of sequences would give 0.5


# -- registry ----------------------------------------------------------------------------------


def test_protocol_names_defaults_and_overrides():
    for name in ("lasot-matlab", "tnl2k-matlab", "tnllt-matlab", "pytracking", "stark", "pysot", "got10k"):
        assert name in PROTOCOLS and PROTOCOLS[name].description
    assert default_protocol("lasot").name == "lasot-matlab"
    assert default_protocol("lasot_ext").name == "lasot-matlab"
    assert default_protocol("tnl2k").name == "tnl2k-matlab"
    assert default_protocol("tnllt").name == "tnllt-matlab"
    assert default_protocol("otb-lang").name == "lasot-matlab"
    assert default_protocol("got10k").name == "got10k"
    assert set(DEFAULT_PROTOCOLS.values()) <= set(PROTOCOLS)
    assert get_protocol("pytracking", "lasot").absent == "fail"
    assert get_protocol("pytracking", "tnl2k").absent == "npr-success"
    assert get_protocol("stark", "lasot_ext").use_absent_flags
    assert not get_protocol("stark", "otb-lang").use_absent_flags
    with pytest.raises(ProtocolError, match="available"):
        get_protocol("matlab")
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROTOCOLS["lasot-matlab"].first_frame = "keep"
    rules = PROTOCOLS["pysot"].rules()
    assert rules["first_frame"] == "keep" and rules["repair"] == "none" and "description" not in rules


def test_tnllt_inverted_flag_file_end_to_end(tmp_path):
    """TNLLT's absent_label.txt says 1 = present: frames flagged 0 must fail under tnllt-matlab."""
    from reasoningtrack.datasets import DATASETS
    from reasoningtrack.evaluation import evaluate_trackers

    seq = tmp_path / "tnllt" / "video_1"
    (seq / "imgs").mkdir(parents=True)
    for i in range(1, 5):
        (seq / "imgs" / f"{i:05d}.png").write_bytes(b"")
    (seq / "groundtruth.txt").write_text("1,1,10,10\n" * 4)
    (seq / "absent_label.txt").write_text("1\n1\n0\n1\n")  # frame 3 absent
    (seq / "attributes.txt").write_text("0,1")
    (seq / "language.txt").write_text("a box")
    # not an official TNLLT name (the loader's splits are the shipped lists): load it by name
    ds = DATASETS.build("tnllt", root=tmp_path / "tnllt", attribute_names=["A1", "A2"])
    loaded = ds.load("video_1")
    assert loaded.absent.tolist() == [False, False, True, False]
    oracle = {"video_1": np.array([BOX] * 4)}
    report = evaluate_trackers([loaded], {"gt": oracle})
    assert report.protocol.name == "tnllt-matlab"
    s = report.trackers["gt"].per_sequence["video_1"]
    assert s.success[0] == 0.75 and s.PR == 75.0 and s.NPR == 75.0
