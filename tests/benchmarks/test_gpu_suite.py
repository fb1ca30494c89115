"""The prepared GPU suite (benchmarks/gpu_suite.py) runs end to end on a CPU with ``--tiny``: the
same four parts and code paths at tiny widths, one JSON file with every part's numbers."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_suite.py"


def _run(argv: list[str], monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *argv])
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    runpy.run_path(str(SCRIPT), run_name="__main__")


@pytest.mark.slow
def test_gpu_suite_tiny_on_cpu_writes_every_part(tmp_path, monkeypatch):
    out = tmp_path / "suite.json"
    _run(["--tiny", "--out", str(out)], monkeypatch)
    report = json.loads(out.read_text())
    assert report["tiny"] and report["errors"] == {}, report["errors"]
    parts = report["parts"]
    assert set(parts) == {"dutrack", "qwen", "end_to_end", "grpo"}
    assert all(parts["dutrack"][v]["track_fps"] > 0 for v in ("fp32", "bf16"))
    assert parts["qwen"]["batch_1_s"] > 0 and parts["qwen"]["batch_2_s"] > 0
    assert parts["qwen"]["batch_2_tokens_per_s"] > 0
    e2e = parts["end_to_end"]
    assert e2e["sync"]["reasoning_calls"] == 2  # frames 4 and 8 of 12, the sync run waits for both
    assert e2e["sync"]["fps"] > 0 and e2e["async"]["fps"] > 0 and e2e["async_over_sync"] > 0
    assert len(parts["grpo"]["step_s"]) == 2 and parts["grpo"]["completions_per_step"] > 0


def test_gpu_suite_refuses_to_run_without_a_gpu_unless_tiny(tmp_path, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the same check on a GPU machine
    with pytest.raises(SystemExit) as stop:
        _run(["--out", str(tmp_path / "x.json")], monkeypatch)
    assert stop.value.code == 2 and "no CUDA device" in capsys.readouterr().err
