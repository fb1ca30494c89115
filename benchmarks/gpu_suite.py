"""One prepared GPU run (at most about 8 minutes) that writes one JSON file:

1. ``dutrack``: full-size DUTrack-256 with random weights, track() fps in fp32, bf16 and
   torch.compile (``bench_dutrack.py``'s variants, measured round-robin; ``--tiny``: small widths);
2. ``qwen``: the full Qwen2.5-VL-3B architecture with random weights, built offline from its
   published config (``gpu_qwen_latency.py``), generating a 300-token chain of thought for two
   512x512 images at batch 1, 4 and 16;
3. ``end_to_end``: tracking fps of DUTrack-256 + the 3B reasoner on one GPU, sync vs async
   (a reasoning call every ``--interval`` frames, exactly ``--new-tokens`` tokens each);
4. ``grpo``: GRPO step time at the release's batch shape (group of 5, completions of
   ``--completion-length`` tokens) with ``gpu_grpo_steps.py``.

    python benchmarks/gpu_suite.py --out gpu-suite.json          # on a GPU machine
    python benchmarks/gpu_suite.py --tiny --out suite.json       # CPU, tiny sizes: the same code paths

Each part runs with its own time limit; a part that fails or runs out of time is recorded with its
error and the others still run. Random weights: compute does not depend on their values, and a
random model writes its full token budget (``min_new_tokens``), so every call does the same work.
This script has never run on a GPU (see docs/cluster.md); ``--tiny`` is what the tests run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _last_json(text: str) -> dict:
    """The last top-level JSON object printed by a script (its report)."""
    start = text.rfind("\n{")
    start = 0 if start < 0 and text.startswith("{") else start + 1
    return json.loads(text[start:])


def _script(name: str, args: list[str], limit_s: float, in_process: bool = False) -> dict:
    """Run another benchmark script and return its JSON report: in a subprocess with a time limit
    (GPU runs: its memory is freed when it ends), or in this process (``--tiny``: no second start
    of torch and transformers, which costs more than the tiny work itself)."""
    if in_process:
        import contextlib
        import io
        import runpy

        saved, buffer = sys.argv, io.StringIO()
        sys.argv = [str(HERE / name), *args]
        try:
            with contextlib.redirect_stdout(buffer):
                runpy.run_path(str(HERE / name), run_name="__main__")
        finally:
            sys.argv = saved
        return _last_json(buffer.getvalue())
    done = subprocess.run([sys.executable, str(HERE / name), *args], capture_output=True, text=True, timeout=limit_s)
    if done.returncode != 0:
        raise RuntimeError(f"{name} exited with {done.returncode}: {done.stderr[-2000:]}")
    return _last_json(done.stdout)


def dutrack_network(tiny: bool):
    """Full-size DUTrack-256 with random weights, or (``--tiny``) the same architecture with small
    widths and depths, so that the CPU check runs the same code in seconds."""
    from reasoningtrack.trackers.dutrack import build_network
    from reasoningtrack.trackers.dutrack.config import DUTrackNetConfig

    if tiny:
        return build_network(DUTrackNetConfig(embed_dim=64, depth_stage1=1, depth_stage2=1, depth=2, num_heads=2,
                                              head_channels=32), random_init=True)
    return build_network("dutrack-256", random_init=True)


def part_dutrack(args) -> dict:
    import runpy

    import torch

    bench = runpy.run_path(str(HERE / "bench_dutrack.py"))
    device = torch.device(args.device)
    names = ["fp32", "bf16"] if args.tiny else ["fp32", "bf16", "fp32-compile", "bf16-compile"]
    iters, warmup = (1, 0) if args.tiny else (30, 5)
    base = dutrack_network(args.tiny)
    frames, boxes = bench["_frames"](6 + warmup + iters + 1)
    tokenizer = bench["_tokenizer"](None)
    benches = {name: bench["VariantBench"](base, tokenizer, bench["VARIANTS"][name], device, frames, boxes) for name in names}
    times = bench["measure"](benches, warmup, iters)
    for b in benches.values():
        b.close()
    return {name: {"track_fps": 1.0 / statistics.median(t["track"]), "forward_s": statistics.median(t["forward"]),
                   "forward_cached_s": statistics.median(t["cached"])} for name, t in times.items()}


def part_qwen(args) -> dict:
    common = ["--device", args.device, "--new-tokens", str(args.new_tokens), "--repeats", "1" if args.tiny else "2"]
    if args.tiny:
        common += ["--tiny", "--dtype", "float32", "--image-size", "112", "--prompt-tokens", "24"]
    out = {}
    for batch in args.batches[1:]:
        report = _script("gpu_qwen_latency.py", [*common, "--batch", str(batch)], args.part_limit_s, in_process=args.tiny)
        out.setdefault("batch_1_s", report["single_call_s"])
        out[f"batch_{batch}_s"] = report["batched_call_s"]
        out["details"] = out.get("details", []) + [report]
    for batch in args.batches:
        out[f"batch_{batch}_tokens_per_s"] = batch * args.new_tokens / out[f"batch_{batch}_s"]
    return out


def part_end_to_end(args, workdir: Path) -> dict:
    """The real ReasoningTracker with a backbone and the in-process qwen reasoner on one device."""
    import runpy

    import numpy as np

    from reasoningtrack.pipeline.config import PipelineConfig
    from reasoningtrack.pipeline.tracker import ReasoningTracker
    from reasoningtrack.reasoning import REASONERS
    from reasoningtrack.reasoning.tiny import build_tiny_qwen

    sizes = runpy.run_path(str(HERE / "gpu_grpo_steps.py"))["SIZES"]
    model_dir = build_tiny_qwen(workdir / "qwen", seed=0, **sizes["tiny" if args.tiny else "3b"])
    reasoner = REASONERS.build("qwen", model=str(model_dir), device=args.device,
                               dtype="float32" if args.tiny else "bfloat16", max_new_tokens=args.new_tokens,
                               min_new_tokens=args.new_tokens, max_pixels=512 * 512, local_files_only=True)
    import torch

    from reasoningtrack.trackers.dutrack.config import tracker_config_for
    from reasoningtrack.trackers.dutrack.tracker import DUTrackBackbone

    net = dutrack_network(args.tiny)
    tokenizer = runpy.run_path(str(HERE / "bench_dutrack.py"))["_tokenizer"](None)
    backbone = DUTrackBackbone(net, tokenizer, tracker_config_for(net.cfg), device=torch.device(args.device),
                               dtype=torch.float32 if args.tiny else torch.bfloat16)
    rng = np.random.default_rng(0)
    background = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    frames = []
    for i in range(args.frames):
        frame = background.copy()
        frame[200:260, 200 + 2 * i:280 + 2 * i] = (220, 40, 40)
        frames.append(frame)
    out = {"frames": args.frames, "interval": args.interval, "new_tokens": args.new_tokens}
    for mode in ("sync", "async"):
        pipeline = PipelineConfig.from_dict({"mode": mode, "schedule": {"interval": {"every": args.interval}}})
        tracker = ReasoningTracker(backbone, reasoner, pipeline)
        start = time.perf_counter()
        run = tracker.run(iter(frames), [200, 200, 80, 60], "a red car")
        count = sum(1 for _ in run)
        seconds = time.perf_counter() - start
        out[mode] = {"fps": count / seconds, "seconds": seconds, "reasoning_calls": run.summary.reasoning_calls,
                     "skipped_busy": run.summary.skipped_busy}
    out["async_over_sync"] = out["async"]["fps"] / out["sync"]["fps"]
    backbone.close()
    reasoner.close()
    return out


def part_grpo(args, workdir: Path) -> dict:
    if args.tiny:
        extra = ["--device", "cpu", "--tiny", "--steps", "2", "--completion-length", "4", "--image-size", "56"]
    else:
        extra = ["--size", "3b", "--steps", "3", "--generations", "5", "--completion-length", str(args.completion_length),
                 "--image-size", "448"]
    return _script("gpu_grpo_steps.py", [*extra, "--workdir", str(workdir / "grpo")], args.part_limit_s, in_process=args.tiny)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    parser.add_argument("--tiny", action="store_true", help="CPU, tiny sizes (the tested path)")
    parser.add_argument("--parts", default="dutrack,qwen,end_to_end,grpo")
    parser.add_argument("--new-tokens", type=int, default=None, help="chain-of-thought length (default 300; tiny 4)")
    parser.add_argument("--batches", type=int, nargs="+", default=None, help="default 1 4 16 (tiny: 1 2)")
    parser.add_argument("--frames", type=int, default=None, help="end-to-end frames (default 300; tiny 12)")
    parser.add_argument("--interval", type=int, default=None, help="frames between reasoning calls (default 50; tiny 4)")
    parser.add_argument("--completion-length", type=int, default=256, help="GRPO completion tokens")
    parser.add_argument("--part-limit-s", type=float, default=None, help="time limit per part (default 110; tiny 300)")
    args = parser.parse_args()
    args.device = "cpu" if args.tiny else "cuda"
    args.new_tokens = args.new_tokens or (4 if args.tiny else 300)
    args.batches = args.batches or ([1, 2] if args.tiny else [1, 4, 16])
    args.frames = args.frames or (12 if args.tiny else 300)
    args.interval = args.interval or (4 if args.tiny else 50)
    args.part_limit_s = args.part_limit_s or (300.0 if args.tiny else 110.0)
    if args.batches[0] != 1:
        parser.error("--batches must start with 1 (the single-call latency)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    if not args.tiny and not torch.cuda.is_available():
        parser.error("no CUDA device: run on a GPU machine, or pass --tiny for the CPU check")
    report: dict = {"tiny": args.tiny, "device": torch.cuda.get_device_name(0) if not args.tiny else platform.processor() or "cpu",
                    "torch": torch.__version__, "python": platform.python_version(), "args": {k: str(v) for k, v in vars(args).items()},
                    "parts": {}, "errors": {}, "seconds": {}}
    workdir = Path(tempfile.mkdtemp(prefix="gpu-suite-"))
    started = time.perf_counter()
    for name in [p.strip() for p in args.parts.split(",") if p.strip()]:
        part = {"dutrack": lambda: part_dutrack(args), "qwen": lambda: part_qwen(args),
                "end_to_end": lambda: part_end_to_end(args, workdir), "grpo": lambda: part_grpo(args, workdir)}.get(name)
        if part is None:
            parser.error(f"unknown part {name!r}")
        t0 = time.perf_counter()
        try:
            report["parts"][name] = part()
        except Exception as exc:  # noqa: BLE001 -- one failed part must not cost the others' numbers
            report["errors"][name] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()[-1500:]}"
        report["seconds"][name] = time.perf_counter() - t0
        if torch.cuda.is_available() and not args.tiny:
            torch.cuda.empty_cache()
        args.out.write_text(json.dumps(report, indent=1) + "\n")  # keep what is done if the run is cut
        print(f"{name}: {'ok' if name in report['parts'] else 'FAILED'} in {report['seconds'][name]:.1f} s", flush=True)
    report["total_s"] = time.perf_counter() - started
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: report[k] for k in ("parts", "errors", "total_s")}, indent=1)[:4000])


if __name__ == "__main__":
    main()
