"""DUTrack forward (full-size dutrack-256 by default, random weights, cached templates) per kernel and process environment, each
measurement in a FRESH process, the variants alternating round by round.

Why a process each: the allocator settings (glibc's MALLOC_* variables) and OpenMP's are read when
a process starts, and page faults depend on the process's allocation history. Reports the wall
time, the CPU time (all threads: less sensitive to other processes on a shared machine than wall
time) and the page faults of one forward, medians over rounds x calls.

    python benchmarks/bench_dutrack_processes.py --threads 1 --rounds 3
    python benchmarks/bench_dutrack_processes.py --threads 2 --variants plain,plain+malloc,onnxruntime
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20)}
VARIANTS = {
    "plain": ("reference", {}),
    "plain+malloc": ("reference", MALLOC),
    "fast": ("fast", {}),
    "fast+malloc": ("fast", MALLOC),
    "onnxruntime": ("onnxruntime", {}),
    "plain+omp-passive": ("reference", {"OMP_WAIT_POLICY": "PASSIVE"}),
    "plain+omp-bind": ("reference", {"OMP_PROC_BIND": "close", "OMP_PLACES": "cores"}),
}

CHILD = r"""
import json, resource, sys, time
import torch
from reasoningtrack.trackers.dutrack import build_network

kernels, threads, calls, config = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(threads)
net = build_network(config, random_init=True, seed=3).eval()
cfg = net.cfg
for parameter in net.parameters():
    parameter.requires_grad_(False)
if kernels == "fast":
    from reasoningtrack.trackers.dutrack.fast import FastDUTrack
    forward = FastDUTrack(net).forward_tokens
elif kernels == "onnxruntime":
    from reasoningtrack.trackers.dutrack.onnxrt import OnnxDUTrack
    forward = OnnxDUTrack(net).forward_tokens
else:
    forward = net.forward_tokens
gen = torch.Generator().manual_seed(1)
templates = [torch.randn(1, 3, cfg.template_size, cfg.template_size, generator=gen) for _ in range(4)]
search = torch.randn(1, 3, cfg.search_size, cfg.search_size, generator=gen)
query = torch.randn(1, cfg.query_tokens, cfg.embed_dim, generator=gen)
ids = torch.randint(0, 1000, (1, cfg.text_tokens), generator=gen)
rows = []
with torch.inference_mode():
    tokens = net.stack_templates(templates)
    for _ in range(2):
        forward(tokens, search, ids, query)
    for _ in range(calls):
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        wall, cpu = time.perf_counter(), time.process_time()
        forward(tokens, search, ids, query)
        rows.append([time.perf_counter() - wall, time.process_time() - cpu,
                     resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults])
print(json.dumps(rows))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--config", default="dutrack-256", help="architecture preset or file")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per variant, alternating")
    parser.add_argument("--calls", type=int, default=4, help="timed forwards per process (after 2 untimed)")
    parser.add_argument("--variants", default="plain,plain+malloc,fast,fast+malloc,onnxruntime",
                        help=f"comma-separated, from {', '.join(VARIANTS)}; the first is the reference of the ratios")
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    samples: dict[str, list[list[float]]] = {n: [] for n in names}
    for round_index in range(args.rounds):
        for name in names:
            kernels, env = VARIANTS[name]
            done = subprocess.run([sys.executable, "-c", CHILD, kernels, str(args.threads), str(args.calls), args.config],
                                  env={**os.environ, **env}, capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"{name}: the measuring process failed:\n{done.stderr[-2000:]}")
            samples[name] += json.loads(done.stdout.strip().splitlines()[-1])
        print(f"round {round_index + 1}/{args.rounds} done", flush=True)
    median = statistics.median
    first = names[0]
    ref_wall = median(r[0] for r in samples[first])
    ref_cpu = median(r[1] for r in samples[first])
    print(f"\nDUTrack {args.config} forward, cached templates, {args.threads} thread(s); medians of {args.rounds} processes "
          f"x {args.calls} calls")
    print(f"{'variant':18s} {'wall s':>7s} {'(min)':>7s} {'cpu s':>7s} {'faults':>8s} {'x wall':>7s} {'x cpu':>7s}")
    for name in names:
        wall = [r[0] for r in samples[name]]
        cpu = [r[1] for r in samples[name]]
        faults = median(r[2] for r in samples[name])
        print(f"{name:18s} {median(wall):7.3f} {min(wall):7.3f} {median(cpu):7.3f} {faults:8.0f} "
              f"{ref_wall / median(wall):7.2f} {ref_cpu / median(cpu):7.2f}")
    print(f"\nratios against {first}; > 1 is faster. malloc = {' '.join(f'{k}={v}' for k, v in MALLOC.items())}")


if __name__ == "__main__":
    main()
