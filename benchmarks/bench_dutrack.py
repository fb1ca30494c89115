"""Speed of the full-size DUTrack-256 (random weights: compute does not depend on them).

Measures, per variant (precision, attention kernel, torch.compile):
  * forward: one steady-state network call, 4 templates + 3 query tokens (531 tokens), templates
    through the conv stages as the official code does;
  * forward-cached: the same with the template tokens computed earlier (what track() runs);
  * track: a whole DUTrackBackbone.track() step on a 640x480 frame in steady state (4 templates).
The variants are measured round-robin (one step of each in turn), so that a change of load on a
shared machine hits them all alike. Prints medians (and minima), the ratio to the first variant of
this run, and the ratio to the official anchor (fp32, 2 threads, this kind of 2-core machine:
forward 0.86-0.94 s, track 1.05-1.10 fps).

CPU (default):  python benchmarks/bench_dutrack.py --threads 2 --iters 5 --warmup 2 --ceiling
                (variants fp32 = the plain eager module, the default; fp32-fast = the fused kernels;
                fp32-ort = ONNX Runtime when installed; bf16-fast on CPUs with native bf16 only).
                "cpu s" is the CPU time of the cached forward (all threads), less sensitive to other
                processes than wall time; --ceiling adds the FLOP count and the GEMM rate bound.
GPU:            python benchmarks/bench_dutrack.py --device cuda --iters 50 --warmup 10
                (variants fp32, fp32-fast, bf16-fast, fp32-fast-compile unless --variants is given)
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from reasoningtrack.trackers.dutrack import build_network
from reasoningtrack.trackers.dutrack.config import tracker_config_for
from reasoningtrack.trackers.dutrack.tokenizer import TextTokenizer
from reasoningtrack.trackers.dutrack.tracker import DUTrackBackbone

ANCHOR_FORWARD_S = (0.86, 0.94)
ANCHOR_TRACK_FPS = (1.05, 1.10)
ANCHOR_PARAMETERS = 105_096_529
TEXT = "a red car driving on the road"


@dataclass(frozen=True)
class Variant:
    name: str
    dtype: torch.dtype
    attention: str
    compile: bool
    kernels: str = "reference"


VARIANTS = {
    "fp32": Variant("fp32", torch.float32, "explicit", False),
    "fp32-sdpa": Variant("fp32-sdpa", torch.float32, "sdpa", False),
    "fp32-fast": Variant("fp32-fast", torch.float32, "sdpa", False, "fast"),
    "fp32-ort": Variant("fp32-ort", torch.float32, "explicit", False, "onnxruntime"),
    "fp32-ort-spin": Variant("fp32-ort-spin", torch.float32, "explicit", False, "onnxruntime"),
    "bf16": Variant("bf16", torch.bfloat16, "sdpa", False),
    "bf16-fast": Variant("bf16-fast", torch.bfloat16, "sdpa", False, "fast"),
    "fp16": Variant("fp16", torch.float16, "sdpa", False),
    "fp32-compile": Variant("fp32-compile", torch.float32, "explicit", True),
    "fp32-fast-compile": Variant("fp32-fast-compile", torch.float32, "sdpa", True, "fast"),
    "bf16-compile": Variant("bf16-compile", torch.bfloat16, "sdpa", True),
}
# "fp32" is the plain eager module (the reference the tests compare with); "-fast" the fused
# kernels of trackers/dutrack/fast.py (opt-in: kernels=fast); "-ort" the per-frame network in ONNX
# Runtime (kernels=onnxruntime, optional extra).
DEFAULTS = {"cpu": ["fp32", "fp32-fast", "fp32-ort", "bf16-fast"],
            "cuda": ["fp32", "fp32-fast", "bf16-fast", "fp32-fast-compile"]}


def _cpu_defaults() -> list[str]:
    """CPU variants worth running here: ONNX Runtime when installed, bf16 only with native bf16 units."""
    names = ["fp32", "fp32-fast"]
    if importlib.util.find_spec("onnxruntime") is not None:
        names.append("fp32-ort")
    if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        names.append("bf16-fast")
    return names


def _tokenizer(vocab: str | None) -> TextTokenizer:
    """The given vocabulary, else a stand-in: token ids do not change the cost."""
    if vocab is not None:
        return TextTokenizer.from_options(vocab)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *TEXT.split()]
    path = Path(tempfile.mkdtemp()) / "vocab.txt"
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return TextTokenizer.from_options(path, True)


def _frames(n: int, height: int = 480, width: int = 640, seed: int = 0):
    """A textured background with a bright rectangle drifting right: realistic crop geometry."""
    rng = np.random.default_rng(seed)
    background = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    boxes = []
    frames = []
    for i in range(n):
        frame = background.copy()
        x, y = 200 + 3 * i, 200 + (i % 7)
        frame[y:y + 60, x:x + 80] = (220, 40, 40)
        frames.append(frame)
        boxes.append([x, y, 80, 60])
    return frames, boxes


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class VariantBench:
    """One variant's tracker and inputs; each ``time_*`` call runs and times one step."""

    def __init__(self, base_net, tokenizer, variant: Variant, device: torch.device, frames, boxes):
        self.variant, self.device, self.frames = variant, device, frames
        net = copy.deepcopy(base_net)
        net.set_attention_mode(variant.attention)  # type: ignore[arg-type]
        self.tracker = DUTrackBackbone(net, tokenizer, tracker_config_for(net.cfg), device=device,
                                       dtype=variant.dtype, compile=variant.compile, kernels=variant.kernels)
        self.model = self.tracker.net
        if variant.name.endswith("-spin"):  # ONNX Runtime's default thread behaviour, for comparison
            from reasoningtrack.trackers.dutrack.onnxrt import OnnxDUTrack

            self.tracker._engine = OnnxDUTrack(self.model, spin=True)
            self.tracker._forward = self.tracker._engine.forward_tokens
        engine = self.tracker._engine.forward if self.tracker._engine is not None else self.model
        self.forward = torch.compile(engine, dynamic=False) if variant.compile else engine
        gen = torch.Generator().manual_seed(1)
        size_z, size_x = net.cfg.template_size, net.cfg.search_size
        with torch.inference_mode():
            self.templates = [torch.randn(1, 3, size_z, size_z, generator=gen).to(device, variant.dtype) for _ in range(4)]
            self.search = torch.randn(1, 3, size_x, size_x, generator=gen).to(device, variant.dtype)
            self.query = torch.randn(1, net.cfg.query_tokens, net.cfg.embed_dim, generator=gen).to(device, variant.dtype)
            self.ids = torch.tensor([tokenizer.ids(TEXT)], device=device)
            self.tokens = self.model.stack_templates(self.templates)
            out = self.forward(self.templates, self.search, self.ids, self.query)
            self.pred = out.pred_boxes.float().cpu()
            self.features = out.backbone_feat.float().cpu()
        self.last_cpu = 0.0
        expected = net.cfg.query_tokens + 16 + 4 * (size_z // 16) ** 2 + (size_x // 16) ** 2
        assert out.backbone_feat.shape[1] == expected
        self.tracker.initialize(frames[0], boxes[0], TEXT)
        self.next_frame = 1
        for _ in range(5):  # from the 6th track() call on, four templates are fed
            self.time_track()

    def _timed(self, fn) -> float:
        _sync(self.device)
        start, cpu = time.perf_counter(), time.process_time()
        with torch.inference_mode():
            fn()
        _sync(self.device)
        self.last_cpu = time.process_time() - cpu  # CPU seconds of all threads: less sensitive to others' load
        return time.perf_counter() - start

    def time_forward(self) -> float:
        return self._timed(lambda: self.forward(self.templates, self.search, self.ids, self.query))

    def time_cached(self) -> float:
        return self._timed(lambda: self.tracker._forward(self.tokens, self.search, self.ids, self.query))

    def time_track(self) -> float:
        frame = self.frames[self.next_frame % len(self.frames)]
        self.next_frame += 1
        return self._timed(lambda: self.tracker.track(frame))

    def close(self) -> None:
        self.tracker.close()


def measure(benches: dict[str, VariantBench], warmup: int, iters: int) -> dict[str, dict[str, list[float]]]:
    """Round-robin over the variants so that a change of machine load hits them all alike."""
    times = {name: {"forward": [], "cached": [], "cached_cpu": [], "track": []} for name in benches}
    for round_index in range(warmup + iters):
        for name, bench in benches.items():
            sample = {"forward": bench.time_forward(), "cached": bench.time_cached()}
            sample["cached_cpu"] = bench.last_cpu
            sample["track"] = bench.time_track()
            if round_index >= warmup:
                for key, value in sample.items():
                    times[name][key].append(value)
        print(f"round {round_index + 1}/{warmup + iters} done", flush=True)
    return times


GEMM_SHAPES = ((531, 512, 1536), (531, 1536, 512), (531, 512, 512), (4096, 128, 384), (1024, 256, 768))


def gemm_rate(rounds: int = 5) -> dict[str, float]:
    """GFLOP/s of torch.mm on the forward's main GEMM shapes (M x K x N) and on 2048^3: the best of
    ``rounds`` (a peak: what the cores do when no other process takes them)."""
    rates = {}
    gen = torch.Generator().manual_seed(0)
    for m, k, n in (*GEMM_SHAPES, (2048, 2048, 2048)):
        a, b = torch.randn(m, k, generator=gen), torch.randn(k, n, generator=gen)
        torch.mm(a, b)
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            torch.mm(a, b)
            samples.append(time.perf_counter() - start)
        rates[f"{m}x{k}x{n}"] = 2 * m * k * n / min(samples) / 1e9
    return rates


def ceiling(net, bench: "VariantBench", measured_s: float, threads: int) -> None:
    """Print the FLOPs of one forward (cached templates), the GEMM rate of this machine and what
    they bound: no fp32 path computing the same products can beat FLOPs / peak rate.
    ``measured_s``: the first variant's best cached forward (best against best)."""
    from torch.profiler import ProfilerActivity, profile

    with torch.inference_mode(), profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        net.forward_tokens(bench.tokens, bench.search, bench.ids, bench.query)
    gflop = sum(e.flops for e in prof.key_averages() if e.flops) / 1e9
    rates = gemm_rate()
    peak = max(rates.values())
    print(f"\nceiling: one forward (cached templates) = {gflop:.1f} GFLOP of matrix products and convolutions "
          f"(profiler count); torch.mm on {threads} thread(s): " + ", ".join(f"{k} {v:.0f}" for k, v in rates.items())
          + f" GFLOP/s; at the best of these ({peak:.0f}) the forward takes >= {gflop / peak:.3f} s: at most "
          f"{measured_s / (gflop / peak):.2f}x the first variant's best cached forward ({measured_s:.3f} s) without "
          f"removing arithmetic; that forward ran at {gflop / measured_s:.0f} GFLOP/s.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads on CPU (anchor: 2)")
    parser.add_argument("--iters", type=int, default=5, help="timed iterations per measurement (median)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    parser.add_argument("--variants", default=None,
                        help=f"comma-separated, from {', '.join(VARIANTS)} (default cpu: {','.join(DEFAULTS['cpu'])}; "
                             f"cuda: {','.join(DEFAULTS['cuda'])})")
    parser.add_argument("--config", default="dutrack-256", help="architecture preset or file")
    parser.add_argument("--vocab", default=None, help="BERT vocab file (default: a small stand-in vocabulary)")
    parser.add_argument("--ceiling", action="store_true",
                        help="CPU: also count the forward's FLOPs and measure the GEMM rate of its shapes, "
                             "to print the fastest any fp32 path could be on this machine")
    args = parser.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda but CUDA is not available")
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    names = args.variants.split(",") if args.variants else (DEFAULTS["cuda"] if device.type == "cuda" else _cpu_defaults())
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    if device.type == "cpu" and "fp16" in names:
        parser.error("fp16 is for CUDA; use bf16 on CPU")

    base = build_network(args.config, random_init=True)
    numbers = sum(t.numel() for t in base.state_dict().values())
    tokenizer = _tokenizer(args.vocab)
    frames, boxes = _frames(6 + args.warmup + args.iters + 1)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"DUTrack {args.config}: {numbers:,} numbers in the state dict (official {ANCHOR_PARAMETERS:,}); {where}; "
          f"torch {torch.__version__}; median of {args.iters} after {args.warmup} warm-up")
    if device.type == "cpu":
        print(f"CPU bf16 support: {torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()}")

    benches = {}
    for name in names:
        print(f"preparing {name} ...", flush=True)
        benches[name] = VariantBench(base, tokenizer, VARIANTS[name], device, frames, boxes)
    times = measure(benches, args.warmup, args.iters)

    first = names[0]
    med = {n: {k: statistics.median(v) for k, v in times[n].items()} for n in names}
    anchor_forward = sum(ANCHOR_FORWARD_S) / 2
    anchor_fps = sum(ANCHOR_TRACK_FPS) / 2
    print()
    print(f"{'variant':14s} {'forward s':>10s} {'(min)':>7s} {'cached s':>9s} {'(min)':>7s} {'cpu s':>7s} {'track s':>8s} {'(min)':>7s} "
          f"{'track fps':>9s} {'x ' + first + ' fwd':>12s} {'x ' + first + ' cpu':>12s} {'x ' + first + ' trk':>12s} "
          f"{'x anchor fwd':>12s} {'x anchor fps':>12s} {'max|dbox|':>10s} {'max|dfeat|':>10s}")
    for name in names:
        m = med[name]
        fps = 1 / m["track"]
        dbox = float((benches[name].pred - benches[first].pred).abs().max())
        dfeat = float((benches[name].features - benches[first].features).abs().max())
        print(f"{name:14s} {m['forward']:10.3f} {min(times[name]['forward']):7.3f} {m['cached']:9.3f} "
              f"{min(times[name]['cached']):7.3f} "
              f"{m['cached_cpu']:7.3f} {m['track']:8.3f} {min(times[name]['track']):7.3f} {fps:9.2f} "
              f"{med[first]['forward'] / m['forward']:12.2f} {med[first]['cached_cpu'] / m['cached_cpu']:12.2f} "
              f"{med[first]['track'] / m['track']:12.2f} "
              f"{anchor_forward / m['forward']:12.2f} {fps / anchor_fps:12.2f} {dbox:10.2e} {dfeat:10.2e}")
    if args.ceiling and device.type == "cpu":
        ceiling(base, benches[first], min(times[first]["cached"]), args.threads)
    for bench in benches.values():
        bench.close()
    print(f"\nratios > 1 are faster. Anchor: official fp32 forward {ANCHOR_FORWARD_S[0]}-{ANCHOR_FORWARD_S[1]} s, "
          f"track {ANCHOR_TRACK_FPS[0]}-{ANCHOR_TRACK_FPS[1]} fps (2 threads, idle machine); ratios against it are "
          f"only meaningful on an idle machine of that kind. max|dbox|: largest difference of the forward's normalised box from {names[0]} (random weights, so an argmax may jump).")


if __name__ == "__main__":
    main()
