"""Named evaluation protocols: the rules each official toolkit really applies.

Published PR / NPR / SR numbers differ between toolkits not because of the formulas (all use the
same IoU and centre error up to the MATLAB ``+1/-1`` pixel arithmetic) but because of a dozen small
rules: whether frame 1 is overwritten by the ground truth, what an absent frame or an invalid
ground-truth box counts as, how a bad prediction is repaired, what the denominator is, which
sequences enter the mean and which point of which curve is reported. Each :class:`Protocol` is a
frozen record of those rules; ``docs/evaluation.md`` has the same table for users. Sources are
the toolkits' code, named per rule in that table (L = LaSOT MATLAB toolkit,
T = TNL2K MATLAB toolkit, V = TNLLT MATLAB code, P = pytracking, S = STARK/OSTrack/JointNLT/UVLTrack,
Y = pysot-toolkit, G = got10k-toolkit).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal

import numpy as np

__all__ = [
    "Protocol",
    "ProtocolError",
    "PROTOCOLS",
    "DEFAULT_PROTOCOLS",
    "get_protocol",
    "default_protocol",
    "protocol_names",
]


class ProtocolError(ValueError):
    """An unknown protocol name or an impossible rule combination."""


FirstFrame = Literal["overwrite", "keep", "exclude"]
AbsentRule = Literal["fail", "npr-success", "exclude", "ignore"]
InvalidGT = Literal["any-coord", "size", "center", "nan"]
Outcome = Literal["success", "fail", "exclude"]
Repair = Literal["previous", "previous-zero-size", "none"]
Reject = Literal["none", "nan-or-negative-size"]
Length = Literal["truncate-or-error", "truncate-or-pad", "truncate-both", "error"]
Denominator = Literal["all", "valid"]
Aggregation = Literal["mean", "mean-drop-zero", "pooled"]
Reported = Literal["at-threshold", "mean"]
IoUStyle = Literal["pixel", "continuous", "continuous-eps"]
NormStyle = Literal["divide-centres", "divide-centres-eps", "divide-difference-max1"]


@dataclass(frozen=True)
class Protocol:
    """The complete rule set of one toolkit; see the module docstring and docs/evaluation.md.

    Per-frame values: IoU (success when ``IoU > thr``), centre error and normalised centre error
    (success when ``err <= thr``). Rules, applied in this order:

    * ``reject_predictions`` -- ``nan-or-negative-size``: a prediction with a NaN or a negative
      width/height anywhere (or a ground truth with a NaN) makes the sequence unscorable for that
      tracker (P/S raise an exception); it is reported, not averaged.
    * ``length_mismatch`` -- a longer prediction is always cut to the ground truth except under
      ``error``; a shorter one: ``truncate-or-error`` raises, ``truncate-or-pad`` pads with
      zero boxes after repair (they fail), ``truncate-both`` cuts the ground truth too.
    * ``repair`` -- ``previous``: a row with a NaN, w<=0 or h<=0 takes the previous frame's
      (repaired) prediction, only where the ground-truth row has no NaN, from frame 2 on (L);
      ``previous-zero-size``: the same for w==0 or h==0 only (P/S).
    * ``first_frame`` -- ``overwrite`` with the ground truth (counted), ``keep`` as predicted,
      or ``exclude`` from numerator and denominator (GOT-10k).
    * invalid ground truth -- ``iou_invalid_gt`` / ``center_invalid_gt`` say which rows are
      invalid (``any-coord``: any of x,y,w,h <= 0; ``size``: w<=0 or h<=0; ``center``: a
      (normalised) GT centre coordinate <= 0; ``nan``: a NaN row) and ``invalid_pr`` /
      ``invalid_npr`` what such a frame counts as (IoU of an invalid frame always fails, or is
      excluded under ``nan``).
    * absent frames (only where ``use_absent_flags``) -- ``fail``: fail SR, PR and NPR and stay
      in the denominator; ``npr-success``: fail SR and PR, succeed NPR; ``exclude``: removed;
      ``ignore``: scored like any frame. Absent overrides invalid.
    * ``denominator`` -- ``all`` non-excluded frames or only ``valid`` (GT valid and visible).
    * ``aggregation`` -- ``mean`` of per-sequence curves, ``mean-drop-zero`` (sequences whose
      curve sums to <= eps are dropped, per curve, as L's ``plot_draw_save.m`` does), or
      ``pooled`` frames of all sequences (GOT-10k).
    * reported values -- ``pr_report`` / ``npr_report``: the value at 20 px / 0.20
      (``at-threshold``) or the mean of the curve; SR is always the curve mean (AUC).

    ``dataset_overrides`` holds per-benchmark variations of the same toolkit (pytracking treats
    LaSOT differently from every other dataset); :meth:`for_dataset` applies them.
    """

    name: str
    description: str
    first_frame: FirstFrame = "overwrite"
    use_absent_flags: bool = True
    absent: AbsentRule = "fail"
    iou_invalid_gt: InvalidGT = "any-coord"
    center_invalid_gt: InvalidGT = "any-coord"
    invalid_pr: Outcome = "success"
    invalid_npr: Outcome = "success"
    repair: Repair = "previous"
    reject_predictions: Reject = "none"
    length_mismatch: Length = "truncate-or-error"
    empty_result_zero_curve: bool = False
    denominator: Denominator = "all"
    aggregation: Aggregation = "mean"
    pr_report: Reported = "at-threshold"
    npr_report: Reported = "at-threshold"
    iou_style: IoUStyle = "pixel"
    norm_style: NormStyle = "divide-centres"
    success_points: int = 21
    npr_grid: Literal["division", "linspace"] = "division"
    dataset_overrides: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = ()

    def __post_init__(self):
        if self.success_points < 2:
            raise ProtocolError(f"{self.name}: success_points must be >= 2")

    # -- threshold grids ---------------------------------------------------------------------
    @property
    def success_thresholds(self) -> np.ndarray:
        """IoU thresholds: 0:0.05:1 (21 points; MATLAB's colon = i*step) or GOT-10k's 101."""
        n = self.success_points
        if n == 21:
            return np.arange(21) * 0.05
        return np.linspace(0.0, 1.0, n)

    @property
    def precision_thresholds(self) -> np.ndarray:
        """Centre-error thresholds 0..50 px (51 points); PR is read at 20 px."""
        return np.arange(51, dtype=np.float64)

    @property
    def norm_precision_thresholds(self) -> np.ndarray:
        """0:0.01:0.5 as each toolkit writes it: ``(0:50)/100`` or G's ``linspace(0, 0.5, 51)``."""
        if self.npr_grid == "linspace":
            return np.linspace(0.0, 0.5, 51)
        return np.arange(51, dtype=np.float64) / 100.0

    PR_INDEX = 20  # 20 px
    NPR_INDEX = 20  # 0.20

    def for_dataset(self, dataset: str | None) -> "Protocol":
        """This protocol with its per-benchmark variations applied (names as in ``DATASETS``)."""
        if not dataset:
            return self
        key = dataset.lower().replace("_", "-")
        for name, changes in self.dataset_overrides:
            if name == key:
                return replace(self, **dict(changes))
        return self

    def rules(self) -> dict[str, object]:
        """The rules as a plain dict (for reports and docs)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("description",)}


_L_RULES = dict(
    first_frame="overwrite",
    use_absent_flags=True,
    absent="fail",
    iou_invalid_gt="any-coord",
    center_invalid_gt="any-coord",
    invalid_pr="success",
    invalid_npr="success",
    repair="previous",
    reject_predictions="none",
    length_mismatch="truncate-or-error",
    empty_result_zero_curve=True,
    denominator="all",
    aggregation="mean-drop-zero",
    iou_style="pixel",
    norm_style="divide-centres",
)

LASOT_MATLAB = Protocol(
    name="lasot-matlab",
    description="LaSOT MATLAB toolkit (HengLan/LaSOT_Evaluation_Toolkit): PR at 20 px, NPR at 0.20",
    pr_report="at-threshold",
    npr_report="at-threshold",
    **_L_RULES,
)
"""L. Frame 1 = GT; absent frames deleted with the denominator kept at N (so they fail); a GT
row with any of x,y,w,h <= 0 gives IoU -1 and centre error -1 (a PR/NPR success at every
threshold); a NaN / w<=0 / h<=0 prediction takes the previous frame's; an empty result file
gives a zero curve and zero curves are dropped from the mean; reported PR@20px, NPR@0.20."""

TNL2K_MATLAB = Protocol(
    name="tnl2k-matlab",
    description="TNL2K MATLAB toolkit (Evaluate_TNL2K_dataset.m): L's per-frame code, PR and NPR are curve means",
    pr_report="mean",
    npr_report="mean",
    **_L_RULES,
)
"""T. Per-frame code identical to L; the toolkit ranks with ``ranking_type='AUC'`` so its PR is
the mean of the 0..50 px curve and its NPR the mean over 0..0.5."""

TNLLT_MATLAB = Protocol(
    name="tnllt-matlab",
    description="TNLLT MATLAB code (Open_VLTrack DPU_VLT/matlabeval): L with an inverted flag file",
    pr_report="at-threshold",
    npr_report="at-threshold",
    **_L_RULES,
)
"""V. L's code, except that V deletes frames whose flag is 0 (its ``absent_label.txt`` says 1 =
present). The TNLLT loader inverts that file, so ``Sequence.absent`` already means absent and
the rules here are L's."""

_PS_COMMON = dict(
    first_frame="overwrite",
    use_absent_flags=True,
    absent="npr-success",
    invalid_pr="fail",
    invalid_npr="success",
    repair="previous-zero-size",
    reject_predictions="nan-or-negative-size",
    length_mismatch="truncate-or-pad",
    denominator="all",
    aggregation="mean",
    pr_report="at-threshold",
    npr_report="at-threshold",
    iou_style="pixel",
    norm_style="divide-centres",
)
_PS_LASOT = (("absent", "fail"), ("length_mismatch", "truncate-or-error"))

PYTRACKING = Protocol(
    name="pytracking",
    description="pytracking analysis (extract_results.py): invalid GT = any coord <= 0",
    iou_invalid_gt="any-coord",
    center_invalid_gt="any-coord",
    dataset_overrides=(("lasot", _PS_LASOT),),
    **_PS_COMMON,
)
"""P. NaN or negative w/h in a prediction: the sequence is rejected; zero w/h: previous frame.
Invalid GT (any of x,y,w,h <= 0): IoU fail, PR fail (+Inf), NPR success (-1). LaSOT: invisible
frames fail all three and a shorter result is an error; other datasets with a visibility flag:
invisible frames succeed in NPR, and a shorter result is zero-padded."""

PYTRACKING_VALID = replace(
    PYTRACKING,
    name="pytracking-valid",
    description="pytracking with exclude_invalid_frames=True: denominator = valid frames",
    denominator="valid",
)
"""P with ``exclude_invalid_frames=True``: the denominator counts only valid (GT w,h > 0 and
visible) frames, while invalid frames still count in the numerator as P scores them."""

STARK = Protocol(
    name="stark",
    description="STARK/OSTrack/JointNLT/UVLTrack extract_results.py: invalid GT = w<=0 or h<=0",
    iou_invalid_gt="size",
    center_invalid_gt="size",
    dataset_overrides=(
        ("lasot", _PS_LASOT + (("use_absent_flags", True),)),
        ("lasot-ext", (("use_absent_flags", True),)),
    ),
    **{**_PS_COMMON, "use_absent_flags": False},
)
"""S. As P, but only w<=0 or h<=0 makes a GT row invalid (x,y <= 0 is a normal frame), and the
TNL2K / OTB99 loaders pass no visibility, so there absent rows (GT 0,0,0,0) are simply invalid:
SR fail, PR fail, NPR success. LaSOT and LaSOT-ext do pass visibility."""

PYSOT = Protocol(
    name="pysot",
    description="pysot-toolkit ope_benchmark.py: no frame-1 overwrite, no repair",
    first_frame="keep",
    use_absent_flags=True,
    absent="fail",
    iou_invalid_gt="any-coord",
    center_invalid_gt="center",
    invalid_pr="success",
    invalid_npr="success",
    repair="none",
    reject_predictions="none",
    length_mismatch="truncate-or-error",
    denominator="all",
    aggregation="mean",
    pr_report="at-threshold",
    npr_report="at-threshold",
    iou_style="continuous",
    norm_style="divide-centres-eps",
)
"""Y. Frame 1 as predicted; frames are kept only where the target is visible (denominator N);
IoU -1 where any GT coordinate <= 0, IoU clipped to [0, 1]; PR/NPR -1 (success) where a GT
centre coordinate <= 0 (normalised centre for NPR); NaN predictions simply fail. A longer
result is cut (pysot does it for monkey-17), a shorter one is an error."""

GOT10K_LASOT = Protocol(
    name="got10k-lasot",
    description="got10k-toolkit ExperimentLaSOT/OTB: NaN GT rows dropped, denominator = valid frames",
    first_frame="overwrite",
    use_absent_flags=False,
    absent="ignore",
    iou_invalid_gt="nan",
    center_invalid_gt="nan",
    invalid_pr="exclude",
    invalid_npr="exclude",
    repair="none",
    reject_predictions="none",
    length_mismatch="truncate-both",
    denominator="all",
    aggregation="mean",
    pr_report="at-threshold",
    npr_report="mean",
    iou_style="continuous-eps",
    norm_style="divide-difference-max1",
    npr_grid="linspace",
)
"""G on LaSOT/OTB. Absent frames are scored like any frame; only NaN GT rows are removed (from
the denominator too); IoU clipped to [0, 1] with eps in the union; normalised error divides by
max(1, w_gt), max(1, h_gt); both arrays cut to the shorter; NPR = mean over linspace(0, 0.5, 51)."""

GOT10K = Protocol(
    name="got10k",
    description="got10k-toolkit ExperimentGOT10k: frame 1 and absent frames excluded, frames pooled",
    first_frame="exclude",
    use_absent_flags=True,
    absent="exclude",
    iou_invalid_gt="nan",
    center_invalid_gt="nan",
    invalid_pr="exclude",
    invalid_npr="exclude",
    repair="none",
    reject_predictions="none",
    length_mismatch="error",
    denominator="all",
    aggregation="pooled",
    pr_report="at-threshold",
    npr_report="mean",
    iou_style="continuous-eps",
    norm_style="divide-difference-max1",
    success_points=101,
    npr_grid="linspace",
)
"""G on GOT-10k. Frame 1 excluded; frames with cover == 0 (absent) removed; all frames of all
sequences pooled: SR = mean of the 101-point curve (~ AO); result and GT lengths must agree.
G reports only AO/SR for GOT-10k; PR/NPR here apply G's LaSOT formulas to the pooled frames."""

PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (LASOT_MATLAB, TNL2K_MATLAB, TNLLT_MATLAB, PYTRACKING, PYTRACKING_VALID, STARK, PYSOT, GOT10K_LASOT, GOT10K)
}
"""Every named protocol."""

