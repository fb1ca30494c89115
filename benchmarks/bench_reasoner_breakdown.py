"""Where a reasoning call's time goes: the vision tower, the prompt's prefill, and decoding.

    python benchmarks/bench_reasoner_breakdown.py [--model DIR] [--frame WxH ...] [--answers 1 32 128]
                                                  [--repeats 3] [--threads 1] [--device cpu]

One call = two frames (template, current) + the release prompt, answered with exactly N new
tokens (``min_new_tokens = max_new_tokens = N``). For each frame size the script times calls with
every N in ``--answers`` and splits them:

- vision: the vision tower's forward (timed with forward hooks on ``model.visual``), which grows
  with the image tokens;
- prefill: a call with N=1 minus the vision time (the language model over the whole prompt,
  image tokens included, plus the processor and generate's fixed cost);
- decode: ``(t(N) - t(1)) / (N - 1)`` per generated token (a least-squares slope over all N).

Frames are sized by the reasoner's own bounds: ``--bounds release`` (the default of every
reasoner: 244x244..512x512 pixels, the release's GRPO config) or ``--bounds processor`` (the
processor's own, as a server with default settings would use: full frames up to 12.8 MP). Without
``--model`` a tiny random Qwen2.5-VL is built offline (``reasoning/tiny.py``): absolute times are
then those of a 0.2 M-parameter model, the *shares* show how cost scales with image and answer
length; pass ``--model`` with a real checkpoint for real figures.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _frame(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    from PIL import Image

    small = rng.integers(0, 255, (max(2, height // 16), max(2, width // 16), 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.BICUBIC))


def _visual(model):
    for path in ("model.visual", "visual"):
        obj = model
        try:
            for name in path.split("."):
                obj = getattr(obj, name)
            return obj
        except AttributeError:
            continue
    raise SystemExit("cannot find the vision tower (model.visual) of this model")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="checkpoint folder or hub id (default: a tiny model built now)")
    ap.add_argument("--frame", nargs="+", default=["244x244", "512x512", "1280x720"], help="frame sizes WxH")
    ap.add_argument("--answers", type=int, nargs="+", default=[1, 32, 128], help="new tokens per call (forced)")
    ap.add_argument("--bounds", choices=("release", "processor", "both"), default="both")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    answers = sorted(set(args.answers) | {1})

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from reasoningtrack.reasoning import ReasoningRequest
    from reasoningtrack.reasoning.qwen import QwenConfig, QwenReasoner
    from reasoningtrack.reasoning.tiny import build_tiny_qwen

    bounds = ["release", "processor"] if args.bounds == "both" else [args.bounds]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # the tiny model's saved processor bounds are 56²..224²: give it the usual Qwen2.5-VL ones
        model = args.model or str(build_tiny_qwen(Path(tmp) / "tiny", min_pixels=3136, max_pixels=12845056))
        for bound in bounds:
            extra = {} if bound == "release" else {"min_pixels": None, "max_pixels": None}
            reasoner = QwenReasoner(QwenConfig(model=model, device=args.device, max_new_tokens=max(answers), **extra))
            for size in args.frame:
                w, h = (int(v) for v in size.lower().split("x"))
                request = ReasoningRequest(_frame(w, h, 0), _frame(w, h, 1), "the red car driving on the left lane")
                times: dict[int, float] = {}
                prompt_tokens = 0
                vis = []
                for n in answers:
                    r = reasoner
                    r.config = r.config.replace(max_new_tokens=n, min_new_tokens=n)  # configs are frozen; read at every call
                    r.reason_batch([request])  # warm-up (first-call allocations)
                    tower = _visual(r.model)
                    marks: list[float] = []
                    hooks = [
                        tower.register_forward_pre_hook(lambda *_: marks.append(time.perf_counter())),
                        tower.register_forward_hook(lambda *_: marks.append(time.perf_counter())),
                    ]
                    samples = []
                    for _ in range(args.repeats):
                        marks.clear()
                        start = time.perf_counter()
                        r.reason_batch([request])
                        samples.append(time.perf_counter() - start)
                        if n == 1 and len(marks) >= 2:
                            vis.append(marks[1] - marks[0])
                    for hook in hooks:
                        hook.remove()
                    times[n] = statistics.median(samples)
                    prompt_tokens = r.last_prompt_tokens
                vision = statistics.median(vis) if vis else float("nan")
                ns = np.array(answers, dtype=float)
                ts = np.array([times[n] for n in answers])
                slope = float(np.polyfit(ns, ts, 1)[0]) if len(ns) > 1 else float("nan")
                prefill = times[1] - vision
                rows.append((bound, size, prompt_tokens, vision, prefill, slope, times))
            reasoner.close()
    print(f"model: {args.model or 'tiny random Qwen2.5-VL (built offline)'}; device {args.device}; "
          f"{torch.get_num_threads()} thread(s); median of {args.repeats}; release bounds = 244²..512² pixels")
    head = " ".join(f"{'t(' + str(n) + ')':>8}" for n in answers)
    print(f"{'bounds':9} {'frame':>10} {'prompt tok':>10} {'vision s':>9} {'prefill s':>9} {'decode s/tok':>12} {head}  "
          f"{'image share of t(' + str(answers[-1]) + ')':>24}")
    for bound, size, tokens, vision, prefill, slope, times in rows:
        last = times[answers[-1]]
        share = (vision + prefill) / last if last > 0 else float("nan")
        cells = " ".join(f"{times[n]:8.3f}" for n in answers)
        print(f"{bound:9} {size:>10} {tokens:>10d} {vision:9.3f} {prefill:9.3f} {slope:12.4f} {cells}  {share:23.0%}")


if __name__ == "__main__":
    main()
