"""Success, precision and normalised-precision curves under a :class:`Protocol`, vectorised.

Every rule of a protocol is an array operation over all frames of many sequences at once (no
per-frame Python; sequences are concatenated in chunks of ~64 k frames so that temporaries stay in
cache): the "previous frame" repair is a forward fill of row indices with
``np.maximum.accumulate`` (sequence starts are never repaired); per-sequence curves come from
``np.searchsorted`` + one ``np.bincount`` over ``(sequence, threshold)`` pairs, which counts
``IoU > thr`` and ``err <= thr`` exactly as the toolkits' loops do.
:mod:`reasoningtrack.evaluation.reference` is the same protocol written frame by frame; the tests
and ``benchmarks/bench_evaluate.py`` check the two give identical numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from .protocols import Protocol

__all__ = [
    "EvaluationError",
    "SequenceRejected",
    "LengthMismatchError",
    "FrameErrors",
    "SequenceCurves",
    "Scores",
    "frame_errors",
    "sequence_curves",
    "batch_curves",
    "mean_curves",
    "scores_from_curves",
    "count_above",
    "count_at_most",
    "threshold_index",
    "CHUNK_FRAMES",
]

_EPS = np.finfo(np.float64).eps  # MATLAB's eps, used by L's zero-curve rule
CHUNK_FRAMES = 1 << 16  # frames scored per vectorised pass (cache-sized; any value gives the same counts)


class EvaluationError(ValueError):
    """A result that cannot be evaluated under the chosen protocol (the message says why)."""


class SequenceRejected(EvaluationError):
    """The protocol refuses to score this sequence (P/S: NaN or negative size in a prediction)."""


class LengthMismatchError(EvaluationError):
    """A result shorter (or, under ``error``, of any other length) than the ground truth."""


def count_above(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``[(values > t).sum() for t in thresholds]`` for sorted thresholds; NaN never counts."""
    v = np.where(np.isnan(values), -np.inf, values)
    k = np.searchsorted(thresholds, v, side="left")  # number of thresholds strictly below v
    hist = np.bincount(k, minlength=len(thresholds) + 1)
    return np.cumsum(hist[::-1])[::-1][1:].astype(np.float64)