DEFAULT_PROTOCOLS: dict[str, str] = {
    "lasot": "lasot-matlab",
    "lasot-ext": "lasot-matlab",
    "tnl2k": "tnl2k-matlab",
    "tnllt": "tnllt-matlab",
    "synthetic": "tnllt-matlab",
    "otb-lang": "lasot-matlab",
    "otb": "lasot-matlab",
    "got10k": "got10k",
    "folder": "lasot-matlab",
}
"""Each benchmark's official protocol. OTB's own MATLAB benchmark has the same per-frame rules as
L (frame 1 = GT, previous-frame repair, invalid GT = -1) and no absent flags, so OTB-Lang uses L."""


def protocol_names() -> list[str]:
    return list(PROTOCOLS)


def get_protocol(protocol: str | Protocol, dataset: str | None = None) -> Protocol:
    """A protocol by name (or as given), with ``dataset``'s variations applied."""
    if isinstance(protocol, Protocol):
        proto = protocol
    else:
        key = protocol.lower().replace("_", "-")
        if key not in PROTOCOLS:
            raise ProtocolError(f"unknown protocol {protocol!r}; available: {', '.join(PROTOCOLS)}")
        proto = PROTOCOLS[key]
    return proto.for_dataset(dataset)


def default_protocol(dataset: str | None) -> Protocol:
    """The official protocol of ``dataset`` (``lasot-matlab`` for an unknown benchmark)."""
    key = (dataset or "").lower().replace("_", "-")
    return get_protocol(DEFAULT_PROTOCOLS.get(key, "lasot-matlab"), key or None)
