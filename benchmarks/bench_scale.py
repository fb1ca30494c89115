"""Scaling out on this machine: (1) N concurrent sequences sharing one batched tiny-VLM reasoner vs
each calling its own copy; (2) the Ray executor's overhead over the local one.

    python benchmarks/bench_scale.py [--model DIR] [--workers 1 2 4] [--sequences 4] [--frames 40]
                                     [--interval 5] [--new-tokens 16] [--skip-ray]

(1) runs N tracking workers as threads of one process (KCF backbone on a generated synthetic
dataset, sync reasoning every ``--interval`` frames), once with one :class:`ReasoningService` over
one tiny Qwen2.5-VL (batched calls) and once with N reasoners (one model copy each). Without
``--model`` the tiny random model is built offline (a few layers: the figures measure batching
and generate's overhead, not a 3B model). (2) runs the same small benchmark with
``BenchmarkRunner`` locally (1 worker) and on a local Ray instance already started (its start-up
time is printed apart). All ratios come from this one run; the machine may be shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import queue
import tempfile
import threading
import time
from pathlib import Path


def track_all(dataset, names: list[str], backbone_factory, reasoners: list, pipeline) -> tuple[int, float]:
    """Run ``names`` with ``len(reasoners)`` worker threads; return (frames, seconds)."""
    from reasoningtrack.pipeline.tracker import ReasoningTracker
    from reasoningtrack.sources import open_source

    todo: queue.Queue = queue.Queue()
    for name in names:
        todo.put(name)
    frames = [0] * len(reasoners)

    def work(k: int) -> None:
        tracker = ReasoningTracker(backbone_factory(), reasoners[k], pipeline)
        while True:
            try:
                name = todo.get_nowait()
            except queue.Empty:
                break
            sequence = dataset.load(name)
            source = open_source(sequence)
            for _ in tracker.run(source.frames(), sequence.init_box, sequence.description or ""):
                frames[k] += 1
            source.close()
        tracker.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(reasoners))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(frames), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--sequences", type=int, default=4)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--interval", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--max-wait", type=float, default=1.0,
                        help="the service's max_wait_s (a batch also goes as soon as every worker has a request in)")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from reasoningtrack.datasets import DATASETS
    from reasoningtrack.datasets.synthetic import WorldConfig, write_dataset
    from reasoningtrack.pipeline.config import PipelineConfig
    from reasoningtrack.reasoning import REASONERS
    from reasoningtrack.reasoning.service import ReasoningService, ServiceConfig
    from reasoningtrack.trackers import BACKBONES

    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    model = args.model
    if model is None:
        from reasoningtrack.reasoning.tiny import build_tiny_qwen

        model = build_tiny_qwen(work / "tiny", seed=0)
    root = work / "data"
    write_dataset(root, sequences=args.sequences, seed=3, config=WorldConfig(frames=args.frames), splits=("test",))
    dataset = DATASETS.build("synthetic", root=str(root), split="test")
    names = dataset.sequence_names()
    pipeline = PipelineConfig.from_dict({"schedule": {"interval": {"every": args.interval}}})
    options = dict(model=str(model), max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens,
                   max_pixels=112 * 112, batch_size=max(args.workers))

    def backbone():
        return BACKBONES.build("kcf")

    print(f"{len(names)} sequences x {args.frames} frames, reasoning every {args.interval} frames, "
          f"{args.new_tokens} new tokens per call, tiny Qwen2.5-VL on CPU ({os.cpu_count()} cores visible), "
          f"max_wait {args.max_wait} s")
    print(f"{'N':>3} {'own fps':>9} {'shared fps':>11} {'shared/own':>11} {'batches':>24}")
    for n in args.workers:
        own = [REASONERS.build("qwen", **options) for _ in range(n)]
        f_own, s_own = track_all(dataset, names, backbone, own, pipeline)
        service = ReasoningService(REASONERS.build("qwen", **options), ServiceConfig(max_batch=n, max_wait_s=args.max_wait))
        shared = [service.client() for _ in range(n)]
        f_sh, s_sh = track_all(dataset, names, backbone, shared, pipeline)
        sizes = service.batch_sizes
        service.close()
        hist = {k: sizes.count(k) for k in sorted(set(sizes))}
        print(f"{n:>3} {f_own / s_own:>9.1f} {f_sh / s_sh:>11.1f} {(f_sh / s_sh) / (f_own / s_own):>11.2f} {str(hist):>24}")

    if args.skip_ray:
        return
    import ray

    from reasoningtrack.pipeline.config import BenchmarkConfig
    from reasoningtrack.pipeline.runner import BenchmarkRunner

    config = BenchmarkConfig.from_dict({"dataset": "synthetic", "root": str(root), "backbone": "kcf", "reasoner": "heuristic"})
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - start
    times = {}
    for executor in ("local", "ray", "local", "ray"):
        out = work / f"run-{executor}-{len(times)}"
        start = time.perf_counter()
        BenchmarkRunner(config, out, executor=executor, evaluate=False).run()
        times.setdefault(executor, []).append(time.perf_counter() - start)
    ray.shutdown()
    local, on_ray = min(times["local"]), min(times["ray"])
    print(f"executors on {len(names)} sequences (kcf + heuristic): local {local:.2f} s, ray {on_ray:.2f} s "
          f"(best of 2 each), ray/local = {on_ray / local:.2f}; ray.init took {ray_start:.1f} s (not included)")


if __name__ == "__main__":
    main()
