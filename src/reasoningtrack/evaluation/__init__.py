"""Evaluation: raw result files, the toolkits' metric protocols, reports and plots.

``evaluate_trackers(dataset, {"ATOM": "results/ATOM"})`` scores trackers on a benchmark under
its official protocol (``lasot-matlab``, ``tnl2k-matlab``, ...; see ``PROTOCOLS``) and returns a
:class:`Report` (rich table, CSV, the stable JSON document). Heavy parts (matplotlib) load only
when plots are drawn.
"""

from .evaluate import evaluate_trackers, load_results, score_tracker
from .metrics import (
    CurveTable,
    EvaluationError,
    FrameErrors,
    LengthMismatchError,
    Scores,
    SequenceCurves,
    SequenceRejected,
    aggregate,
    batch_curves,
    frame_errors,
    sequence_curves,
)
from .protocols import DEFAULT_PROTOCOLS, PROTOCOLS, Protocol, ProtocolError, default_protocol, get_protocol
from .report import Report, TrackerReport

__all__ = [
    "evaluate_trackers",
    "load_results",
    "score_tracker",
    "CurveTable",
    "EvaluationError",
    "FrameErrors",
    "LengthMismatchError",
    "Scores",
    "SequenceCurves",
    "SequenceRejected",
    "aggregate",
    "batch_curves",
    "frame_errors",
    "sequence_curves",
    "DEFAULT_PROTOCOLS",
    "PROTOCOLS",
    "Protocol",
    "ProtocolError",
    "default_protocol",
    "get_protocol",
    "Report",
    "TrackerReport",
]
