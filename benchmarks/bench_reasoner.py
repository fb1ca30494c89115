"""Reasoning-call latency of the in-process Qwen2.5-VL reasoner vs image size and batch size.

    python benchmarks/bench_reasoner.py [--model DIR] [--sizes 224 448 672] [--batches 1 2 4]
                                        [--new-tokens 32] [--repeats 3] [--frames-from DIR]

Without ``--model`` a tiny random Qwen2.5-VL is built offline in a temporary folder (a few layers:
the figures then measure the vision preprocessing, the vision tower's token count and generate's
overhead, not a real 3B model). Each request holds two square frames of the given side, and
``max_pixels`` is set to side*side so the processor keeps that size. Prints one table: median
latency per ``reason_batch`` call, per request, and the speed-up of batching over batch 1.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def frames(side: int, folder: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Two real frames resized to side x side, or two smooth synthetic ones."""
    if folder is not None:
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:2]
        if len(paths) == 2:
            return tuple(np.asarray(Image.open(p).convert("RGB").resize((side, side), Image.BICUBIC)) for p in paths)
    rng = np.random.default_rng(side)
    out = []
    for _ in range(2):
        small = rng.integers(0, 255, (side // 16, side // 16, 3), dtype=np.uint8)
        out.append(np.asarray(Image.fromarray(small).resize((side, side), Image.BICUBIC)))
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="checkpoint folder or hub id (default: a tiny model built now)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 448, 672])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames-from", type=Path, help="folder with two real frames (e.g. sample0001)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from reasoningtrack.reasoning import ReasoningRequest
    from reasoningtrack.reasoning.qwen import QwenConfig, QwenReasoner
    from reasoningtrack.reasoning.tiny import build_tiny_qwen

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(build_tiny_qwen(Path(tmp) / "tiny"))
        rows = []
        for side in args.sizes:
            reasoner = QwenReasoner(
                QwenConfig(
                    model=model,
                    device=args.device,
                    max_new_tokens=args.new_tokens,
                    min_new_tokens=args.new_tokens,
                    min_pixels=side * side,
                    max_pixels=side * side,
                    batch_size=max(args.batches),
                )
            )
            template, current = frames(side, args.frames_from)
            reasoner.reason(template, current, "warm-up")
            base = None
            for batch in args.batches:
                requests = [
                    ReasoningRequest(template, current, f"the target number {i} moving left") for i in range(batch)
                ]
                times, tokens = [], []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    reasoner.reason_batch(requests)
                    times.append(time.perf_counter() - start)
                    tokens.append(reasoner.last_generated_tokens)
                call = statistics.median(times)
                per_request = call / batch
                base = per_request if base is None else base
                rows.append(
                    (side, batch, reasoner.last_prompt_tokens // batch, statistics.median(tokens) / batch, call,
                     per_request, base / per_request)
                )
            reasoner.close()
    print(f"model: {args.model or 'tiny random Qwen2.5-VL (built offline)'}; device {args.device}; "
          f"{torch.get_num_threads()} threads; {args.new_tokens} new tokens forced; median of {args.repeats}")
    print(f"{'image':>9} {'batch':>5} {'prompt tok/req':>14} {'new tok/req':>11} {'call s':>8} {'s/request':>9} "
          f"{'speed-up vs batch 1':>19}")
    for side, batch, prompt, new, call, per_request, speedup in rows:
        print(f"{side:>4}x{side:<4} {batch:>5} {prompt:>14} {new:>11.0f} {call:>8.3f} {per_request:>9.3f} {speedup:>18.2f}x")


if __name__ == "__main__":
    main()
