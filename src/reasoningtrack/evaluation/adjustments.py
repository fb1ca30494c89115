"""What a protocol did to a result file before scoring it, in words.

The toolkits silently repair results: an empty file becomes an all-zero curve that the mean then
drops, a longer file is cut, a shorter one padded with failing boxes, a NaN or zero-size row takes
the previous frame's box. We apply the same rules (the numbers must be the toolkits'), but every
sequence they touched is listed in the report's notes and JSON (``adjusted``), and
``strict=True`` / ``evaluate --strict`` turns any of them into an error. Non-finite values
(``inf``) are not a box either: they are treated exactly like NaN.
"""

from __future__ import annotations

import numpy as np

from .metrics import SequenceCurves
from .protocols import Protocol

__all__ = ["describe_adjustments", "dropped_curves", "non_finite_to_nan"]

_EPS = np.finfo(np.float64).eps


def _frames(indices: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(i) + 1) for i in indices[:limit])
    return shown + (f", ... ({len(indices)} in all)" if len(indices) > limit else "")


def non_finite_to_nan(boxes: np.ndarray) -> tuple[np.ndarray, int]:
    """``boxes`` with every +-inf replaced by NaN, and how many rows had one."""
    boxes = np.asarray(boxes, dtype=np.float64)
    infinite = np.isinf(boxes)
    if not infinite.any():
        return boxes, 0
    out = boxes.copy()
    out[infinite] = np.nan
    return out, int(infinite.reshape(len(boxes), -1).any(axis=1).sum())


def describe_adjustments(pred: np.ndarray, gt: np.ndarray, protocol: Protocol) -> list[str]:
    """One phrase per rule of ``protocol`` that changes this prediction before it is scored
    (empty, cut, padded, ground truth cut, rows carried forward); empty when none applies.
    Mirrors the rules of :func:`metrics.batch_curves` (which applies them)."""
    p = protocol
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    n_pred, n_gt = len(pred), len(gt)
    notes: list[str] = []
    if n_pred == 0 and p.empty_result_zero_curve:
        drop = " and dropped from the mean" if p.aggregation == "mean-drop-zero" else ""
        return [f"empty result file: scored as an all-zero curve{drop}"]
    if n_pred > n_gt and p.length_mismatch != "error":
        notes.append(f"cut: {n_pred - n_gt} row(s) beyond the {n_gt} ground-truth rows ignored")
    elif n_pred < n_gt:
        if p.length_mismatch == "truncate-or-pad":
            what = "empty result file" if n_pred == 0 else f"{n_pred} rows for {n_gt} frames"
            notes.append(f"padded: {what}, {n_gt - n_pred} zero box(es) added (they fail)")
        elif p.length_mismatch == "truncate-both":
            notes.append(f"ground truth cut: {n_pred} rows for {n_gt} frames, the last {n_gt - n_pred} frames not scored")
    real = min(n_pred, n_gt)
    if p.repair != "none" and real > 1:
        rows = pred[1:real]
        if p.repair == "previous":
            bad = ~(rows[:, 2] > 0) | ~(rows[:, 3] > 0) | np.isnan(rows[:, 0]) | np.isnan(rows[:, 1])
            why = "NaN, w<=0 or h<=0"
        else:
            bad = (rows[:, 2] == 0) | (rows[:, 3] == 0)
            why = "zero width or height"
        if bad.any():  # nearly every result file has no such row: the ground truth is not looked at
            truth = gt[1:real]
            bad &= ~(np.isnan(truth[:, 0]) | np.isnan(truth[:, 1]) | np.isnan(truth[:, 2]) | np.isnan(truth[:, 3]))
        idx = np.flatnonzero(bad) + 1
        if len(idx):
            notes.append(f"carried forward: {len(idx)} row(s) ({why}) replaced by the previous box, frame(s) {_frames(idx)}")
    return notes


def dropped_curves(curves: SequenceCurves, protocol: Protocol) -> list[str]:
    """Under ``mean-drop-zero`` aggregation: which of this sequence's curves (SR, PR, NPR) the mean
    leaves out because they sum to zero (the LaSOT toolkit's rule); empty otherwise."""
    if protocol.aggregation != "mean-drop-zero":
        return []
    named = (("SR", curves.success), ("PR", curves.precision), ("NPR", curves.norm_precision))
    return [name for name, curve in named if np.asarray(curve).sum() <= _EPS]
