"""What the web demo costs tracking: the same run through ``track_to_folder`` alone and through the
demo's ``DemoRun`` (live frame kept for the page, thumbnails of each reasoning call, event list,
zip of the run folder), alternating, on a real OTB sequence with csrt + the heuristic reasoner.

    python benchmarks/bench_demo.py --sequence ../shared/data/sequences/Crossing --repeats 3

Prints the median seconds of each and their ratio (demo / plain) measured in this run; the page
itself (the browser sampling frames 10 times a second) is not part of it.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequence", default="../shared/data/sequences/Crossing", help="OTB-style sequence folder")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--interval", type=int, default=10)
    args = parser.parse_args()

    from reasoningtrack.datasets.parsing import read_box_table
    from reasoningtrack.demo.jobs import DemoRun
    from reasoningtrack.demo.models import ReasonerPool
    from reasoningtrack.pipeline.config import TrackRunConfig
    from reasoningtrack.pipeline.session import find_groundtruth, track_to_folder

    sequence = Path(args.sequence)
    images = sequence / "img" if (sequence / "img").is_dir() else sequence
    box = [float(v) for v in read_box_table(find_groundtruth(images))[0]]
    config = TrackRunConfig.from_dict({"input": str(images.resolve()), "box": box, "text": "the target",
                                       "backbone": "csrt", "reasoner": "heuristic",
                                       "pipeline": {"schedule": {"interval": {"every": args.interval}}}})
    pool = ReasonerPool()
    times: dict[str, list[float]] = {"plain": [], "demo": []}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeats):
            start = time.perf_counter()
            track_to_folder(config, Path(tmp) / f"plain-{k}")
            times["plain"].append(time.perf_counter() - start)
            start = time.perf_counter()
            run = DemoRun(config, Path(tmp) / f"demo-{k}", shared_reasoner=pool.client(config.reasoner, config.reasoner_options)).start()
            run.wait()
            times["demo"].append(time.perf_counter() - start)
            if run.error:
                raise SystemExit(f"demo run failed: {run.error}")
    pool.close()
    plain, demo = statistics.median(times["plain"]), statistics.median(times["demo"])
    print(f"{images}: plain track_to_folder {plain:.2f} s, through the demo {demo:.2f} s (median of {args.repeats}); "
          f"demo / plain = {demo / plain:.2f}")


if __name__ == "__main__":
    main()
