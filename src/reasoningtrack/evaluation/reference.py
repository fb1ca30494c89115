"""The same protocols written the straightforward way: one Python loop iteration per frame.

This is the readable specification the vectorised :mod:`metrics` is checked against (tests on
random and real data, and ``benchmarks/bench_evaluate.py``, which times both). It follows the
toolkits' own loop structure: repair frame by frame from frame 2, overwrite frame 1, then score
each frame and count it at each threshold. It also parses files line by line with ``float``.
Do not use it for real evaluations: it is ~100x slower.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .metrics import EvaluationError, LengthMismatchError, SequenceCurves, SequenceRejected
from .protocols import Protocol

__all__ = ["reference_sequence_curves", "reference_read_boxes"]


def reference_read_boxes(path: str | Path) -> np.ndarray:
    """Comma/tab/space separated ``x,y,w,h`` rows, parsed line by line."""
    rows = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line:
            rows.append([float(v) for v in line.replace("\t", ",").replace(" ", ",").split(",") if v != ""])
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


def _div(a: float, b: float) -> float:
    """IEEE division as numpy does it (x/0 = +-inf, 0/0 = nan) instead of raising."""
    if b != 0 or math.isnan(b):
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _iou(p, g, style):
    if any(math.isnan(v) for v in p) or any(math.isnan(v) for v in g):
        return math.nan  # numpy's min/max propagate NaN; Python's may drop it
    if style == "pixel":
        iw = _max0(min(p[0] + p[2] - 1, g[0] + g[2] - 1) - max(p[0], g[0]) + 1)
        ih = _max0(min(p[1] + p[3] - 1, g[1] + g[3] - 1) - max(p[1], g[1]) + 1)
        inter = iw * ih
        return _div(inter, p[2] * p[3] + g[2] * g[3] - inter)
    iw = _max0(min(p[0] + p[2], g[0] + g[2]) - max(p[0], g[0]))
    ih = _max0(min(p[1] + p[3], g[1] + g[3]) - max(p[1], g[1]))
    inter = iw * ih
    union = p[2] * p[3] + g[2] * g[3] - inter
    if style == "continuous-eps":
        union += np.finfo(np.float64).eps
    value = _div(inter, union)
    return value if math.isnan(value) else min(1.0, max(0.0, value))


def _max1(x: float) -> float:
    """``max(1, x)`` that keeps NaN, like numpy's ``maximum``."""
    return x if (x > 1 or math.isnan(x)) else 1.0


def _max0(x: float) -> float:
    """``max(0, x)`` that keeps NaN, like numpy's ``maximum``."""
    return x if (x > 0 or math.isnan(x)) else 0.0


def _invalid(rule, g, centre):
    if rule == "any-coord":
        return not all(v > 0 for v in g)
    if rule == "size":
        return not (g[2] > 0 and g[3] > 0)
    if rule == "center":
        return not (centre[0] > 0 and centre[1] > 0)
    return any(math.isnan(v) for v in g)