def count_at_most(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``[(values <= t).sum() for t in thresholds]`` for sorted thresholds; NaN never counts."""
    v = np.where(np.isnan(values), np.inf, values)
    k = np.searchsorted(thresholds, v, side="left")  # first threshold >= v
    hist = np.bincount(k, minlength=len(thresholds) + 1)
    return np.cumsum(hist)[:-1].astype(np.float64)


@dataclass(frozen=True)
class FrameErrors:
    """Per-frame values after all of a protocol's rules.

    ``iou`` is -1 where a frame fails by rule (invalid GT, absent), ``err``/``nerr`` are -1 where
    a frame succeeds by rule and +inf where it fails by rule; ``counted`` is False for frames
    removed from numerator and denominator; ``denominator`` is what the curves divide by.
    """

    iou: np.ndarray
    err: np.ndarray
    nerr: np.ndarray
    counted: np.ndarray
    denominator: float


def _gt_edges(g: np.ndarray, style: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ground truth's right and bottom edges and area as :func:`_iou` uses them."""
    gx, gy, gw, gh = g
    if style == "pixel":
        return gx + gw - 1, gy + gh - 1, gw * gh
    return gx + gw, gy + gh, gw * gh


def _iou(p: np.ndarray, g: np.ndarray, style: str, edges=None) -> np.ndarray:
    """Frame-wise IoU of ``(4, M)`` column arrays (x, y, w, h rows); ``edges`` is
    :func:`_gt_edges` of ``g`` when already computed (the same values either way)."""
    px, py, pw, ph = p
    gx, gy = g[0], g[1]
    g_right, g_bottom, g_area = _gt_edges(g, style) if edges is None else edges
    with np.errstate(invalid="ignore", divide="ignore"):
        if style == "pixel":  # calc_rect_int.m / pytracking: right = x + w - 1, +1 on widths
            iw = np.maximum(0.0, np.minimum(px + pw - 1, g_right) - np.maximum(px, gx) + 1)
            ih = np.maximum(0.0, np.minimum(py + ph - 1, g_bottom) - np.maximum(py, gy) + 1)
            inter = iw * ih
            return inter / (pw * ph + g_area - inter)
        iw = np.maximum(0.0, np.minimum(px + pw, g_right) - np.maximum(px, gx))
        ih = np.maximum(0.0, np.minimum(py + ph, g_bottom) - np.maximum(py, gy))
        inter = iw * ih
        union = pw * ph + g_area - inter
        if style == "continuous-eps":
            union = union + _EPS
        return np.clip(inter / union, 0.0, 1.0)


def _centres(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Box centres as the toolkits write them: ``x + (w - 1) / 2``."""
    return b[0] + (b[2] - 1.0) / 2.0, b[1] + (b[3] - 1.0) / 2.0


def _norm_scale(cg, g: np.ndarray, style: str):
    """What normalises centres: ``(scale_x, scale_y)`` and the normalised GT centre (pysot's NPR
    validity test), from the ground truth alone."""
    cgx, cgy = cg
    gw, gh = g[2], g[3]
    with np.errstate(invalid="ignore", divide="ignore"):
        if style == "divide-difference-max1":
            sx, sy = np.maximum(1.0, gw), np.maximum(1.0, gh)
            return (sx, sy), (cgx / sx, cgy / sy)
        if style == "divide-centres-eps":
            gw, gh = gw + 1e-16, gh + 1e-16
        return (gw, gh), (cgx / gw, cgy / gh)


def _norm_error(cp, cg, g: np.ndarray, style: str, scale=None):
    """Normalised centre error and the normalised GT centre; ``scale`` is :func:`_norm_scale`."""
    (cpx, cpy), (cgx, cgy) = cp, cg
    (sx, sy), (ncgx, ncgy) = _norm_scale(cg, g, style) if scale is None else scale
    with np.errstate(invalid="ignore", divide="ignore"):
        if style == "divide-difference-max1":
            dx, dy = (cpx - cgx) / sx, (cpy - cgy) / sy
        else:
            dx, dy = cpx / sx - ncgx, cpy / sy - ncgy
        return np.sqrt(dx * dx + dy * dy), (ncgx, ncgy)


def _has_nan(b: np.ndarray) -> np.ndarray:
    return np.isnan(b[0]) | np.isnan(b[1]) | np.isnan(b[2]) | np.isnan(b[3])


def _invalid(rule: str, g: np.ndarray, centre) -> np.ndarray:
    if rule == "any-coord":
        return ~((g[0] > 0) & (g[1] > 0) & (g[2] > 0) & (g[3] > 0))
    if rule == "size":
        return ~((g[2] > 0) & (g[3] > 0))
    if rule == "center":
        return ~((centre[0] > 0) & (centre[1] > 0))
    return _has_nan(g)


def _align_absent(absent, n: int) -> np.ndarray:
    """Flags cut or padded (False) to ``n`` frames (TNL2K has a sequence with one extra flag)."""
    if absent is None:
        return np.zeros(n, dtype=bool)
    a = np.asarray(absent, dtype=bool).reshape(-1)
    if len(a) >= n:
        return a[:n]
    return np.concatenate([a, np.zeros(n - len(a), dtype=bool)])


def _prepare(pred, gt, absent, p: Protocol, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Rejection and length rules of one sequence: aligned (pred, gt, absent) and the number of
    real prediction rows (rows beyond it are zero padding, never repaired)."""
    label = f"sequence {name!r}: " if name else ""
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    if len(gt) == 0:
        raise EvaluationError(f"{label}the ground truth has no rows")
    if p.reject_predictions == "nan-or-negative-size":
        if np.isnan(pred).any() or (pred[:, 2:] < 0).any():
            raise SequenceRejected(f"{label}NaN or negative width/height in the prediction ({p.name} raises here)")
        if np.isnan(gt).any():
            raise SequenceRejected(f"{label}NaN in the ground truth ({p.name} raises here)")
    n_gt = len(gt)
    if len(pred) != n_gt:
        rule = p.length_mismatch
        if rule == "error":
            raise LengthMismatchError(f"{label}{len(pred)} predicted boxes for {n_gt} ground-truth rows ({p.name})")
        if rule == "truncate-both":
            n_gt = min(len(pred), n_gt)
            gt = gt[:n_gt]
            absent = None if absent is None else np.asarray(absent, dtype=bool)[:n_gt]
        elif len(pred) < n_gt and rule == "truncate-or-error":
            raise LengthMismatchError(
                f"{label}{len(pred)} predicted boxes for {n_gt} ground-truth rows: a result may be longer "
                f"(it is cut) but not shorter under {p.name}"
            )
    real = min(len(pred), n_gt)
    if len(pred) > n_gt:
        pred = pred[:n_gt]
    elif len(pred) < n_gt:  # truncate-or-pad: zero boxes, which fail
        pred = np.concatenate([pred, np.zeros((n_gt - len(pred), 4))])
    return pred, gt, _align_absent(absent, n_gt), real


@dataclass(frozen=True)
class _Frames:
    """Per-frame values of many sequences, concatenated; ``seq`` is each frame's sequence index."""

    iou: np.ndarray
    err: np.ndarray
    nerr: np.ndarray
    counted: np.ndarray
    in_denominator: np.ndarray
    seq: np.ndarray
    n_sequences: int


def _columns(arrays: list[np.ndarray], total: int) -> np.ndarray:
    """Stack ``(n_i, 4)`` arrays into one ``(4, total)`` array, one contiguous row per field."""
    out = np.empty((4, total))
    for j in range(4):
        np.concatenate([a[:, j] for a in arrays], out=out[j])
    return out


@dataclass(frozen=True)
class _Truth:
    """What the ground truth alone decides for the frames of a list of sequences: computed once
    per evaluation and shared by every tracker scored on the same sequences (read-only)."""

    gt: np.ndarray
    absent: np.ndarray
    lengths: np.ndarray
    starts: np.ndarray
    seq: np.ndarray
    gt_nan: np.ndarray
    edges: tuple
    centre: tuple
    scale: tuple
    iou_invalid: np.ndarray
    center_invalid: tuple


def _truth(prepared: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]], p: Protocol) -> _Truth:
    lengths = np.array([len(g) for _, g, _, _ in prepared])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    gt = _columns([x[1] for x in prepared], int(lengths.sum()))
    absent = np.concatenate([x[2] for x in prepared])
    seq = np.repeat(np.arange(len(prepared)), lengths)
    cg = _centres(gt)
    scale = _norm_scale(cg, gt, p.norm_style)
    iou_invalid = _invalid(p.iou_invalid_gt, gt, cg)
    if p.center_invalid_gt == p.iou_invalid_gt:  # same rule: same rows
        center_invalid = (iou_invalid, iou_invalid)
    else:
        center_invalid = (_invalid(p.center_invalid_gt, gt, cg), _invalid(p.center_invalid_gt, gt, scale[1]))
    truth = _Truth(gt, absent, lengths, starts, seq, _has_nan(gt), _gt_edges(gt, p.iou_style), cg, scale,
                   iou_invalid, center_invalid)
    for value in (gt, absent, seq, truth.gt_nan, iou_invalid, *center_invalid, *truth.edges, *cg, *scale[0], *scale[1]):
        value.flags.writeable = False  # shared by every tracker: a write would be a bug, make it raise
    return truth


