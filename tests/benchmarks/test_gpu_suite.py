"""The prepared GPU suite (benchmarks/gpu_suite.py) runs end to end on a CPU with ``--tiny``: the
same four parts and code paths at tiny widths, one JSON file with every part's numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_suite.py"


@pytest.mark.slow
def test_gpu_suite_tiny_on_cpu_writes_every_part(tmp_path):
    out = tmp_path / "suite.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--tiny", "--out", str(out)], capture_output=True, text=True,
                          timeout=1500, cwd=tmp_path, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
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


def test_gpu_suite_refuses_to_run_without_a_gpu_unless_tiny(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "x.json")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "no CUDA device" in done.stderr
