"""Benchmark runs: every sequence of a dataset split through a ReasoningTracker, resumable,
parallel, shardable.

Output folder::

    DIR/config.yaml                 the BenchmarkConfig (a resumed run must match it)
    DIR/results/<seq>.txt           boxes, one x,y,w,h row per frame (toolkit layout);
                                    DIR/results/<NAME>_tracking_result/<seq>.txt with result_name
    DIR/reasoning/<seq>.jsonl       the reasoning events (no wall-clock fields: reproducible)
    DIR/timings/<seq>.json          speed of that sequence (the only files that differ between runs)
    DIR/failures.json               sequences that failed, with the error (only when some did);
                                    failures-shard-<i>-of-<N>.json for a shard
    DIR/report.json                 the official-protocol evaluation (not for shards / --no-eval)

A sequence is complete when its results and reasoning files exist; both are written atomically
(temporary file + ``os.replace``, reasoning first), so a run killed at any moment and restarted
skips complete sequences, redoes the rest and ends with the same bytes as an uninterrupted run
(synchronous reasoning; async mode depends on timing and is not reproducible).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..config import ConfigError
from .config import BenchmarkConfig
from .writers import events_to_jsonl

__all__ = ["BenchmarkRunner", "RunPlan", "SequenceOutcome", "parse_shard", "shard_names", "detect_gpus", "BenchmarkError"]


class BenchmarkError(RuntimeError):
    """Some sequences failed (listed in failures.json); raised after all others were run."""


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"i/N"`` with ``0 <= i < N`` (0-based, like ``$SLURM_ARRAY_TASK_ID`` arrays from 0)."""
    if text is None or text == "":
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not match:
        raise ConfigError(f"--shard {text!r}: expected i/N, e.g. 0/4")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 0 <= index < count:
        raise ConfigError(f"--shard {text!r}: need 0 <= i < N (shards are numbered from 0)")
    return index, count


def shard_names(names: list[str], shard: tuple[int, int] | None) -> list[str]:
    """Shard i of N takes positions i, i+N, i+2N, ... of the dataset's official order: a fixed
    partition, balanced in count, that does not depend on what is already on disk."""
    if shard is None:
        return list(names)
    index, count = shard
    return list(names[index::count])