def _frames(prepared: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]], p: Protocol, truth: _Truth | None = None) -> _Frames:
    """Every per-frame rule, vectorised over all frames of all sequences at once.

    Boxes are handled as ``(4, M)`` column arrays so that every operation runs on contiguous
    1-D arrays (row-wise reductions over 4 columns are several times slower in numpy).
    ``truth`` is :func:`_truth` of the same ``prepared`` ground truths when already computed.
    """
    t = _truth(prepared, p) if truth is None else truth
    lengths, starts, gt, absent, seq = t.lengths, t.starts, t.gt, t.absent, t.seq
    pred = _columns([x[0] for x in prepared], int(lengths.sum()))
    m = gt.shape[1]

    if p.repair != "none":
        w, h = pred[2], pred[3]
        if p.repair == "previous":  # L: NaN, w<=0 or h<=0 (NaN fails "> 0")
            bad = ~(w > 0) | ~(h > 0) | np.isnan(pred[0]) | np.isnan(pred[1])
        else:  # P/S: zero width or height
            bad = (w == 0) | (h == 0)
        repairable = bad & ~t.gt_nan
        repairable[starts] = False  # the toolkits' loops start at frame 2
        if any(x[3] < len(x[1]) for x in prepared):  # zero padding is added after the repair (P/S)
            offset = np.arange(m) - np.repeat(starts, lengths)
            repairable &= offset < np.repeat([x[3] for x in prepared], lengths)
        if repairable.any():
            source = np.where(repairable, 0, np.arange(m))
            pred = pred[:, np.maximum.accumulate(source)]  # forward fill: last non-repaired row
    if p.first_frame == "overwrite":  # ``pred`` is already a fresh array (stacked or gathered)
        pred[:, starts] = gt[:, starts]

    counted = np.ones(m, dtype=bool)
    if p.first_frame == "exclude":
        counted[starts] = False

    iou = _iou(pred, gt, p.iou_style, t.edges)
    cp, cg = _centres(pred), t.centre
    with np.errstate(invalid="ignore"):
        dx, dy = cp[0] - cg[0], cp[1] - cg[1]
        err = np.sqrt(dx * dx + dy * dy)
    nerr, _ = _norm_error(cp, cg, gt, p.norm_style, t.scale)

    iou_invalid = t.iou_invalid
    if p.iou_invalid_gt == "nan":
        counted &= ~iou_invalid
    else:
        iou[iou_invalid] = -1.0
    for values, invalid, outcome in ((err, t.center_invalid[0], p.invalid_pr), (nerr, t.center_invalid[1], p.invalid_npr)):
        if outcome == "exclude":
            counted &= ~invalid
        else:
            values[invalid] = -1.0 if outcome == "success" else np.inf
    valid = ~iou_invalid

    if p.use_absent_flags and absent.any():
        if p.absent == "exclude":
            counted &= ~absent
        elif p.absent in ("fail", "npr-success"):
            iou[absent] = -1.0
            err[absent] = np.inf
            nerr[absent] = np.inf if p.absent == "fail" else -1.0
        valid &= ~absent

    in_denominator = counted & valid if p.denominator == "valid" else counted
    return _Frames(iou, err, nerr, counted, in_denominator, seq, len(prepared))


