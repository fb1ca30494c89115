"""`benchmark --workers 2 --shared-reasoner`: two worker processes, one tiny Qwen2.5-VL loaded once
in the parent, batched calls; sync results byte-identical to one process calling its own model."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from reasoningtrack.cli import app

from pipeline_fakes import SYNTHETIC_SEQUENCES as SEQUENCES


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] != "timings"
    }


def test_shared_tiny_qwen_gives_the_bytes_of_one_model_per_worker(synthetic_root, tiny_qwen_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    args = ["benchmark", "--dataset", "synthetic", "--root", str(synthetic_root), "--backbone", "kcf", "--reasoner", "qwen",
            "--model", str(tiny_qwen_dir), "--reasoner-opt", "max_new_tokens=6", "--reasoner-opt", f"max_pixels={56 * 56}",
            "--interval", "10", "--no-eval", "--on-reasoner-error", "continue"]  # a random model writes no tags
    alone = CliRunner().invoke(app, [*args, "--output", str(tmp_path / "alone")])
    assert alone.exit_code == 0, alone.output
    shared = CliRunner().invoke(app, [*args, "--output", str(tmp_path / "shared"), "--workers", "2", "--shared-reasoner",
                                      "--max-wait", "0.5"])
    assert shared.exit_code == 0, shared.output
    assert files_of(tmp_path / "shared") == files_of(tmp_path / "alone")
    events = [json.loads(line) for p in sorted((tmp_path / "shared" / "reasoning").glob("*.jsonl")) for line in p.read_text().splitlines()]
    assert len(events) == 2 * SEQUENCES and all(e["raw"] for e in events)  # the model answered every call
    pids = {json.loads(p.read_text())["worker_pid"] for p in (tmp_path / "shared" / "timings").glob("*.json")}
    assert os.getpid() not in pids  # tracked in worker processes, answered by the parent's one model