def detect_gpus() -> list[str]:
    """GPU ids for one worker each: ``CUDA_VISIBLE_DEVICES`` when set, else ``nvidia-smi -L``."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [v.strip() for v in visible.split(",") if v.strip() and v.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(l for l in listing.splitlines() if l.startswith("GPU "))]


@dataclass
class SequenceOutcome:
    name: str
    ok: bool
    frames: int = 0
    seconds: float = 0.0
    reasoning_calls: int = 0
    updates: int = 0
    error: str | None = None
    traceback: str | None = None
    skipped: bool = False


@dataclass
class RunPlan:
    """Where one run writes; shared by the parent and the worker processes (picklable)."""

    config: BenchmarkConfig
    output: Path
    shard: tuple[int, int] | None = None

    @property
    def results_root(self) -> Path:
        return self.output / "results"

    def result_file(self, name: str) -> Path:
        from ..evaluation.results import result_path

        return result_path(self.results_root, name, "toolkit", self.config.result_name or None)

    def reasoning_file(self, name: str) -> Path:
        return self.output / "reasoning" / f"{name}.jsonl"

    def timing_file(self, name: str) -> Path:
        return self.output / "timings" / f"{name}.json"

    def complete(self, name: str) -> bool:
        return self.result_file(name).is_file() and self.reasoning_file(name).is_file()

    @property
    def failures_file(self) -> Path:
        if self.shard is None:
            return self.output / "failures.json"
        return self.output / f"failures-shard-{self.shard[0]}-of-{self.shard[1]}.json"


# ---------------------------------------------------------------------------------------------
# Work done for one sequence (in a worker process, a Ray actor or in-process)
# ---------------------------------------------------------------------------------------------


def load_dataset(config: BenchmarkConfig):
    from ..datasets import DATASETS

    return DATASETS.build(config.dataset, root=config.root, split=config.split, **dict(config.dataset_options))


def build_benchmark_tracker(config: BenchmarkConfig):
    from .session import build_tracker

    return build_tracker(config.tracker, config.tracker_options, config.reasoner, config.reasoner_options, config.pipeline)


def run_one_sequence(plan: RunPlan, dataset, tracker, name: str) -> SequenceOutcome:
    """Track one sequence and write its files (reasoning log first, boxes last = complete)."""
    from ..evaluation.results import write_boxes, write_text_atomic
    from ..sources import open_source

    start = time.perf_counter()
    try:
        sequence = dataset.load(name)
        source = open_source(sequence)
        try:
            run = tracker.run(source.frames(), sequence.init_box, sequence.description or "")
            boxes, events = [], []
            for result in run:
                boxes.append(result.box)
                if result.event is not None:
                    events.append(result.event)
            events.extend(run.closing_events)
        finally:
            source.close()
        if not boxes:
            raise ValueError(f"sequence {name!r} has no frames")
        summary = run.summary
        write_text_atomic(plan.reasoning_file(name), events_to_jsonl(events, timings=False))
        timing = summary.to_dict()
        timing["reasoning_latency_s"] = [e.latency_s for e in events if e.latency_s is not None]
        timing["cuda_visible_devices"] = os.environ.get("CUDA_VISIBLE_DEVICES")
        timing["worker_pid"] = os.getpid()
        write_text_atomic(plan.timing_file(name), json.dumps(timing, indent=1) + "\n")
        write_boxes(plan.result_file(name), np.asarray(boxes, dtype=np.float64).reshape(-1, 4))
        return SequenceOutcome(name, True, frames=summary.frames, seconds=time.perf_counter() - start,
                               reasoning_calls=summary.reasoning_calls, updates=summary.updates)
    except Exception as exc:  # noqa: BLE001 -- recorded per sequence, reported at the end
        return SequenceOutcome(name, False, seconds=time.perf_counter() - start,
                               error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())


def worker_main(plan: RunPlan, names: Any, outcomes: Any, device: str | None = None) -> int:
    """Take sequence names from ``names`` (a queue) until it is empty; put a SequenceOutcome per
    sequence into ``outcomes`` (a queue, or anything with ``put``).

    The backbone and the reasoner are built once per worker. ``device`` pins the worker to one GPU
    (``CUDA_VISIBLE_DEVICES``, set before anything imports torch in this process).
    """
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(device)
    dataset = load_dataset(plan.config)
    tracker = build_benchmark_tracker(plan.config)
    done = 0
    try:
        while True:
            try:
                name = names.get_nowait()
            except queue.Empty:
                break
            outcomes.put(run_one_sequence(plan, dataset, tracker, name))
            done += 1
    finally:
        tracker.close()
    return done


# ---------------------------------------------------------------------------------------------
# The runner
# ---------------------------------------------------------------------------------------------


@dataclass
class BenchmarkRunner:
    """Plan, run (local processes or Ray), record failures, evaluate."""

    config: BenchmarkConfig
    output: Path
    workers: int = 1
    shard: tuple[int, int] | None = None
    executor: str = "local"
    evaluate: bool = True
    on_outcome: Callable[[SequenceOutcome, int, int], None] | None = None
    outcomes: list[SequenceOutcome] = field(default_factory=list)

    def __post_init__(self):
        self.output = Path(self.output)
        if self.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {self.workers}")
        if self.executor not in ("local", "ray"):
            raise ConfigError(f"--executor must be local or ray, got {self.executor!r}")
        self.plan = RunPlan(self.config, self.output, self.shard)

    # -- planning -----------------------------------------------------------------------------
    def sequence_names(self) -> list[str]:
        dataset = load_dataset(self.config)
        names = dataset.sequence_names()
        if self.config.sequences:
            known = set(names)
            missing = [n for n in self.config.sequences if n not in known]
            if missing:
                raise ConfigError(f"{self.config.dataset} ({self.config.split}) under {self.config.root} has no sequence(s) {missing}")
            wanted = set(self.config.sequences)
            names = [n for n in names if n in wanted]
        return shard_names(names, self.shard)

    def prepare_output(self) -> None:
        """Check that the folder holds this configuration's results (or none) and save the config."""
        from ..config import load_yaml
        from ..evaluation.results import write_text_atomic

        self.output.mkdir(parents=True, exist_ok=True)
        saved_path = self.output / "config.yaml"
        mine = self.config.to_dict()
        if saved_path.is_file():
            saved = load_yaml(saved_path)
            if saved != mine:
                keys = sorted(k for k in set(saved) | set(mine) if saved.get(k) != mine.get(k))
                raise ConfigError(
                    f"{saved_path} holds results of another configuration (differs in {keys}); "
                    "use another --output or remove that folder"
                )
        else:
            write_text_atomic(saved_path, self.config.to_yaml())

    def remove_stale_temporaries(self, names: list[str]) -> None:
        """Temporary files of a killed run (its own sequences only: other shards may be writing)."""
        folders = {self.plan.result_file("x").parent, self.output / "reasoning", self.output / "timings"}
        own = set()
        for name in names:
            own.update({f"{name}.txt", f"{name}.jsonl", f"{name}.json", f"{name}_time.txt"})
        if self.shard is None:
            own.update({"config.yaml", "report.json", "failures.json"})
            folders.add(self.output)
        pattern = re.compile(r"^\.(.+)\.\d+\.tmp$")
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                match = pattern.match(path.name)
                if match and match.group(1) in own and path.is_file():
                    path.unlink()

    # -- running ------------------------------------------------------------------------------
    def run(self) -> list[SequenceOutcome]:
        names = self.sequence_names()
        self.prepare_output()
        self.remove_stale_temporaries(names)
        todo = [n for n in names if not self.plan.complete(n)]
        pending = set(todo)
        total = len(names)
        self.outcomes = []
        for name in names:
            if name not in pending:
                self._collect(SequenceOutcome(name, True, skipped=True), total)
        if todo:
            if self.executor == "ray":
                self._run_ray(todo, total)
            elif self.workers == 1:
                self._run_inline(todo, total)
            else:
                self._run_processes(todo, total)
        order = {n: i for i, n in enumerate(names)}
        self.outcomes.sort(key=lambda o: order.get(o.name, len(order)))
        self._write_failures()
        return self.outcomes

    def _collect(self, outcome: SequenceOutcome, total: int) -> None:
        self.outcomes.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome, len(self.outcomes), total)

    def _run_inline(self, todo: list[str], total: int) -> None:
        names: queue.Queue = queue.Queue()
        for name in todo:
            names.put(name)
        outcomes = _Forward(lambda o: self._collect(o, total))
        try:
            worker_main(self.plan, names, outcomes)
        except Exception as exc:  # noqa: BLE001 -- building the tracker failed: every sequence failed
            if _is_configuration_error(exc):
                raise
            self._fail_rest(todo, exc, total)

    def _run_processes(self, todo: list[str], total: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        gpus = detect_gpus()
        count = min(self.workers, len(todo))
        with context.Manager() as manager:
            names = manager.Queue()
            outcomes = manager.Queue()
            for name in todo:
                names.put(name)
            with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
                futures = [pool.submit(worker_main, self.plan, names, outcomes, gpus[k % len(gpus)] if gpus else None) for k in range(count)]
                received = 0
                while received < len(todo):
                    try:
                        self._collect(outcomes.get(timeout=0.2), total)
                        received += 1
                        continue
                    except queue.Empty:
                        pass
                    if all(f.done() for f in futures) and outcomes.empty():
                        break
                errors = [f.exception() for f in futures if f.exception() is not None]
            seen = {o.name for o in self.outcomes}
            missing = [n for n in todo if n not in seen]
            if missing and errors and _is_configuration_error(errors[0]):
                raise errors[0]
            if missing:
                cause = errors[0] if errors else RuntimeError("a worker process ended without finishing its sequences")
                self._fail_rest(missing, cause, total)

    def _run_ray(self, todo: list[str], total: int) -> None:
        try:
            import ray
        except ImportError as exc:
            raise ConfigError(
                "--executor ray needs Ray, which is not installed: pip install 'reasoningtrack[ray]' "
                "(or use the default --executor local)"
            ) from exc
        from ray.util import ActorPool

        if not ray.is_initialized():
            ray.init(address=os.environ.get("RAY_ADDRESS") or None)
        gpus_per_actor = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        actor_class = ray.remote(num_gpus=gpus_per_actor)(_RaySequenceActor)
        actors = [actor_class.remote(self.plan) for _ in range(min(self.workers, len(todo)))]
        pool = ActorPool(actors)
        for outcome in pool.map_unordered(lambda actor, name: actor.run.remote(name), todo):
            self._collect(outcome, total)

    def _fail_rest(self, names: list[str], exc: BaseException, total: int) -> None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        for name in names:
            if name not in {o.name for o in self.outcomes}:
                self._collect(SequenceOutcome(name, False, error=f"{type(exc).__name__}: {exc}", traceback=text), total)

    # -- failures and evaluation --------------------------------------------------------------
    @property
    def failures(self) -> list[SequenceOutcome]:
        return [o for o in self.outcomes if not o.ok]

    def _write_failures(self) -> None:
        from ..evaluation.results import write_text_atomic

        path = self.plan.failures_file
        if not self.failures:
            if path.exists():
                path.unlink()
            return
        data = [{"sequence": o.name, "error": o.error, "traceback": o.traceback} for o in self.failures]
        write_text_atomic(path, json.dumps(data, indent=1) + "\n")

    def evaluate_results(self) -> dict:
        """Score the results with the benchmark's official protocol and write report.json."""
        from ..evaluation import evaluate_trackers
        from ..evaluation.results import write_text_atomic

        dataset = load_dataset(self.config)
        names = [o.name for o in self.outcomes if o.ok]
        report = evaluate_trackers(dataset.select(names), {self.tracker_label: self.plan.result_file(names[0]).parent} if names else {},
                                   benchmark=self.config.dataset)
        payload = {"dataset": self.config.dataset, "split": self.config.split, **report.to_dict(), "sequences": report.sequences}
        write_text_atomic(self.output / "report.json", json.dumps(payload, indent=1, default=_jsonable) + "\n")
        return payload

    @property
    def tracker_label(self) -> str:
        return self.config.result_name or f"{self.config.tracker}+{self.config.reasoner}"


def _is_configuration_error(exc: BaseException) -> bool:
    """Errors that no sequence can get past (bad options, unknown names, missing weights): they
    stop the run with their message instead of being recorded against every sequence."""
    from ..datasets.base import DatasetError
    from ..reasoning.base import ReasonerError
    from ..registry import RegistryError
    from ..trackers.base import BackboneError

    return isinstance(exc, (ConfigError, RegistryError, BackboneError, ReasonerError, DatasetError))


def _jsonable(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to report.json")


class _Forward:
    """A queue-like sink that hands each outcome straight to a callback (in-process runs)."""

    def __init__(self, callback: Callable[[SequenceOutcome], None]):
        self.callback = callback

    def put(self, item: SequenceOutcome) -> None:
        self.callback(item)


class _RaySequenceActor:
    """One Ray actor: the tracker is built once, then sequences are run one by one."""

    def __init__(self, plan: RunPlan):
        self.plan = plan
        self.dataset = load_dataset(plan.config)
        self.tracker = build_benchmark_tracker(plan.config)

    def run(self, name: str) -> SequenceOutcome:
        return run_one_sequence(self.plan, self.dataset, self.tracker, name)