def frame_errors(pred, gt, absent=None, protocol: Protocol | None = None, name: str = "") -> FrameErrors:
    """Apply every per-frame rule of ``protocol`` to one sequence's predictions.

    ``pred`` and ``gt`` are ``(N, 4)`` xywh arrays; ``absent`` a bool array (True = absent) or
    None. Raises :class:`SequenceRejected` or :class:`LengthMismatchError` as the protocol says.
    """
    from .protocols import LASOT_MATLAB

    p = protocol or LASOT_MATLAB
    f = _frames([_prepare(pred, gt, absent, p, name)], p)
    return FrameErrors(f.iou, f.err, f.nerr, f.counted, float(f.in_denominator.sum()))


def _uniform_step(thresholds: np.ndarray) -> float | None:
    """The step of an evenly spaced, increasing grid (every point within a quarter step of
    ``t0 + i * step``), else None."""
    t = len(thresholds)
    if t < 2 or not np.all(np.isfinite(thresholds)):
        return None
    step = (float(thresholds[-1]) - float(thresholds[0])) / (t - 1)
    if not step > 0 or np.any(np.diff(thresholds) <= 0):
        return None
    ideal = thresholds[0] + np.arange(t) * step
    return step if np.max(np.abs(thresholds - ideal)) < step / 4 else None