def reference_sequence_curves(pred, gt, absent, protocol: Protocol, name: str = "") -> SequenceCurves:
    """Frame-by-frame implementation of :func:`metrics.sequence_curves` (same results)."""
    p = protocol
    pred = [list(map(float, r)) for r in np.asarray(pred, dtype=np.float64).reshape(-1, 4)]
    gt = [list(map(float, r)) for r in np.asarray(gt, dtype=np.float64).reshape(-1, 4)]
    absent = None if absent is None else [bool(a) for a in absent]
    if not pred and p.empty_result_zero_curve:
        return SequenceCurves.zero(p)
    if p.reject_predictions == "nan-or-negative-size":
        for r in pred:
            if any(math.isnan(v) for v in r) or r[2] < 0 or r[3] < 0:
                raise SequenceRejected(f"sequence {name!r}: invalid prediction")
        for g in gt:
            if any(math.isnan(v) for v in g):
                raise SequenceRejected(f"sequence {name!r}: NaN in the ground truth")
    n = len(gt)
    if len(pred) != n:
        if p.length_mismatch == "error":
            raise LengthMismatchError(f"sequence {name!r}: length mismatch")
        if p.length_mismatch == "truncate-both":
            n = min(n, len(pred))
            gt, pred = gt[:n], pred[:n]
            absent = None if absent is None else absent[:n]
        elif len(pred) > n:
            pred = pred[:n]
        elif p.length_mismatch == "truncate-or-error":
            raise LengthMismatchError(f"sequence {name!r}: result shorter than the ground truth")
    if p.repair != "none":
        for i in range(1, len(pred)):
            r = pred[i]
            if p.repair == "previous":
                bad = any(math.isnan(v) for v in r) or r[2] <= 0 or r[3] <= 0
            else:
                bad = r[2] == 0 or r[3] == 0
            if bad and not any(math.isnan(v) for v in gt[i]):
                pred[i] = list(pred[i - 1])
    while len(pred) < n:
        pred.append([0.0, 0.0, 0.0, 0.0])
    if p.first_frame == "overwrite":
        pred[0] = list(gt[0])

    ious, errs, nerrs = [], [], []
    denominator = 0
    for i in range(n):
        g, r = gt[i], pred[i]
        counted = not (p.first_frame == "exclude" and i == 0)
        cg = (g[0] + (g[2] - 1) / 2, g[1] + (g[3] - 1) / 2)
        cp = (r[0] + (r[2] - 1) / 2, r[1] + (r[3] - 1) / 2)
        iou = _iou(r, g, p.iou_style)
        dx, dy = cp[0] - cg[0], cp[1] - cg[1]
        err = math.sqrt(dx * dx + dy * dy)
        if p.norm_style == "divide-difference-max1":
            sx, sy = _max1(g[2]), _max1(g[3])
            ncg = (cg[0] / sx, cg[1] / sy)
            nx, ny = dx / sx, dy / sy
        else:
            eps = 1e-16 if p.norm_style == "divide-centres-eps" else 0.0
            sx, sy = g[2] + eps, g[3] + eps
            ncg = (_div(cg[0], sx), _div(cg[1], sy))
            nx, ny = _div(cp[0], sx) - ncg[0], _div(cp[1], sy) - ncg[1]
        nerr = math.sqrt(nx * nx + ny * ny)
        iou_invalid = _invalid(p.iou_invalid_gt, g, cg)
        if iou_invalid:
            if p.iou_invalid_gt == "nan":
                counted = False
            else:
                iou = -1.0
        if _invalid(p.center_invalid_gt, g, cg):
            if p.invalid_pr == "exclude":
                counted = False
            else:
                err = -1.0 if p.invalid_pr == "success" else math.inf
        if _invalid(p.center_invalid_gt, g, ncg):
            if p.invalid_npr == "exclude":
                counted = False
            else:
                nerr = -1.0 if p.invalid_npr == "success" else math.inf
        valid = not iou_invalid
        is_absent = p.use_absent_flags and absent is not None and i < len(absent) and absent[i]
        if is_absent:
            valid = False
            if p.absent == "exclude":
                counted = False
            elif p.absent in ("fail", "npr-success"):
                iou, err = -1.0, math.inf
                nerr = math.inf if p.absent == "fail" else -1.0
        if not counted:
            continue
        if p.denominator == "all" or valid:
            denominator += 1
        ious.append(iou)
        errs.append(err)
        nerrs.append(nerr)
    if denominator <= 0:
        raise EvaluationError(f"sequence {name!r}: no frame left to score under {p.name}")
    success = [sum(1 for v in ious if v > t) for t in p.success_thresholds]
    precision = [sum(1 for v in errs if v <= t) for t in p.precision_thresholds]
    norm = [sum(1 for v in nerrs if v <= t) for t in p.norm_precision_thresholds]
    return SequenceCurves(
        np.array(success, dtype=np.float64),
        np.array(precision, dtype=np.float64),
        np.array(norm, dtype=np.float64),
        float(denominator),
    )
