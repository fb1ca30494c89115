"""The prepared GPU latency script runs end to end on a CPU with tiny widths (same code path)."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_qwen_latency.py"


def test_gpu_script_tiny_on_cpu(monkeypatch, capsys):
    argv = [str(SCRIPT), "--device", "cpu", "--tiny", "--dtype", "float32", "--new-tokens", "3",
            "--repeats", "1", "--batch", "2", "--image-size", "112", "--prompt-tokens", "24"]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(SCRIPT), run_name="__main__")
    report = json.loads(capsys.readouterr().out)
    assert report["image_tokens_each"] == 16 and report["resized_to"] == [112, 112]
    assert report["sequence_length"] == 24 + 2 * (16 + 2)
    assert report["batch"] == 2 and report["new_tokens"] == 3
    assert report["single_call_s"] > 0 and report["batched_call_s"] > 0


def test_real_architecture_numbers():
    """The script's config is the published 3B one: check the derived sizes, not just the file."""
    namespace = runpy.run_path(str(SCRIPT))
    config = namespace["build_config"](False)
    text, vision = config.text_config, config.vision_config
    assert (text.hidden_size, text.num_hidden_layers, text.num_attention_heads, text.num_key_value_heads) == (2048, 36, 16, 2)
    assert text.intermediate_size == 11008 and text.vocab_size == 151936
    assert sum(text.rope_parameters["mrope_section"]) * 2 == text.hidden_size // text.num_attention_heads
    assert (vision.depth, vision.hidden_size, vision.out_hidden_size, vision.num_heads) == (32, 1280, 2048, 16)
    tiny = namespace["build_config"](True)
    assert tiny.image_token_id == config.image_token_id == 151655
    assert sum(tiny.text_config.rope_parameters["mrope_section"]) * 2 == 64 // 4
