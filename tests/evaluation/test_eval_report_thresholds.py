"""TNL2K reports: the toolkit's values (curve means) and, labelled, PR@20px / NPR@0.20 (issue 9)."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console

from reasoningtrack.evaluation import evaluate_trackers


def test_tnl2k_report_shows_toolkit_means_and_threshold_values(tnl2k_sequences):
    sequences = tnl2k_sequences[:30]
    rng = np.random.default_rng(0)
    noisy = {}
    for seq in sequences:
        boxes = seq.ground_truth.copy()
        boxes[:, :2] += rng.normal(0, 0.15, (len(boxes), 2)) * boxes[:, 2:]  # shifted by ~15% of the size
        noisy[seq.name] = boxes
    toolkit = evaluate_trackers(sequences, {"noisy": noisy}, "tnl2k-matlab")
    lasot = evaluate_trackers(sequences, {"noisy": noisy}, "lasot-matlab")  # the same per-frame code, values at thresholds
    overall = toolkit.to_dict()["trackers"]["noisy"]["overall"]
    t, l = toolkit.trackers["noisy"].overall, lasot.trackers["noisy"].overall
    assert overall["PR"] == t.PR == np.mean(t.precision) * 100  # the toolkit's PR: mean of the 0..50 px curve
    assert overall["PR@20px"] == l.PR and overall["NPR@0.20"] == l.NPR
    assert abs(overall["PR@20px"] - overall["PR"]) > 1  # the two readings really differ here
    out = io.StringIO()
    Console(file=out, width=200).print(toolkit.table())
    text = out.getvalue()
    assert "PR (mean 0-50px)" in text and "NPR (mean 0-0.5)" in text and "PR@20px" in text and "NPR@0.20" in text
    assert "PR@20px" not in lasot.to_dict()["trackers"]["noisy"]["overall"]  # LaSOT reports thresholds already
