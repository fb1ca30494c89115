"""What the run summary counts (issue 10, items 2 and 13): a text change only when the text
changes, re-applications and reverts apart, failed calls by kind -- garbage included, also under
the release's rule that reverts on it."""

from __future__ import annotations

import numpy as np
import pytest
from pipeline_fakes import ReplayBackbone, numbered_frames

from reasoningtrack.pipeline import PipelineConfig, ReasoningTracker
from reasoningtrack.pipeline.session import absolute_paths
from reasoningtrack.reasoning.base import Reasoner
from reasoningtrack.reasoning.parser import parse_with

INITIAL = "a grey box"
SCRIPT = [
    "<think>a</think><d>yes</d><answer>a grey box turning</answer>",  # updated
    "<think>b</think><d>yes</d><answer>a grey box turning</answer>",  # the same text again: reapplied
    "<think>c</think><d>no</d><answer>a grey box</answer>",  # reverted
    "<think>d</think><d>no</d><answer>a grey box</answer>",  # kept (already the initial text)
    RuntimeError("server down"),  # error
    "I cannot tell.",  # garbage: unusable (the release reverts on it; counted as a failure)
    "<think>e</think><d>yes</d><answer>a grey box far away</answer>",  # updated
]


class Scripted(Reasoner):
    def __init__(self):
        self.calls = 0

    def reason(self, template, current, description, context=None):
        item = SCRIPT[self.calls]
        self.calls += 1
        if isinstance(item, BaseException):
            raise item
        return parse_with("release", item, description)


@pytest.mark.parametrize("on_failure", ["revert", "keep"])
def test_summary_counts_changes_reapplications_reverts_and_failures(on_failure):
    count = 10 * len(SCRIPT) + 2
    backbone = ReplayBackbone(np.tile([10.0, 10.0, 20.0, 20.0], (count, 1)))
    config = PipelineConfig.from_dict({"schedule": {"triggers": ["interval"], "interval": {"every": 10}},
                                       "policy": {"on_failure": on_failure}, "timeout_s": 0})
    run = ReasoningTracker(backbone, Scripted(), config).run(numbered_frames(count), backbone.boxes[0], INITIAL)
    events = [r.event for r in run if r.event is not None]
    assert [e.status for e in events] == ["updated", "reapplied", "reverted", "kept", "error", "unusable", "updated"]
    summary = run.summary
    assert (summary.reasoning_calls, summary.updates, summary.reapplied, summary.reverts) == (7, 2, 1, 1)
    assert summary.text_changes == sum(e.text_applied != e.text_before for e in events)  # agrees with the log
    assert summary.failure_counts() == {"error": 1, "timeout": 0, "unusable": 1} and summary.errors == 2
    assert "7 reasoning calls: 3 text changes (2 updates, 1 reverts), 1 re-applied" in summary.describe()
    assert "2 failed (1 error, 1 unusable)" in summary.describe()
    record = summary.to_dict()
    assert record["text_changes"] == 3 and record["reapplied"] == 1 and record["unusable"] == 1


def test_absolute_paths_resolves_existing_relative_paths_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "release").mkdir()
    (tmp_path / "p.yaml").write_text("x")
    options = {"checkpoint": "ckpt", "model": "Qwen/Qwen2.5-VL-3B-Instruct", "base_url": "http://h:1/v1", "n": 3,
               "prompt": "release", "template": "p.yaml"}
    assert absolute_paths(options) == {**options, "checkpoint": str(tmp_path / "ckpt"), "template": str(tmp_path / "p.yaml")}