def threshold_index(thresholds: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.searchsorted(thresholds, values, side="left")`` (how many thresholds are < v; NaN ->
    len), exactly, in a few array passes instead of a binary search when the grid is even.

    On an even grid the arithmetic guess ``ceil((v - t0) / step)`` is at most one off (a point
    lies within a quarter step of ``t0 + i * step``); one comparison with the real thresholds on
    each side makes it exact, so values exactly on a threshold, NaN and +-inf give searchsorted's
    answer (tests/evaluation/test_eval_metrics.py compares both on such values).
    """
    step = _uniform_step(thresholds)
    t = len(thresholds)
    if step is None or values.ndim != 1:
        return np.searchsorted(thresholds, values, side="left")
    with np.errstate(invalid="ignore", over="ignore"):
        guess = (values - thresholds[0]) * (1.0 / step)
        np.ceil(guess, out=guess)
        np.clip(guess, 0, t, out=guess)
    guess[np.isnan(guess)] = t  # NaN sorts last
    k = guess.astype(np.intp)
    below = np.concatenate([[-np.inf], thresholds])  # below[k] = thresholds[k - 1]
    at = np.concatenate([thresholds, [np.inf]])  # at[k] = thresholds[k]
    k -= (below[k] >= values) & (k > 0)  # guess one too high: thresholds[k-1] is not < v (-inf: k stays 0)
    k += at[k] < values  # guess one too low: thresholds[k] is still < v
    return k


def _grouped_counts(values: np.ndarray, seq: np.ndarray, n: int, thresholds: np.ndarray, above: bool) -> np.ndarray:
    """Per-sequence ``count(v > t)`` (``above``) or ``count(v <= t)`` for every threshold.

    ``k`` is the number of thresholds below ``v`` (``side="left"``): ``v > t_i`` iff ``i < k``
    and ``v <= t_i`` iff ``i >= k``; one ``bincount`` over ``(sequence, k)`` gives every count.
    """
    t = len(thresholds)
    if not above and np.array_equal(thresholds, np.arange(t)):
        # integer grid 0..t-1 (pixels): the first threshold >= v is ceil(v), exactly; NaN -> t
        k = np.nan_to_num(np.clip(np.ceil(values), 0, t), nan=t).astype(np.intp)
    else:
        # numpy sorts NaN last: k = t, never "<=" any threshold; for ">" NaN must count nowhere
        k = threshold_index(thresholds, values)
        if above:
            k[np.isnan(values)] = 0
    hist = np.bincount(seq * (t + 1) + k, minlength=n * (t + 1)).reshape(n, t + 1)
    if above:
        return np.cumsum(hist[:, ::-1], axis=1)[:, ::-1][:, 1:].astype(np.float64)
    return np.cumsum(hist, axis=1)[:, :-1].astype(np.float64)


@dataclass(frozen=True)
class SequenceCurves:
    """One sequence's counts over each threshold grid and the denominator they divide by."""

    success_counts: np.ndarray
    precision_counts: np.ndarray
    norm_precision_counts: np.ndarray
    denominator: float

    def _curve(self, counts: np.ndarray) -> np.ndarray:
        if self.denominator <= 0:
            return np.zeros_like(counts)
        return counts / self.denominator

    @property
    def success(self) -> np.ndarray:
        return self._curve(self.success_counts)

    @property
    def precision(self) -> np.ndarray:
        return self._curve(self.precision_counts)

    @property
    def norm_precision(self) -> np.ndarray:
        return self._curve(self.norm_precision_counts)

    @classmethod
    def zero(cls, protocol: Protocol) -> "SequenceCurves":
        """The all-zero curve L keeps for an empty result file (then dropped from the mean)."""
        return cls(np.zeros(protocol.success_points), np.zeros(51), np.zeros(51), 0.0)


def batch_curves(
    items: Iterable[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]],
    protocol: Protocol,
    shared: dict | None = None,
) -> tuple[dict[str, SequenceCurves], dict[str, str]]:
    """Curves of many sequences ``(name, pred, gt, absent)`` in one vectorised pass.

    Returns the curves of every scored sequence and ``{name: reason}`` for the sequences the
    protocol rejects (P/S). Length errors raise :class:`LengthMismatchError`.

    ``shared``: a dict the caller keeps for one evaluation, where a sequence name always means the
    same ground truth and flags (several trackers on one benchmark): what the ground truth alone
    decides is computed once per chunk of sequences and reused (same numbers, less work).
    """
    p = protocol
    prepared, names, curves, rejected = [], [], {}, {}
    for name, pred, gt, absent in items:
        pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
        if len(pred) == 0 and p.empty_result_zero_curve:
            curves[name] = SequenceCurves.zero(p)
            continue
        try:
            prepared.append(_prepare(pred, gt, absent, p, name))
        except SequenceRejected as exc:
            rejected[name] = str(exc)
            continue
        names.append(name)
    # Sequences are scored in chunks of about CHUNK_FRAMES frames: the same vectorised code, but
    # its temporaries stay in the CPU cache (about 1.5x faster than one pass over everything).
    start = 0
    while start < len(prepared):
        stop, frames = start, 0
        while stop < len(prepared) and (frames < CHUNK_FRAMES or stop == start):
            frames += len(prepared[stop][1])
            stop += 1
        chunk = prepared[start:stop]
        truth = None
        if shared is not None:
            key = (p, tuple(names[start:stop]), tuple(len(x[1]) for x in chunk))
            truth = shared.get(key)
            if truth is None:
                truth = shared[key] = _truth(chunk, p)
        _score_chunk(chunk, names[start:stop], p, curves, truth)
        start = stop
    return curves, rejected



