"""Run then evaluate: score a finished benchmark run with its benchmark's official protocol.

Why here: the runner (pipeline) produces result files and knows nothing of metrics; the evaluation
scores result folders and knows nothing of runs. Joining the two is the command's job.
"""

from __future__ import annotations

import json

from ..evaluation import evaluate_trackers
from ..fileio import atomic_write_text, jsonable
from ..pipeline.runner import BenchmarkRunner, load_dataset

__all__ = ["evaluate_run", "REPORT_FILE"]

REPORT_FILE = "report.json"


def evaluate_run(runner: BenchmarkRunner) -> dict:
    """Score the sequences ``runner`` completed here with the benchmark's official protocol and
    write ``report.json`` (scores, the sequences, and what the reasoner did) into its folder."""
    config = runner.config
    dataset = load_dataset(config)
    names = [o.name for o in runner.outcomes if o.ok and o.elsewhere is None]
    folders = {runner.tracker_label: runner.plan.result_file(names[0]).parent} if names else {}
    report = evaluate_trackers(dataset.select(names), folders, benchmark=config.dataset)
    payload = {"dataset": config.dataset, "split": config.split, **report.to_dict(), "sequences": report.sequences}
    payload["reasoning"] = runner.reasoning_counts(names)
    atomic_write_text(runner.output / REPORT_FILE, json.dumps(payload, indent=1, default=jsonable) + "\n")
    return payload