def _score_chunk(prepared, names: list[str], p: Protocol, out: dict[str, SequenceCurves], truth=None) -> None:
    f = _frames(prepared, p, truth)
    n = f.n_sequences
    den = np.bincount(f.seq[f.in_denominator], minlength=n).astype(np.float64)
    empty = np.flatnonzero(den <= 0)
    if len(empty):
        raise EvaluationError(f"sequence {names[empty[0]]!r}: no frame left to score under {p.name}")
    if f.counted.all():
        iou, err, nerr, seq = f.iou, f.err, f.nerr, f.seq
    else:
        c = f.counted
        iou, err, nerr, seq = f.iou[c], f.err[c], f.nerr[c], f.seq[c]
    s = _grouped_counts(iou, seq, n, p.success_thresholds, above=True)
    pr = _grouped_counts(err, seq, n, p.precision_thresholds, above=False)
    npr = _grouped_counts(nerr, seq, n, p.norm_precision_thresholds, above=False)
    for i, name in enumerate(names):
        out[name] = SequenceCurves(s[i], pr[i], npr[i], float(den[i]))


def sequence_curves(pred, gt, absent=None, protocol: Protocol | None = None, name: str = "") -> SequenceCurves:
    """Success / precision / normalised-precision counts of one sequence under ``protocol``.

    Raises :class:`SequenceRejected` where the protocol refuses the sequence.
    """
    from .protocols import LASOT_MATLAB

    p = protocol or LASOT_MATLAB
    curves, rejected = batch_curves([(name, pred, gt, absent)], p)
    if name in rejected:
        raise SequenceRejected(rejected[name])
    return curves[name]


@dataclass(frozen=True)
class Scores:
    """Reported values in percent, and the averaged curves (fractions) they were read from."""

    PR: float
    NPR: float
    SR: float
    success: np.ndarray
    precision: np.ndarray
    norm_precision: np.ndarray
    n_sequences: int

    def as_dict(self) -> dict[str, float]:
        return {"PR": self.PR, "NPR": self.NPR, "SR": self.SR}


def _average(curves: np.ndarray, counts: np.ndarray, denominators: np.ndarray, aggregation: str) -> np.ndarray:
    if aggregation == "pooled":
        total = denominators.sum()
        return counts.sum(axis=0) / total if total > 0 else np.zeros(curves.shape[1])
    if aggregation == "mean-drop-zero":
        curves = curves[curves.sum(axis=1) > _EPS]
    if len(curves) == 0:
        return np.zeros(counts.shape[1])
    return curves.mean(axis=0)


@dataclass(frozen=True)
class CurveTable:
    """Many sequences' curves stacked once (rows in sequence order), for fast aggregation over
    any subset: overall, per attribute, per sequence."""

    success_counts: np.ndarray
    precision_counts: np.ndarray
    norm_precision_counts: np.ndarray
    denominators: np.ndarray

    @classmethod
    def stack(cls, items: Iterable[SequenceCurves], protocol: Protocol) -> "CurveTable":
        items = list(items)
        if not items:
            return cls(np.zeros((0, protocol.success_points)), np.zeros((0, 51)), np.zeros((0, 51)), np.zeros(0))
        return cls(
            np.stack([s.success_counts for s in items]),
            np.stack([s.precision_counts for s in items]),
            np.stack([s.norm_precision_counts for s in items]),
            np.array([s.denominator for s in items], dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.denominators)

    def mean_curves(self, protocol: Protocol, rows=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Averaged success, precision and normalised-precision curves of ``rows`` (all if None)."""
        sel = slice(None) if rows is None else rows
        den = self.denominators[sel]
        out = []
        for counts in (self.success_counts, self.precision_counts, self.norm_precision_counts):
            c = counts[sel]
            if len(c) == 0:
                out.append(np.zeros(counts.shape[1]))
                continue
            out.append(_average(_fractions_of(c, den), c, den, protocol.aggregation))
        return out[0], out[1], out[2]

    def scores(self, protocol: Protocol, rows=None) -> "Scores":
        s, p, n = self.mean_curves(protocol, rows)
        count = len(self) if rows is None else len(self.denominators[rows])
        return scores_from_curves(s, p, n, protocol, count)

    def row_scores(self, protocol: Protocol) -> list["Scores"]:
        """Each row's own scores (a sequence's PR/NPR/SR)."""
        su, pr, npr = (
            _fractions_of(c, self.denominators)
            for c in (self.success_counts, self.precision_counts, self.norm_precision_counts)
        )
        return [scores_from_curves(su[i], pr[i], npr[i], protocol, 1) for i in range(len(self))]


def _fractions_of(counts: np.ndarray, denominators: np.ndarray) -> np.ndarray:
    """``counts / denominator`` per row, zero rows where the denominator is 0 (empty results)."""
    den = denominators[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, counts / np.where(den > 0, den, 1.0), 0.0)


def mean_curves(items: Iterable[SequenceCurves], protocol: Protocol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Averaged success, precision and normalised-precision curves under the protocol's rule."""
    return CurveTable.stack(items, protocol).mean_curves(protocol)


def _read(curve: np.ndarray, rule: str, index: int) -> float:
    return float(curve.mean() if rule == "mean" else curve[index]) * 100.0


def scores_from_curves(
    success: np.ndarray, precision: np.ndarray, norm_precision: np.ndarray, protocol: Protocol, n_sequences: int
) -> Scores:
    """Read PR, NPR and SR (percent) off averaged curves as the protocol reports them."""
    return Scores(
        PR=_read(precision, protocol.pr_report, protocol.PR_INDEX),
        NPR=_read(norm_precision, protocol.npr_report, protocol.NPR_INDEX),
        SR=float(success.mean()) * 100.0,
        success=success,
        precision=precision,
        norm_precision=norm_precision,
        n_sequences=n_sequences,
    )


def aggregate(items: Mapping[str, SequenceCurves] | Iterable[SequenceCurves], protocol: Protocol) -> Scores:
    """Scores over a set of sequences (overall, or one attribute's subset)."""
    values = list(items.values()) if isinstance(items, Mapping) else list(items)
    return CurveTable.stack(values, protocol).scores(protocol)


__all__ += ["aggregate", "CurveTable"]
